//! Text on a picture as users get it, through the sandbox with flood control on, in Russian and English:
//! the picture → "Add text" → the text (an empty one and one of 201 characters are refused with their
//! messages first) → wishes in free words («крупный белый текст сверху на чёрной плашке», "big yellow
//! text at the top") or Skip (normal size at the bottom, a colour that contrasts with the picture). Each
//! result is a JPEG document of the picture's size with text-coloured pixels in the asked third, darker
//! under the plate, and colour (not grey) emoji; each is charged once. A damaged picture gets the
//! "damaged file" message and costs nothing.

use std::path::Path;
use std::time::Duration;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use mediabot_proto::catalog::price_of;
use mediabot_proto::jobs::v1::{AddText, Operation};
use telegram_sandbox::client::Message;

use crate::harness::{Options, System, User, button, fixture};

const WELCOME_CREDIT: i64 = 3000;

fn text_of(message: &Message) -> String {
    let json = serde_json::to_value(message).unwrap();
    json["text"]
        .as_str()
        .or(json["caption"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// A mid-grey 1280×960 JPEG: text, plate and emoji pixels stand out from it.
fn grey_picture(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("grey.jpg");
    DynamicImage::ImageRgb8(RgbImage::from_pixel(1280, 960, Rgb([128, 128, 128])))
        .save_with_format(&path, ImageFormat::Jpeg)
        .unwrap();
    path
}

/// Presses "Add text" under `offer` and waits for the question about the text.
async fn open(system: &mut System, user: &User, offer: &Message, asks: &str) -> i64 {
    let data = button(offer, &Operation::add_text(AddText::default()));
    assert_eq!(data, "op:image.add_text:");
    user.press(offer.message_id, &data).await;
    let question = user
        .wait_for_bot_message(
            system,
            offer.message_id,
            Duration::from_secs(60),
            "asking for the text",
            |m| text_of(m).contains(asks),
        )
        .await;
    question.message_id
}

/// Waits for the result document replying to `source`; returns it decoded, with its file name.
async fn result(system: &mut System, user: &User, source: i64) -> (RgbImage, String) {
    let message = user
        .wait_for_bot_message(
            system,
            source,
            Duration::from_secs(90),
            "with the picture",
            |m| m.reply_to_message_id() == Some(source) && m.file_id().is_some(),
        )
        .await;
    let json = serde_json::to_value(&message).unwrap();
    assert!(json.get("document").is_some(), "a document: {json}");
    let bytes = user.file(message.file_id().unwrap()).await;
    assert_eq!(image::guess_format(&bytes).ok(), Some(ImageFormat::Jpeg));
    let name = json["document"]["file_name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (image::load_from_memory(&bytes).unwrap().to_rgb8(), name)
}

fn count(image: &RgbImage, rows: std::ops::Range<u32>, test: impl Fn(&Rgb<u8>) -> bool) -> usize {
    image
        .enumerate_pixels()
        .filter(|(_, y, p)| rows.contains(y) && test(p))
        .count()
}

fn near(p: &Rgb<u8>, target: [u8; 3]) -> bool {
    p.0.iter().zip(target).all(|(a, b)| a.abs_diff(b) <= 45)
}

/// An emoji's pixel: strongly coloured, and not the text's colour.
fn emoji(p: &Rgb<u8>, text: [u8; 3]) -> bool {
    let (max, min) = (*p.0.iter().max().unwrap(), *p.0.iter().min().unwrap());
    max - min > 80 && !near(p, text)
}

fn mean_luma(image: &RgbImage, rows: std::ops::Range<u32>) -> f64 {
    let pixels: Vec<_> = image
        .enumerate_pixels()
        .filter(|(_, y, _)| rows.contains(y))
        .map(|(_, _, p)| {
            0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
        })
        .collect();
    pixels.iter().sum::<f64>() / pixels.len() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_add_text_in_russian_and_english_and_pay_once() {
    let mut system = System::start(Options::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let prices = system.prices().await;
    let price = price_of(&prices, &Operation::add_text(AddText::with_text("x")), 0)
        .expect("a price for image.add_text")
        .0;
    assert!(price > 0);
    let picture = grey_picture(dir.path());
    let (white, yellow) = ([255, 255, 255], [255, 255, 0]);

    // Russian, a photo: the refusals first, then the wishes of the issue.
    let olga = system.user(7401, "ru");
    let (sent, offer) = olga
        .send_for_offer(&mut system, "photo", &picture, "image/jpeg")
        .await;
    open(&mut system, &olga, &offer, "Пришлите текст").await;
    olga.say(&mut system, "\u{200b}", "refusing the empty text", |m| {
        text_of(m).contains("нет текста")
    })
    .await;
    let long = "я".repeat(201);
    olga.say(&mut system, &long, "refusing the long text", |m| {
        text_of(m).contains("201") && text_of(m).contains("до 200")
    })
    .await;
    let question = olga
        .say(
            &mut system,
            "Привет, мир! 🎉",
            "asking for the wishes",
            |m| m.first_callback_data() == Some("dlg:skip"),
        )
        .await;
    assert!(
        text_of(&question).contains("Пропустить"),
        "{}",
        text_of(&question)
    );
    olga.send_text("крупный белый текст сверху на чёрной плашке")
        .await;
    let (image, name) = result(&mut system, &olga, sent).await;
    assert_eq!(name, "image-add-text.jpg");
    assert_eq!(image.dimensions(), (1280, 960));
    let (top, rest) = (0..320, 320..960);
    let text_pixels = count(&image, top.clone(), |p| near(p, white));
    assert!(text_pixels > 1500, "white text at the top: {text_pixels}");
    assert_eq!(
        count(&image, rest.clone(), |p| near(p, white)),
        0,
        "nothing below"
    );
    let colour = count(&image, top.clone(), |p| emoji(p, white));
    assert!(colour > 300, "the emoji is in colour: {colour} pixels");
    // The black plate (50 %) darkens the band the text is on; the rest is the grey picture.
    let plate = mean_luma(&image, 80..100);
    assert!(plate < 100.0, "plate: mean luma {plate}");
    assert!((mean_luma(&image, rest) - 128.0).abs() < 3.0);
    system.wait_for_balance(7401, WELCOME_CREDIT - price).await;

    // English, a file: "big yellow text at the top".
    let ed = system.user(7402, "en");
    let (sent, offer) = ed
        .send_for_offer(&mut system, "document", &picture, "image/jpeg")
        .await;
    open(&mut system, &ed, &offer, "Send the text").await;
    ed.say(
        &mut system,
        "Hello world 🌍",
        "asking for the wishes",
        |m| m.first_callback_data() == Some("dlg:skip"),
    )
    .await;
    ed.send_text("big yellow text at the top").await;
    let (image, _) = result(&mut system, &ed, sent).await;
    assert_eq!(image.dimensions(), (1280, 960));
    let yellow_pixels = count(&image, 0..320, |p| near(p, yellow));
    assert!(
        yellow_pixels > 1500,
        "yellow text at the top: {yellow_pixels}"
    );
    assert_eq!(count(&image, 320..960, |p| near(p, yellow)), 0);
    assert!(
        count(&image, 0..320, |p| emoji(p, yellow)) > 300,
        "the globe is in colour"
    );
    system.wait_for_balance(7402, WELCOME_CREDIT - price).await;

    // English, Skip: normal size at the bottom, white on the mid-grey picture.
    let (sent, offer) = ed
        .send_for_offer(&mut system, "document", &picture, "image/jpeg")
        .await;
    open(&mut system, &ed, &offer, "Send the text").await;
    let question = ed
        .say(
            &mut system,
            "Bottom line 🍊",
            "asking for the wishes",
            |m| m.first_callback_data() == Some("dlg:skip"),
        )
        .await;
    ed.press(question.message_id, "dlg:skip").await;
    let (image, _) = result(&mut system, &ed, sent).await;
    let bottom = 640..960;
    let text_pixels = count(&image, bottom.clone(), |p| near(p, white));
    assert!(
        text_pixels > 1000,
        "white text at the bottom: {text_pixels}"
    );
    assert_eq!(count(&image, 0..640, |p| near(p, white)), 0);
    assert!(
        count(&image, bottom, |p| emoji(p, white)) > 300,
        "the orange is in colour"
    );
    system
        .wait_for_balance(7402, WELCOME_CREDIT - 2 * price)
        .await;

    // A damaged picture: its message, and nothing is charged.
    let broken = fixture("images/bad/corrupted.jpg");
    let (sent, offer) = olga
        .send_for_offer(&mut system, "document", &broken, "image/jpeg")
        .await;
    open(&mut system, &olga, &offer, "Пришлите текст").await;
    let question = olga
        .say(&mut system, "Текст", "asking for the wishes", |m| {
            m.first_callback_data() == Some("dlg:skip")
        })
        .await;
    olga.press(question.message_id, "dlg:skip").await;
    let refusal = olga
        .wait_for_bot_message(
            &mut system,
            sent,
            Duration::from_secs(60),
            "refusing the damaged file",
            |m| text_of(m).contains("Деньги не списаны"),
        )
        .await;
    assert!(
        text_of(&refusal).contains("повреждён"),
        "{}",
        text_of(&refusal)
    );
    system.wait_for_balance(7401, WELCOME_CREDIT - price).await;
}
