//! Text from documents and photos, through the sandbox as users, with flood control on: a Russian and an
//! English user send the real PDF, DOCX, Windows-1251 text and page photo; each gets the beginning of the
//! text in the chat with a summary (pages, characters, words, language) and the whole as a `.txt`
//! document, and pays once per job. Bad inputs (a password-protected PDF, binary data named `.txt`, a
//! photo without text) are told in plain words and cost nothing.

use std::time::Duration;

use mediabot_proto::catalog::price_of;
use mediabot_proto::jobs::v1::Operation;
use pdf_extract::{Object, dictionary};
use telegram_sandbox::client::Message;

use crate::harness::{Options, System, User, button, fixture};

const WELCOME_CREDIT: i64 = 3000;

/// The lines printed on page-photo-ru-en.jpg, in reading order.
const PHOTO_LINES: &[&str] = &[
    "Отчёт о работе отдела за третий квартал.",
    "Выручка выросла на 12 процентов по сравнению с прошлым годом.",
    "Главная задача следующего квартала — запуск нового сервиса.",
    "Quarterly report of the engineering team.",
    "Revenue grew by 12 percent compared to last year.",
];

/// The true lines of the fixtures (docs/README-texts.txt).
fn true_lines() -> Vec<String> {
    std::fs::read_to_string(fixture("docs/README-texts.txt"))
        .unwrap()
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// Character error rate: Levenshtein distance over characters (whitespace runs collapsed) divided by
/// the reference's length.
fn cer(text: &str, reference: &str) -> f64 {
    let normal = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (text, reference) = (normal(text), normal(reference));
    strsim::levenshtein(&text, &reference) as f64 / reference.chars().count().max(1) as f64
}

/// The fixture PDF behind a standard security handler whose user password is not empty.
fn encrypted_pdf() -> Vec<u8> {
    let bytes = std::fs::read(fixture("docs/report-ru-en.pdf")).unwrap();
    let mut doc = pdf_extract::Document::load_mem(&bytes).unwrap();
    let encrypt = doc.add_object(dictionary! {
        "Filter" => "Standard",
        "V" => 1,
        "R" => 2,
        "O" => Object::string_literal(vec![0x11u8; 32]),
        "U" => Object::string_literal(vec![0x22u8; 32]),
        "P" => -44,
    });
    doc.trailer.set("Encrypt", encrypt);
    doc.trailer.set(
        "ID",
        vec![
            Object::string_literal(vec![1u8; 16]),
            Object::string_literal(vec![1u8; 16]),
        ],
    );
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A white picture with nothing written on it, as PNG.
fn blank_png() -> Vec<u8> {
    let white = image::RgbImage::from_pixel(800, 600, image::Rgb([255, 255, 255]));
    let mut bytes = Vec::new();
    image::DynamicImage::from(white)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

/// What the bot sent for one job: the text message and the `.txt` document's name and contents.
struct Reply {
    text: String,
    file_name: String,
    file: String,
}

/// Waits for the text with the summary (it has the balance line) and the `.txt` document, both replying
/// to `source`.
async fn text_reply(system: &mut System, user: &User, source: i64) -> Reply {
    let is_summary = |m: &Message| {
        m.reply_to_message_id() == Some(source)
            && (m.text_or_caption().contains("Balance:") || m.text_or_caption().contains("Баланс:"))
    };
    let text = user
        .wait_for_bot_message(
            system,
            source,
            Duration::from_secs(120),
            "with the text",
            is_summary,
        )
        .await;
    let document = user
        .wait_for_bot_message(
            system,
            source,
            Duration::from_secs(60),
            "with the .txt",
            |m| m.reply_to_message_id() == Some(source) && m.file_id().is_some(),
        )
        .await;
    let json = serde_json::to_value(&document).unwrap();
    let file_name = json["document"]["file_name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let file = String::from_utf8(user.file(document.file_id().unwrap()).await).unwrap();
    Reply {
        text: text.text_or_caption().to_string(),
        file_name,
        file,
    }
}

/// Sends `bytes` as a document named `name` and returns the message id.
async fn send_document(user: &User, bytes: Vec<u8>, name: &str) -> i64 {
    user.chat()
        .send_document(telegram_sandbox::client::InputFile::bytes(bytes, name))
        .await
        .unwrap()
        .message_id
}

/// Waits for the bot's reply to `source` that contains `needle`.
async fn told(system: &mut System, user: &User, source: i64, needle: &str) -> String {
    user.wait_for_bot_message(system, source, Duration::from_secs(90), needle, |m| {
        m.reply_to_message_id() == Some(source) && m.text_or_caption().contains(needle)
    })
    .await
    .text_or_caption()
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_get_the_text_of_documents_and_photos_and_pay_once_per_job() {
    let mut system = System::start(Options {
        welcome_credit_minor: Some(WELCOME_CREDIT),
        ..Options::default()
    })
    .await;
    assert!(
        system.sandbox().flood_control().await.unwrap(),
        "flood control is on"
    );
    let prices = system.prices().await;
    let document_price = price_of(&prices, &Operation::document_text("ru"), 0)
        .unwrap()
        .0;
    let ocr_price = price_of(&prices, &Operation::ocr("ru"), 0).unwrap().0;
    assert!(document_price > 0 && ocr_price > 0);

    // Russian: the PDF, the DOCX, the Windows-1251 notes and the page photo sent as a file.
    let ru = system.user(7601, "ru");
    let pdf = send_document(
        &ru,
        std::fs::read(fixture("docs/report-ru-en.pdf")).unwrap(),
        "report-ru-en.pdf",
    )
    .await;
    let reply = text_reply(&mut system, &ru, pdf).await;
    assert!(reply.text.contains("PDF, страниц: 3"), "{}", reply.text);
    assert!(
        reply.text.contains("Язык: русский, английский"),
        "{}",
        reply.text
    );
    assert!(
        reply.text.contains("Отчёт о работе отдела"),
        "{}",
        reply.text
    );
    assert_eq!(reply.file_name, "report-ru-en.txt");
    for line in true_lines() {
        assert!(
            reply.file.contains(&line),
            "{line:?} missing from the .txt:\n{}",
            reply.file
        );
    }

    let docx = send_document(
        &ru,
        std::fs::read(fixture("docs/minutes-ru-en.docx")).unwrap(),
        "minutes-ru-en.docx",
    )
    .await;
    let reply = text_reply(&mut system, &ru, docx).await;
    assert!(
        reply.text.starts_with("📄 DOCX") || reply.text.contains("📄 DOCX"),
        "{}",
        reply.text
    );
    let table_rows = reply
        .file
        .lines()
        .filter(|l| l.matches(" | ").count() == 1)
        .count();
    assert_eq!(table_rows, 2, "the 2×2 table as two rows:\n{}", reply.file);

    let notes = send_document(
        &ru,
        std::fs::read(fixture("docs/notes-cp1251.txt")).unwrap(),
        "notes-cp1251.txt",
    )
    .await;
    let reply = text_reply(&mut system, &ru, notes).await;
    assert!(
        reply.text.contains("кодировка windows-1251"),
        "{}",
        reply.text
    );
    assert!(
        reply
            .file
            .contains("Отчёт о работе отдела за третий квартал."),
        "{}",
        reply.file
    );

    let photo = fixture("docs/page-photo-ru-en.jpg");
    let (source, offer) = ru
        .send_for_offer(&mut system, "document", &photo, "image/jpeg")
        .await;
    ru.press(offer.message_id, &button(&offer, &Operation::ocr("ru")))
        .await;
    let reply = text_reply(&mut system, &ru, source).await;
    assert!(reply.text.contains("Распознано с фото"), "{}", reply.text);
    let rate = cer(&reply.file, &PHOTO_LINES.join("\n"));
    assert!(rate <= 0.05, "CER {rate:.3}:\n{}", reply.file);
    system
        .wait_for_balance(7601, WELCOME_CREDIT - 3 * document_price - ocr_price)
        .await;

    // English: the PDF, and a photo (Telegram re-encodes it) with the button in English.
    let en = system.user(7602, "en");
    let pdf = send_document(
        &en,
        std::fs::read(fixture("docs/report-ru-en.pdf")).unwrap(),
        "report.pdf",
    )
    .await;
    let reply = text_reply(&mut system, &en, pdf).await;
    assert!(reply.text.contains("PDF, 3 pages"), "{}", reply.text);
    assert!(
        reply.text.contains("Language: Russian, English"),
        "{}",
        reply.text
    );
    assert!(
        reply
            .file
            .contains("Revenue grew by 12 percent compared to last year."),
        "{}",
        reply.file
    );
    let (source, offer) = en
        .send_for_offer(&mut system, "photo", &photo, "image/jpeg")
        .await;
    let ocr = Operation::ocr("en");
    assert!(
        offer
            .buttons()
            .any(|b| b.text.starts_with("Text from photo")
                && b.callback_data.as_deref() == Some(ocr.callback_data().as_str())),
        "{offer:?}"
    );
    en.press(offer.message_id, &button(&offer, &ocr)).await;
    let reply = text_reply(&mut system, &en, source).await;
    assert!(reply.text.contains("Read from the photo"), "{}", reply.text);
    assert!(
        reply.file.contains("Revenue grew by 12 percent"),
        "{}",
        reply.file
    );
    let charged = WELCOME_CREDIT - document_price - ocr_price;
    system.wait_for_balance(7602, charged).await;

    // Bad inputs: each a clear message, nothing charged.
    let locked = send_document(&en, encrypted_pdf(), "locked.pdf").await;
    let text = told(&mut system, &en, locked, "password-protected").await;
    assert!(text.contains("not charged"), "{text}");
    let binary = send_document(
        &en,
        b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".repeat(64),
        "notes.txt",
    )
    .await;
    let text = told(&mut system, &en, binary, "format").await;
    assert!(text.contains("not charged"), "{text}");
    let (source, offer) = {
        let sent = en
            .chat()
            .send_document(telegram_sandbox::client::InputFile::bytes(
                blank_png(),
                "blank.png",
            ))
            .await
            .unwrap()
            .message_id;
        let offer = en
            .wait_for_bot_message(
                &mut system,
                sent,
                Duration::from_secs(60),
                "an offer",
                |m| m.first_callback_data().is_some() && m.reply_to_message_id() == Some(sent),
            )
            .await;
        (sent, offer)
    };
    en.press(offer.message_id, &button(&offer, &ocr)).await;
    let status = offer.message_id;
    let text = en
        .wait_for_bot_message(
            &mut system,
            source,
            Duration::from_secs(90),
            "no text found",
            |m| m.message_id == status && m.text_or_caption().contains("no text"),
        )
        .await;
    assert!(text.text_or_caption().contains("not charged"), "{text:?}");
    system.wait_for_balance(7602, charged).await;
}
