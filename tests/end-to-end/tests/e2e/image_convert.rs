//! Format conversion as users get it, in English and Russian: an iPhone-style HEIC sent as a file is
//! offered → JPEG, → PNG and → WebP (lossy, as for any photo) and comes back as a `.jpg` document with
//! the caption "HEIC → JPEG, 640×426"; a transparent PNG is offered → JPEG and lossless → WebP (never →
//! PNG) and keeps its alpha; each is charged the conversion's price once delivered. A cut-off HEIC gets
//! the "damaged file" message at once, with no buttons, and costs nothing. Every offer starts with what the file is (format, size,
//! colour, depth; a phone photo's camera, date and GPS position), and a PDF named `.jpg` is refused before
//! any button.

use std::time::Duration;

use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
use mediabot_proto::catalog::price_of;
use mediabot_proto::jobs::v1::{ConvertTarget, Operation};
use telegram_sandbox::client::Message;

use crate::harness::{Options, System, User, button, fixture};

const WELCOME_CREDIT: i64 = 3000;

/// The conversion targets an offer has buttons for, in order.
fn conversions(offer: &Message) -> Vec<String> {
    offer
        .buttons()
        .filter_map(|b| b.callback_data.clone())
        .filter_map(|d| {
            d.strip_prefix("op:image.convert:target=")
                .map(str::to_string)
        })
        .collect()
}

/// Presses `operation`'s button and waits for the document replying to `source`: its JSON and bytes.
async fn converted(
    system: &mut System,
    user: &User,
    source: i64,
    offer: &Message,
    operation: &Operation,
) -> (serde_json::Value, Vec<u8>) {
    let data = button(offer, operation);
    user.press(offer.message_id, &data).await;
    let result = user
        .wait_for_bot_message(
            system,
            source,
            Duration::from_secs(90),
            "with the converted file",
            |m| m.reply_to_message_id() == Some(source) && m.file_id().is_some(),
        )
        .await;
    let json = serde_json::to_value(&result).unwrap();
    assert!(
        json.get("document").is_some() && json.get("photo").is_none(),
        "a document, not a photo: {json}"
    );
    let bytes = user.file(result.file_id().unwrap()).await;
    (json, bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_convert_images_and_pay_only_for_what_they_get() {
    let mut system = System::start(Options::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let prices = system.prices().await;
    let to_jpeg = Operation::convert(ConvertTarget::Jpeg);
    let to_webp = Operation::convert(ConvertTarget::WebpLossless);
    let price = price_of(&prices, &to_jpeg, 0)
        .expect("a conversion price")
        .0;
    assert!(price > 0);
    assert_eq!(price_of(&prices, &to_webp, 0).map(|p| p.0), Some(price));

    // English: the real HEIC photo, sent as a file.
    let ann = system.user(7301, "en");
    let heic = fixture("images/bad/samplefilehub.heif");
    let (sent, offer) = ann
        .send_for_offer(&mut system, "document", &heic, "image/heic")
        .await;
    assert_eq!(conversions(&offer), ["jpeg", "png", "webp_lossy"]);
    // The offer says what the file is, from imaging's Describe.
    assert!(
        offer
            .text_or_caption()
            .starts_with("🖼 HEIC · 640×426 · 0.3 MP · RGB, 8-bit · ")
            && offer
                .text_or_caption()
                .ends_with("What should I do with this image?"),
        "{}",
        offer.text_or_caption()
    );
    let (json, bytes) = converted(&mut system, &ann, sent, &offer, &to_jpeg).await;
    assert_eq!(image::guess_format(&bytes).ok(), Some(ImageFormat::Jpeg));
    let image = image::load_from_memory(&bytes).unwrap();
    assert_eq!((image.width(), image.height()), (640, 426));
    let document = &json["document"];
    assert_eq!(document["mime_type"], "image/jpeg", "{json}");
    assert!(
        document["file_name"]
            .as_str()
            .is_some_and(|n| n.ends_with(".jpg")),
        "{json}"
    );
    let caption = json["caption"].as_str().unwrap_or_default();
    assert!(
        caption.starts_with("Converted: HEIC → JPEG, 640×426") && caption.contains("Balance"),
        "{caption}"
    );
    system.wait_for_balance(7301, WELCOME_CREDIT - price).await;

    // Russian: a transparent PNG → lossless WebP keeps its alpha.
    let boris = system.user(7302, "ru");
    let mut rgba = RgbaImage::from_pixel(300, 200, Rgba([20, 120, 220, 255]));
    for (x, _, pixel) in rgba.enumerate_pixels_mut() {
        if x < 150 {
            *pixel = Rgba([0, 0, 0, 0]);
        }
    }
    let png_path = dir.path().join("logo.png");
    DynamicImage::ImageRgba8(rgba.clone())
        .save_with_format(&png_path, ImageFormat::Png)
        .unwrap();
    let (sent, offer) = boris
        .send_for_offer(&mut system, "document", &png_path, "image/png")
        .await;
    assert_eq!(conversions(&offer), ["jpeg", "webp_lossless"]);
    assert!(
        offer
            .text_or_caption()
            .starts_with("🖼 PNG · 300×200 · 0,1 Мп · RGB + прозрачность, 8 бит · "),
        "{}",
        offer.text_or_caption()
    );
    let (json, bytes) = converted(&mut system, &boris, sent, &offer, &to_webp).await;
    assert_eq!(image::guess_format(&bytes).ok(), Some(ImageFormat::WebP));
    let webp = image::load_from_memory_with_format(&bytes, ImageFormat::WebP).unwrap();
    assert!(webp.color().has_alpha());
    assert_eq!(webp.to_rgba8(), rgba, "lossless: every pixel and its alpha");
    assert_eq!(json["document"]["mime_type"], "image/webp", "{json}");
    assert!(
        json["document"]["file_name"]
            .as_str()
            .is_some_and(|n| n.ends_with(".webp")),
        "{json}"
    );
    let caption = json["caption"].as_str().unwrap_or_default();
    assert!(
        caption.starts_with("Готово: PNG → WebP без потерь, 300×200") && caption.contains("Баланс"),
        "{caption}"
    );
    let after_webp = WELCOME_CREDIT - price;
    system.wait_for_balance(7302, after_webp).await;

    // Russian: a HEIC cut in half is refused as damaged at once (its container points past the end of
    // the file): no buttons, nothing charged.
    let broken = dir.path().join("broken.heic");
    let whole = std::fs::read(&heic).unwrap();
    std::fs::write(&broken, &whole[..whole.len() / 2]).unwrap();
    let (_, refusal) = boris
        .send_for_reply(
            &mut system,
            "document",
            &broken,
            "image/heic",
            "refusing the damaged file",
        )
        .await;
    assert!(
        refusal.text_or_caption().contains("повреждён")
            && refusal.text_or_caption().contains("Ничего не списано")
            && refusal.first_callback_data().is_none(),
        "{refusal:?}"
    );
    system.wait_for_balance(7302, after_webp).await;

    // A phone photo sent as a file: its camera, date and GPS position are told, in Russian.
    let (_, offer) = boris
        .send_for_offer(
            &mut system,
            "document",
            &fixture("images/nokia-8.3-4608x1976.jpg"),
            "image/jpeg",
        )
        .await;
    let facts = offer.text_or_caption();
    for expected in [
        "🖼 JPEG · 4608×1976 · 9,1 Мп · RGB, 8 бит · 2,2 МБ",
        "📷 HMD Global Nokia 8.3 5G · снято 2022-08-14 14:12",
        "📍 Внутри есть GPS-координаты",
        "Что сделать с изображением?",
    ] {
        assert!(facts.contains(expected), "{expected:?} in {facts}");
    }

    // A PDF named like a picture: refused at once, with no buttons and nothing to pay.
    let fake = dir.path().join("scan.jpg");
    std::fs::copy(fixture("docs/report-ru-en.pdf"), &fake).unwrap();
    let (_, refusal) = ann
        .send_for_reply(
            &mut system,
            "document",
            &fake,
            "image/jpeg",
            "refusing a PDF named .jpg",
        )
        .await;
    assert!(
        refusal
            .text_or_caption()
            .starts_with("❌ I can't read this image")
            && refusal.first_callback_data().is_none(),
        "{refusal:?}"
    );
    system.wait_for_balance(7301, WELCOME_CREDIT - price).await;
}
