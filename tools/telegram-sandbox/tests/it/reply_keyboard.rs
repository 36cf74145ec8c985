//! Reply keyboards (`ReplyKeyboardMarkup` in `reply_markup`): never part of a Message, but the chat's keyboard
//! under the input field until replaced, removed with `ReplyKeyboardRemove` or its message deleted; a
//! one-time keyboard hides once used; invalid markups fail the send with Telegram's texts; edits take inline
//! keyboards only. The bot side is raw HTTP (JSON, urlencoded, multipart) and a teloxide `Bot`; the user side
//! and the keyboard are read through the typed client.

use reqwest::multipart;
use serde_json::{Value, json};
use telegram_sandbox::{
    Config,
    client::{InputFile, ReplyKeyboard},
};
use teloxide::{
    prelude::*,
    types::{KeyboardButton, KeyboardMarkup, KeyboardRemove},
};

use crate::helpers::{TOKEN, TestApp, USER, fixture};

/// A sandbox for [`TOKEN`] with flood control off: these tests send more than a private chat's burst of 4
/// in a row, and pacing is not what they are about.
async fn app() -> TestApp {
    TestApp::spawn_with(Config {
        token: Some(TOKEN.to_owned()),
        flood_control: false,
        ..Config::for_tests()
    })
    .await
}

fn rows(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| row.iter().map(|text| (*text).to_owned()).collect())
        .collect()
}

fn message_id(message: &Value) -> i64 {
    message["message_id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_reply_keyboard_stays_until_replaced_or_removed() {
    let app = app().await;
    let ann = app.user(USER);
    assert_eq!(ann.reply_keyboard().await.unwrap(), None, "no chat yet");
    ann.send_text("/start").await.unwrap();
    assert_eq!(ann.reply_keyboard().await.unwrap(), None);

    let menu = json!({
        "keyboard": [[{ "text": "🎨 Создать" }, { "text": "✍️ Написать" }], ["💰 Баланс"]],
        "resize_keyboard": true,
        "is_persistent": true,
        "input_field_placeholder": "Выберите",
    });
    let sent = app
        .ok(
            "sendMessage",
            json!({ "chat_id": USER, "text": "Меню", "reply_markup": menu }),
        )
        .await;
    assert!(
        sent.get("reply_markup").is_none(),
        "Message.reply_markup is inline-only: {sent}"
    );
    let keyboard = ReplyKeyboard {
        rows: rows(&[&["🎨 Создать", "✍️ Написать"], &["💰 Баланс"]]),
        resize_keyboard: true,
        is_persistent: true,
        one_time_keyboard: false,
        input_field_placeholder: Some("Выберите".to_owned()),
        shown: true,
        message_id: message_id(&sent),
    };
    assert_eq!(ann.reply_keyboard().await.unwrap(), Some(keyboard.clone()));
    // The control API's JSON, field for field.
    let raw: Value = app
        .http
        .get(app.url(&format!("/sandbox/chats/{USER}/keyboard")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        raw,
        json!({ "keyboard": {
            "rows": [["🎨 Создать", "✍️ Написать"], ["💰 Баланс"]],
            "resize_keyboard": true, "is_persistent": true, "one_time_keyboard": false,
            "input_field_placeholder": "Выберите", "shown": true, "message_id": sent["message_id"],
        } })
    );
    let in_history = ann.messages().await.unwrap();
    let menu_message = in_history.last().unwrap();
    assert!(
        menu_message.reply_markup.is_none() && !menu_message.extra.contains_key("reply_markup")
    );

    // No reply_markup, an inline keyboard, ForceReply: the keyboard stays as it is.
    app.ok("sendMessage", json!({ "chat_id": USER, "text": "plain" }))
        .await;
    let inline = app
        .ok(
            "sendMessage",
            json!({ "chat_id": USER, "text": "inline",
                    "reply_markup": { "inline_keyboard": [[{ "text": "Go", "callback_data": "go" }]] } }),
        )
        .await;
    assert_eq!(
        inline["reply_markup"],
        json!({ "inline_keyboard": [[{ "text": "Go", "callback_data": "go" }]] })
    );
    app.ok(
        "sendMessage",
        json!({ "chat_id": USER, "text": "name?", "reply_markup": { "force_reply": true } }),
    )
    .await;
    assert_eq!(ann.reply_keyboard().await.unwrap(), Some(keyboard.clone()));

    // sendPhoto (multipart, reply_markup as a JSON string) with another keyboard replaces it.
    let form = multipart::Form::new()
        .text("chat_id", USER.to_string())
        .text("caption", "Ещё?")
        .text(
            "reply_markup",
            json!({ "keyboard": [["Да", "Нет"]], "one_time_keyboard": true }).to_string(),
        )
        .part(
            "photo",
            multipart::Part::bytes(fixture("images/canon-40d.jpg")).file_name("cat.jpg"),
        );
    let photo: Value = app
        .http
        .post(app.url(&format!("/bot{TOKEN}/sendPhoto")))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(photo["ok"], true, "{photo}");
    let replaced = ann.reply_keyboard().await.unwrap().unwrap();
    assert_eq!(
        replaced,
        ReplyKeyboard {
            rows: rows(&[&["Да", "Нет"]]),
            resize_keyboard: false,
            is_persistent: false,
            one_time_keyboard: true,
            input_field_placeholder: None,
            shown: true,
            message_id: message_id(&photo["result"]),
        }
    );

    // sendDocument (urlencoded, a file_id) with ReplyKeyboardRemove clears it.
    let file_id = photo["result"]["photo"][0]["file_id"].as_str().unwrap();
    let removed: Value = app
        .http
        .post(app.url(&format!("/bot{TOKEN}/sendDocument")))
        .form(&[
            ("chat_id", USER.to_string()),
            ("document", file_id.to_owned()),
            ("reply_markup", r#"{"remove_keyboard":true}"#.to_owned()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(removed["ok"], true, "{removed}");
    assert!(removed["result"].get("reply_markup").is_none());
    assert_eq!(ann.reply_keyboard().await.unwrap(), None);

    // Deleting the message that set a keyboard takes the keyboard with it (TDLib does); deleting another
    // message does not.
    let again = app
        .ok(
            "sendMessage",
            json!({ "chat_id": USER, "text": "Меню", "reply_markup": menu }),
        )
        .await;
    app.ok(
        "deleteMessage",
        json!({ "chat_id": USER, "message_id": inline["message_id"] }),
    )
    .await;
    assert_eq!(
        ann.reply_keyboard().await.unwrap().map(|k| k.message_id),
        Some(message_id(&again))
    );
    app.ok(
        "deleteMessage",
        json!({ "chat_id": USER, "message_id": again["message_id"] }),
    )
    .await;
    assert_eq!(ann.reply_keyboard().await.unwrap(), None);

    // Chat ids are checked like everywhere in the control API.
    let bad = app
        .http
        .get(app.url("/sandbox/chats/abc/keyboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), reqwest::StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_invalid_reply_keyboard_fails_the_send_with_telegrams_text() {
    let app = app().await;
    let ann = app.user(USER);
    ann.send_text("/start").await.unwrap();
    let set = app
        .ok(
            "sendMessage",
            json!({ "chat_id": USER, "text": "Меню", "reply_markup": { "keyboard": [["A", "B"]] } }),
        )
        .await;
    let before = ann.reply_keyboard().await.unwrap();
    assert_eq!(
        before.as_ref().map(|k| k.message_id),
        Some(message_id(&set))
    );
    let sent_before = ann.messages().await.unwrap().len();

    for (markup, description) in [
        (
            json!("{\"keyboard\": [[\"A\"]"),
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        (
            json!([["A"]]),
            "Bad Request: object expected as reply markup",
        ),
        (
            json!({ "keyboard": "A" }),
            "Bad Request: field \"keyboard\" must be of type Array",
        ),
        (
            json!({ "keyboard": ["A", "B"] }),
            "Bad Request: field \"keyboard\" must be an Array of Arrays",
        ),
        (
            json!({ "keyboard": [[{ "request_location": true }]] }),
            "Bad Request: can't parse keyboard button: Can't find field \"text\"",
        ),
        (
            json!({ "keyboard": [[true]] }),
            "Bad Request: can't parse keyboard button: KeyboardButton must be a String or an Object",
        ),
        (
            json!({ "keyboard": [["A"]], "one_time_keyboard": "yes" }),
            "Bad Request: field \"one_time_keyboard\" must be of type Boolean",
        ),
        (
            json!({ "inline_keyboard": [[{ "text": "Go" }]] }),
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        ),
    ] {
        let (code, got) = app
            .err(
                "sendMessage",
                json!({ "chat_id": USER, "text": "x", "reply_markup": markup }),
            )
            .await;
        assert_eq!((code, got.as_str()), (400, description), "{markup}");
    }
    // The same through a media method: nothing is sent.
    let cat = ann
        .send_photo(InputFile::bytes(fixture("images/canon-40d.jpg"), "cat.jpg"))
        .await
        .unwrap();
    let (code, got) = app
        .err(
            "sendPhoto",
            json!({ "chat_id": USER, "photo": cat.file_id().unwrap(), "reply_markup": { "keyboard": [[{}]] } }),
        )
        .await;
    assert_eq!(
        (code, got.as_str()),
        (
            400,
            "Bad Request: can't parse keyboard button: Can't find field \"text\""
        )
    );
    // Buttons with an empty text are dropped, as TDLib drops them; a keyboard left without buttons is no
    // markup at all: the message goes, the keyboard stays.
    app.ok(
        "sendMessage",
        json!({ "chat_id": USER, "text": "empty", "reply_markup": { "keyboard": [["", ""], []] } }),
    )
    .await;
    assert_eq!(ann.reply_keyboard().await.unwrap(), before);
    let texts: Vec<String> = ann.messages().await.unwrap()[sent_before..]
        .iter()
        .map(|m| m.text_or_caption().to_owned())
        .collect();
    assert_eq!(
        texts,
        ["", "empty"],
        "only the user's photo and the last send"
    );
}

#[tokio::test]
async fn a_one_time_keyboard_hides_once_used_and_shows_when_sent_again() {
    let app = app().await;
    let ann = app.user(USER);
    ann.send_text("/start").await.unwrap();
    let question = json!({ "keyboard": [["Yes", "No"]], "one_time_keyboard": true });
    let asked = app
        .ok(
            "sendMessage",
            json!({ "chat_id": USER, "text": "Sure?", "reply_markup": question }),
        )
        .await;
    let shown = |k: Option<ReplyKeyboard>| k.map(|k| (k.shown, k.message_id));

    ann.send_text("maybe").await.unwrap();
    assert_eq!(
        shown(ann.reply_keyboard().await.unwrap()),
        Some((true, message_id(&asked))),
        "a text that is not a button leaves it shown"
    );
    ann.send_text("Yes").await.unwrap();
    let used = ann.reply_keyboard().await.unwrap().unwrap();
    assert_eq!(
        (used.shown, used.message_id, used.rows),
        (false, message_id(&asked), rows(&[&["Yes", "No"]])),
        "hidden, but kept"
    );
    app.ok("sendMessage", json!({ "chat_id": USER, "text": "ok" }))
        .await;
    assert_eq!(
        shown(ann.reply_keyboard().await.unwrap()),
        Some((false, message_id(&asked)))
    );
    let again = app
        .ok(
            "sendMessage",
            json!({ "chat_id": USER, "text": "Sure?", "reply_markup": question }),
        )
        .await;
    assert_eq!(
        shown(ann.reply_keyboard().await.unwrap()),
        Some((true, message_id(&again)))
    );

    // A keyboard that is not one-time stays shown when used.
    app.ok(
        "sendMessage",
        json!({ "chat_id": USER, "text": "Menu", "reply_markup": { "keyboard": [["Yes"]] } }),
    )
    .await;
    ann.send_text("Yes").await.unwrap();
    assert!(ann.reply_keyboard().await.unwrap().unwrap().shown);
}

#[tokio::test]
async fn edits_take_inline_keyboards_only() {
    let app = app().await;
    let ann = app.user(USER);
    ann.send_text("/start").await.unwrap();
    let inline = json!({ "inline_keyboard": [[{ "text": "Go", "callback_data": "go" }]] });
    let sent = app
        .ok(
            "sendMessage",
            json!({ "chat_id": USER, "text": "one", "reply_markup": inline }),
        )
        .await;
    let id = sent["message_id"].clone();
    for (method, markup) in [
        ("editMessageText", json!({ "keyboard": [["A"]] })),
        ("editMessageReplyMarkup", json!({ "keyboard": [["A"]] })),
        ("editMessageReplyMarkup", json!({ "remove_keyboard": true })),
        ("editMessageReplyMarkup", json!({ "force_reply": true })),
    ] {
        let (code, description) = app
            .err(
                method,
                json!({ "chat_id": USER, "message_id": id, "text": "two", "reply_markup": markup }),
            )
            .await;
        assert_eq!(
            (code, description.as_str()),
            (400, "Bad Request: inline keyboard expected"),
            "{method} {markup}"
        );
    }
    // The message is found first, as TDLib looks it up before the markup.
    let (_, description) = app
        .err(
            "editMessageText",
            json!({ "chat_id": USER, "message_id": 999, "text": "two", "reply_markup": { "keyboard": [["A"]] } }),
        )
        .await;
    assert_eq!(description, "Bad Request: message to edit not found");
    let message = ann.messages().await.unwrap().pop().unwrap();
    assert_eq!(
        (message.text.as_deref(), message.first_callback_data()),
        (Some("one"), Some("go"))
    );
    assert_eq!(ann.reply_keyboard().await.unwrap(), None);

    let other = json!({ "inline_keyboard": [[{ "text": "Stop", "callback_data": "stop" }]] });
    let edited = app
        .ok(
            "editMessageReplyMarkup",
            json!({ "chat_id": USER, "message_id": id, "reply_markup": other }),
        )
        .await;
    assert_eq!(edited["reply_markup"], other);
}

#[tokio::test]
async fn a_teloxide_bot_sets_and_removes_the_keyboard() {
    let app = app().await;
    let ann = app.user(USER);
    ann.send_text("/start").await.unwrap();
    let bot = Bot::new(TOKEN).set_api_url(reqwest::Url::parse(&app.sandbox.base_url()).unwrap());
    let menu = KeyboardMarkup::new([
        [
            KeyboardButton::new("🎨 Create"),
            KeyboardButton::new("💰 Balance"),
        ],
        [
            KeyboardButton::new("ℹ️ Info"),
            KeyboardButton::new("❌ Cancel"),
        ],
    ])
    .resize_keyboard()
    .persistent()
    .input_field_placeholder("Pick a mode");
    let sent = bot
        .send_message(ChatId(USER), "Menu")
        .reply_markup(menu)
        .await
        .unwrap();
    assert!(sent.reply_markup().is_none());
    let keyboard = ann.reply_keyboard().await.unwrap().unwrap();
    assert_eq!(
        keyboard,
        ReplyKeyboard {
            rows: rows(&[&["🎨 Create", "💰 Balance"], &["ℹ️ Info", "❌ Cancel"]]),
            resize_keyboard: true,
            is_persistent: true,
            one_time_keyboard: false,
            input_field_placeholder: Some("Pick a mode".to_owned()),
            shown: true,
            message_id: i64::from(sent.id.0),
        }
    );
    assert!(keyboard.has_button("ℹ️ Info") && !keyboard.has_button("Info"));
    bot.send_message(ChatId(USER), "Bye")
        .reply_markup(KeyboardRemove::new())
        .await
        .unwrap();
    assert_eq!(ann.reply_keyboard().await.unwrap(), None);
}
