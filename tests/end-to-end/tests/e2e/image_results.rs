//! Image results as a user gets them, in English and Russian: files (documents) at full resolution in the
//! right format — a transparent PNG upscaled stays a PNG with its alpha, an animated GIF gives its first
//! frame and says so — a phone photo compressed under the target it picked (only targets below its size are
//! offered), the reply saying before → after; and a PNG bomb refused with no charge.

use std::path::Path;
use std::time::Duration;

use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
use mediabot_proto::catalog::price_of;
use mediabot_proto::jobs::v1::Operation;
use telegram_sandbox::client::Message;

use crate::harness::{Options, System, User, fixture};

const WELCOME_CREDIT: i64 = 3000;

fn offered(offer: &Message) -> Vec<String> {
    offer
        .buttons()
        .filter_map(|b| b.callback_data.clone())
        .collect()
}

/// Presses the button for `operation` and waits for the document replying to `source`; returns the
/// message and the file's bytes.
async fn result_of(
    system: &mut System,
    user: &User,
    source: i64,
    offer: &Message,
    operation: &Operation,
) -> (Message, Vec<u8>) {
    let data = operation.callback_data();
    assert!(offered(offer).contains(&data), "no {data} in {offer:?}");
    user.press(offer.message_id, &data).await;
    let result = user
        .wait_for_bot_message(
            system,
            source,
            Duration::from_secs(90),
            "with the result file",
            |m| m.reply_to_message_id() == Some(source) && m.file_id().is_some(),
        )
        .await;
    let json = serde_json::to_value(&result).unwrap();
    assert!(
        json.get("document").is_some() && json.get("photo").is_none(),
        "a document, not a photo: {json}"
    );
    let bytes = user.file(result.file_id().unwrap()).await;
    (result, bytes)
}

fn caption(message: &Message) -> String {
    serde_json::to_value(message).unwrap()["caption"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_files_in_the_right_format_and_compression_fits_the_target() {
    let mut system = System::start(Options::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let prices = system.prices().await;
    let price = |op: &Operation| price_of(&prices, op, 0).unwrap().0;

    // English: the Nokia photo (2.19 MB) is offered compression to 1 and 2 MB only; 1 MB fits.
    let ann = system.user(7101, "en");
    let nokia = fixture("images/nokia-8.3-4608x1976.jpg");
    let (sent, offer) = ann
        .send_for_offer(&mut system, "document", &nokia, "image/jpeg")
        .await;
    let compressions: Vec<String> = offered(&offer)
        .into_iter()
        .filter(|d| d.starts_with("op:image.compress"))
        .collect();
    assert_eq!(
        compressions,
        [
            Operation::compress(1000).callback_data(),
            Operation::compress(2000).callback_data()
        ]
    );
    let compress = Operation::compress(1000);
    let (result, bytes) = result_of(&mut system, &ann, sent, &offer, &compress).await;
    assert!(bytes.len() <= 1_000_000, "{} bytes", bytes.len());
    assert_eq!(image::guess_format(&bytes).ok(), Some(ImageFormat::Jpeg));
    let image = image::load_from_memory(&bytes).unwrap();
    assert_eq!((image.width(), image.height()), (4608, 1976));
    let text = caption(&result);
    assert!(
        text.starts_with("Compressed: 2.2 MB → ") && text.contains("4608×1976"),
        "{text}"
    );
    let mut expected = WELCOME_CREDIT - price(&compress);
    system.wait_for_balance(7101, expected).await;

    // English: an animated GIF upscaled: its first frame, as a PNG, and the caption says so.
    let frame = |c: [u8; 4]| image::Frame::new(RgbaImage::from_pixel(60, 40, Rgba(c)));
    let gif_path = dir.path().join("blink.gif");
    {
        let file = std::fs::File::create(&gif_path).unwrap();
        image::codecs::gif::GifEncoder::new(file)
            .encode_frames([frame([250, 0, 0, 255]), frame([0, 0, 250, 255])])
            .unwrap();
    }
    let (sent, offer) = ann
        .send_for_offer(&mut system, "document", &gif_path, "image/gif")
        .await;
    let upscale = Operation::upscale(2);
    let (result, bytes) = result_of(&mut system, &ann, sent, &offer, &upscale).await;
    assert_eq!(image::guess_format(&bytes).ok(), Some(ImageFormat::Png));
    let image = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), (120, 80));
    assert_eq!(image.get_pixel(60, 40).0, [250, 0, 0], "the first frame");
    assert!(
        caption(&result).contains("only its first frame"),
        "{}",
        caption(&result)
    );
    expected -= price(&upscale);
    system.wait_for_balance(7101, expected).await;

    // Russian: a transparent PNG upscaled ×2 stays a PNG with its alpha, at exactly twice the size.
    let boris = system.user(7102, "ru");
    let mut rgba = RgbaImage::from_pixel(300, 200, Rgba([20, 120, 220, 255]));
    for (x, _, pixel) in rgba.enumerate_pixels_mut() {
        if x < 150 {
            *pixel = Rgba([0, 0, 0, 0]);
        }
    }
    let png_path = dir.path().join("logo.png");
    DynamicImage::ImageRgba8(rgba)
        .save_with_format(&png_path, ImageFormat::Png)
        .unwrap();
    let (sent, offer) = boris
        .send_for_offer(&mut system, "document", &png_path, "image/png")
        .await;
    assert!(
        !offered(&offer)
            .iter()
            .any(|d| d.starts_with("op:image.compress")),
        "a small file is offered no compression: {offer:?}"
    );
    let (result, bytes) = result_of(&mut system, &boris, sent, &offer, &upscale).await;
    assert_eq!(image::guess_format(&bytes).ok(), Some(ImageFormat::Png));
    let image = image::load_from_memory(&bytes).unwrap();
    assert!(image.color().has_alpha());
    let image = image.to_rgba8();
    assert_eq!(image.dimensions(), (600, 400));
    assert_eq!(
        image.get_pixel(50, 200)[3],
        0,
        "transparent stays transparent"
    );
    assert_eq!(image.get_pixel(550, 200).0, [20, 120, 220, 255]);
    let text = caption(&result);
    assert!(
        text.starts_with("Готово: 600×400, PNG") && text.contains("Баланс"),
        "{text}"
    );
    system
        .wait_for_balance(7102, WELCOME_CREDIT - price(&upscale))
        .await;

    // Russian: a 20000×20000 PNG of a few hundred kilobytes is refused before decoding; nothing charged.
    let bomb_path = dir.path().join("bomb.png");
    write_png_bomb(&bomb_path);
    let (sent, offer) = boris
        .send_for_offer(&mut system, "document", &bomb_path, "image/png")
        .await;
    boris
        .press(offer.message_id, &upscale.callback_data())
        .await;
    let refusal = boris
        .wait_for_bot_message(
            &mut system,
            sent,
            Duration::from_secs(60),
            "refusing the bomb",
            |m| {
                let text = serde_json::to_value(m).unwrap()["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                text.contains("Деньги не списаны")
            },
        )
        .await;
    let text = serde_json::to_value(&refusal).unwrap()["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(text.contains("слишком большой"), "{text}");
    system
        .wait_for_balance(7102, WELCOME_CREDIT - price(&upscale))
        .await;
}

/// A real 20000×20000 greyscale PNG of zeros, written row by row (a few hundred kilobytes).
fn write_png_bomb(path: &Path) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, 20_000, 20_000);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    let row = vec![0u8; 20_000];
    for _ in 0..20_000 {
        std::io::Write::write_all(&mut stream, &row).unwrap();
    }
    stream.finish().unwrap();
    assert!(std::fs::metadata(path).unwrap().len() < 2_000_000);
}
