//! Leaving the add-text dialogue with `/cancel` (in Russian and English), and `/help` naming the
//! configured file limit and `/cancel`. Nothing here needs imaging: the offer is made from billing's
//! prices, and the dialogue lives in the gateway's NATS bucket.

use std::time::Duration;

use telegram_sandbox::client::{ChatUser, Message};

use crate::system::{System, ask_message, photo, start};

const WAIT: Duration = Duration::from_secs(20);

/// Sends the photo, presses "Add text" under the offer and returns the question asking for the text.
async fn open_add_text(user: &ChatUser) -> Message {
    let sent = user.send_photo(photo().as_path()).await.unwrap();
    let offer = user
        .wait_bot_message("the offer", WAIT, |m| {
            m.reply_to_message_id() == Some(sent.message_id) && m.first_callback_data().is_some()
        })
        .await
        .unwrap();
    user.press(offer.message_id, "op:image.add_text:")
        .await
        .unwrap();
    user.wait_bot_message("the question for the text", WAIT, |m| {
        m.message_id > offer.message_id && m.text_or_caption().starts_with("✏️")
    })
    .await
    .unwrap()
}

async fn cancel_in(system: &System, user_id: i64, lang: &str, texts: [&str; 4]) {
    let [nothing, cancelled, hello, not_understood] = texts;
    let user = system.user(user_id, lang);
    let reply = ask_message(&user, "/cancel").await;
    assert!(reply.text_or_caption().starts_with(nothing), "{reply:?}");

    let question = open_add_text(&user).await;
    assert!(
        question.text_or_caption().contains("/cancel"),
        "{question:?}"
    );
    let reply = ask_message(&user, "/cancel").await;
    assert!(reply.text_or_caption().starts_with(cancelled), "{reply:?}");
    // The dialogue is over: a text is an ordinary message again, not the text to draw.
    let reply = ask_message(&user, hello).await;
    assert!(
        reply.text_or_caption().starts_with(not_understood),
        "{reply:?}"
    );
    let reply = ask_message(&user, "/cancel").await;
    assert!(reply.text_or_caption().starts_with(nothing), "{reply:?}");
    assert_eq!(system.balance(user_id).await, 3000, "nothing charged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_leaves_the_add_text_dialogue_in_both_languages() {
    let system = start().await;
    cancel_in(
        &system,
        6101,
        "ru",
        ["Отменять нечего", "Отменено.", "Привет", "Я понимаю фото"],
    )
    .await;
    cancel_in(
        &system,
        6102,
        "en",
        [
            "Nothing to cancel",
            "Cancelled.",
            "Hello",
            "I understand photos",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn help_names_the_file_limit_and_cancel() {
    let system = start().await;
    // The system's gateway runs with --max-file-bytes 20 MiB (the unit test in i18n tries others).
    let help = system.ask(6103, "en", "/help").await;
    assert!(help.contains("Files up to 20 MB."), "{help}");
    assert!(help.contains("/cancel"), "{help}");
    let help = system.ask(6104, "ru", "/help").await;
    assert!(help.contains("Файлы до 20 МБ."), "{help}");
    assert!(help.contains("/cancel"), "{help}");
}
