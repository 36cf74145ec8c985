//! Issue 3's walking skeleton, as a user: /start, an EXIF-rotated photo upscaled ×2, a voice note
//! transcribed, the balance down by exactly the two prices, and a corrupt image refused without charge.

use std::time::{Duration, Instant};

use mediabot_proto::billing::v1::ListPricesRequest;
use mediabot_proto::catalog::price_of;
use mediabot_proto::jobs::v1::Operation;

use crate::harness::{Options, System, button_data, fixture, text_of};

const WELCOME_CREDIT: i64 = 3000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_upscales_a_photo_transcribes_a_voice_note_and_pays_exactly_for_both() {
    let mut system = System::start(Options::default()).await;
    let user = system.user(7001, "en");
    let mut billing = system.billing().await;

    // /start answers with what the bot does, the balance and the prices (and opens the account).
    let start = user.send_text("/start").await;
    let start_id = start["message_id"].as_i64().unwrap();
    let welcome = user
        .wait_for_bot(
            &mut system,
            start_id,
            Duration::from_secs(60),
            "answering /start",
            |m| text_of(m).contains("balance"),
        )
        .await;
    assert!(
        text_of(&welcome).contains("30 ₽"),
        "welcome: {}",
        text_of(&welcome)
    );
    let prices = billing
        .list_prices(ListPricesRequest {})
        .await
        .unwrap()
        .into_inner()
        .prices;
    let price = |op: Operation, audio_ms| price_of(&prices, &op, audio_ms).unwrap().0;
    // jfk-voice.ogg is 11 s: one started minute.
    let (upscale_price, transcribe_price) = (
        price(Operation::upscale(2), 0),
        price(Operation::transcribe("auto"), 11_000),
    );

    // An EXIF-rotated photo sent as a file: offered "Upscale ×2", pressed, result exactly twice the
    // oriented size (landscape_6.jpg is stored 450×600 with Orientation 6: upright it is 600×450).
    let photo = user
        .send_file(
            "document",
            &fixture("images/orientation/landscape_6.jpg"),
            "image/jpeg",
        )
        .await;
    let photo_id = photo["message_id"].as_i64().unwrap();
    let offer = user
        .wait_for_bot(
            &mut system,
            photo_id,
            Duration::from_secs(60),
            "offering an operation",
            |m| button_data(m).is_some(),
        )
        .await;
    assert!(text_of(&offer).len() > 3);
    let pressed = Instant::now();
    user.press(
        offer["message_id"].as_i64().unwrap(),
        &button_data(&offer).unwrap(),
    )
    .await;
    let result = user
        .wait_for_bot(
            &mut system,
            photo_id,
            Duration::from_secs(60),
            "with the upscaled image",
            |m| m.get("photo").is_some() || m.get("document").is_some(),
        )
        .await;
    let upscale_latency = pressed.elapsed();
    let file_id = match result.get("photo") {
        Some(sizes) => sizes.as_array().unwrap().last().unwrap()["file_id"]
            .as_str()
            .unwrap()
            .to_string(),
        None => result["document"]["file_id"].as_str().unwrap().to_string(),
    };
    let bytes = user.file(&file_id).await;
    let image = image::load_from_memory(&bytes).expect("the result is an image");
    assert_eq!(
        (image.width(), image.height()),
        (1200, 900),
        "exactly twice the upright 600×450"
    );
    assert!(
        text_of(&result).contains("1200×900"),
        "caption: {}",
        text_of(&result)
    );

    // A voice note (OGG/Opus, as Telegram sends them) comes back as a transcript message.
    let voice = user
        .send_file("voice", &fixture("audio/jfk-voice.ogg"), "audio/ogg")
        .await;
    let voice_id = voice["message_id"].as_i64().unwrap();
    let sent = Instant::now();
    let transcript = user
        .wait_for_bot(
            &mut system,
            voice_id,
            Duration::from_secs(120),
            "with the transcript",
            |m| {
                m["reply_to_message"]["message_id"].as_i64() == Some(voice_id)
                    && text_of(m).contains("Balance:")
            },
        )
        .await;
    let transcribe_latency = sent.elapsed();
    assert!(
        !text_of(&transcript).contains("not charged"),
        "transcript: {}",
        text_of(&transcript)
    );

    // Exactly the two prices were taken, once billing has settled both holds.
    let expected = WELCOME_CREDIT - upscale_price - transcribe_price;
    system.wait_for_balance(7001, expected).await;

    // A corrupt image: offered, pressed, a plain error, not charged.
    let bad_id = user
        .send_and_press(
            &mut system,
            "document",
            &fixture("images/bad/corrupted.jpg"),
            "image/jpeg",
        )
        .await;
    let refusal = user
        .wait_for_bot(
            &mut system,
            bad_id,
            Duration::from_secs(60),
            "refusing the corrupt image",
            |m| text_of(m).contains("not charged"),
        )
        .await;
    assert!(
        text_of(&refusal).contains("damaged"),
        "refusal: {}",
        text_of(&refusal)
    );
    system.wait_for_balance(7001, expected).await;

    println!(
        "e2e latencies: upscale ×2 (press → photo) {} ms; transcription (voice sent → transcript) {} ms",
        upscale_latency.as_millis(),
        transcribe_latency.as_millis()
    );
}
