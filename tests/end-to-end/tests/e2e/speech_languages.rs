//! Speech in the user's language, with the real multilingual base model: a Russian user's Russian voice
//! note is transcribed as Russian (not detected as something else) and answered in Russian with the
//! language named; the Translate to English button under it starts a second paid job on the same voice
//! note, whose English text arrives as a new message; exactly the two prices are taken.

use std::time::Duration;

use mediabot_proto::catalog::price_of;
use mediabot_proto::jobs::v1::Operation;

use crate::harness::{Options, System, button_data, fixture, text_of};

const WELCOME_CREDIT: i64 = 3000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_russian_voice_note_is_answered_in_russian_and_translated_on_request() {
    let mut system = System::start(Options {
        real_speech_model: Some("MEDIABOT_WHISPER_BASE"),
        ..Options::default()
    })
    .await;
    let user = system.user(7301, "ru");
    let prices = system.prices().await;
    // ru-voice.ogg is 11 s: one started minute each.
    let transcribe_price = price_of(&prices, &Operation::transcribe("ru"), 11_000)
        .unwrap()
        .0;
    let translate_price = price_of(&prices, &Operation::translate_to_english("ru"), 11_000)
        .unwrap()
        .0;

    let voice = user
        .send_file("voice", &fixture("audio/ru-voice.ogg"), "audio/ogg")
        .await;
    let voice_id = voice["message_id"].as_i64().unwrap();
    let transcript = user
        .wait_for_russian_transcript(&mut system, voice_id, "with the Russian transcript")
        .await;
    let text = text_of(&transcript);
    let button = transcript["reply_markup"]["inline_keyboard"][0][0].clone();
    assert!(
        button["text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Перевести на английский"),
        "{button}"
    );
    let data = button_data(&transcript).unwrap();
    assert_eq!(
        Operation::from_callback_data(&data),
        Some(Operation::translate_to_english("ru"))
    );

    user.press(transcript["message_id"].as_i64().unwrap(), &data)
        .await;
    let translation = user
        .wait_for_bot(
            &mut system,
            transcript["message_id"].as_i64().unwrap(),
            Duration::from_secs(180),
            "with the English translation",
            |m| text_of(m).contains("Перевод на английский"),
        )
        .await;
    let english = text_of(&translation);
    assert!(english.to_lowercase().contains("weather"), "{english}");
    assert!(
        translation["reply_markup"]["inline_keyboard"]
            .as_array()
            .is_none(),
        "no translate button under a translation: {translation}"
    );
    // The transcript keeps its text.
    let messages = user.messages().await;
    let kept = messages
        .iter()
        .find(|m| m["message_id"] == transcript["message_id"])
        .unwrap();
    assert_eq!(text_of(kept), text);

    system
        .wait_for_balance(7301, WELCOME_CREDIT - transcribe_price - translate_price)
        .await;
}
