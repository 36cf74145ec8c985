//! `/language`: the interface language and the spoken language a user chooses, whatever their Telegram
//! says, kept in NATS for every later message: replies, the offer's texts, and the language the offer's
//! operations carry ("Text from photo" here; transcriptions take the same value).

use std::time::Duration;

use mediabot_proto::jobs::v1::Operation;
use telegram_sandbox::client::{ChatUser, Message};

use crate::system::{ask_message, photo, start};

const WAIT: Duration = Duration::from_secs(20);

fn buttons(message: &Message) -> Vec<String> {
    let json = serde_json::to_value(message).unwrap();
    json["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| row.as_array())
        .flatten()
        .filter_map(|b| b["callback_data"].as_str().map(str::to_string))
        .collect()
}

/// Presses `data` under the /language menu and waits for the menu to say `saved`.
async fn choose(user: &ChatUser, menu: &Message, data: &str, saved: &str) {
    assert!(buttons(menu).iter().any(|b| b == data), "{menu:?}");
    user.press(menu.message_id, data).await.unwrap();
    user.wait_bot_message(saved, WAIT, |m| {
        m.message_id == menu.message_id && m.text_or_caption().starts_with(saved)
    })
    .await
    .unwrap();
}

/// Sends a photo and returns the offer under it.
async fn offer(user: &ChatUser) -> Message {
    let sent = user.send_photo(photo().as_path()).await.unwrap();
    user.wait_bot_message("the offer", WAIT, |m| {
        m.reply_to_message_id() == Some(sent.message_id) && m.first_callback_data().is_some()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn language_overrides_telegrams_and_sets_the_spoken_language() {
    let system = start().await;

    // An English Telegram switches to Russian.
    let ann = system.user(6201, "en");
    let menu = ask_message(&ann, "/language").await;
    assert!(
        menu.text_or_caption().starts_with("🌐 Language: English"),
        "{menu:?}"
    );
    choose(&ann, &menu, "lang:ru", "✅ Готово: отвечаю по-русски").await;
    let balance = ask_message(&ann, "/balance").await;
    assert!(
        balance.text_or_caption().starts_with("Ваш баланс"),
        "{balance:?}"
    );
    let help = ask_message(&ann, "/help").await;
    assert!(help.text_or_caption().contains("/language"), "{help:?}");
    let russian = offer(&ann).await;
    assert_eq!(russian.text_or_caption(), "Что сделать с изображением?");
    let ocr_ru = Operation::ocr("ru").callback_data();
    assert!(buttons(&russian).contains(&ocr_ru), "{russian:?}");

    // Spoken language: detected from now on; the interface stays Russian.
    let menu = ask_message(&ann, "/language").await;
    assert!(
        menu.text_or_caption().starts_with("🌐 Язык: русский"),
        "{menu:?}"
    );
    choose(
        &ann,
        &menu,
        "lang:speech=auto",
        "✅ Готово: отвечаю по-русски, язык речи определяю сам",
    )
    .await;
    let detected = offer(&ann).await;
    assert_eq!(detected.text_or_caption(), "Что сделать с изображением?");
    let ocr_auto = Operation::ocr("auto").callback_data();
    assert!(buttons(&detected).contains(&ocr_auto), "{detected:?}");

    // A Russian Telegram switches to English.
    let boris = system.user(6202, "ru");
    let menu = ask_message(&boris, "/language").await;
    assert!(
        menu.text_or_caption().starts_with("🌐 Язык: русский"),
        "{menu:?}"
    );
    choose(&boris, &menu, "lang:en", "✅ Done: I answer in English").await;
    let balance = ask_message(&boris, "/balance").await;
    assert!(
        balance.text_or_caption().starts_with("Your balance"),
        "{balance:?}"
    );
    assert_eq!(system.balance(6201).await, 3000, "nothing charged");
}
