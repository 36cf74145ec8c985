//! A real teloxide 0.17 Dispatcher against the sandbox, in long-polling and in webhook mode: commands, text,
//! photo with caption, voice, a document over 20 MB refused by getFile, an inline button with its answer and
//! edit ("not modified" on the second edit), an injected 429 honoured, a message over 4096 characters refused.
//! The bot reports what happened by replying in the chat; the tests read the chat through the control API.

use std::{net::SocketAddr, time::Instant};

use serde_json::json;
use teloxide::{
    ApiError, RequestError,
    dispatching::{Dispatcher, UpdateFilterExt, UpdateHandler},
    error_handlers::LoggingErrorHandler,
    net::Download,
    prelude::*,
    types::{InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters},
    update_listeners::webhooks,
};

use crate::helpers::{TestApp, USER, fixture};

type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn schema() -> UpdateHandler<Box<dyn std::error::Error + Send + Sync>> {
    dptree::entry()
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_callback_query().endpoint(on_callback))
}

/// Sends a text, honouring 429 `retry_after` as a well-behaved bot must.
async fn send_with_retry(
    bot: &Bot,
    chat_id: ChatId,
    text: String,
) -> Result<Message, RequestError> {
    loop {
        match bot.send_message(chat_id, text.clone()).await {
            Err(RequestError::RetryAfter(wait)) => tokio::time::sleep(wait.duration()).await,
            other => return other,
        }
    }
}

async fn on_message(bot: Bot, msg: Message) -> HandlerResult {
    let chat = msg.chat.id;
    if let Some(text) = msg.text() {
        if text.starts_with("/start") {
            let keyboard = InlineKeyboardMarkup::new(vec![vec![
                InlineKeyboardButton::callback("Yes", "yes"),
                InlineKeyboardButton::callback("No", "no"),
            ]]);
            bot.send_message(chat, "Welcome! Pick one")
                .reply_parameters(ReplyParameters::new(msg.id))
                .reply_markup(keyboard)
                .await?;
        } else if text == "long" {
            let reply = match bot.send_message(chat, "x".repeat(4097)).await {
                Err(RequestError::Api(ApiError::MessageIsTooLong)) => "too long refused".to_owned(),
                other => format!("unexpected: {other:?}"),
            };
            bot.send_message(chat, reply).await?;
        } else if text == "retry" {
            let started = Instant::now();
            send_with_retry(&bot, chat, "retry part".to_owned()).await?;
            bot.send_message(
                chat,
                format!("retried after {} ms", started.elapsed().as_millis()),
            )
            .await?;
        } else {
            bot.send_message(chat, format!("echo: {text}")).await?;
        }
    } else if let Some(photo) = msg.photo().and_then(|sizes| sizes.last()) {
        let file = bot.get_file(photo.file.id.clone()).await?;
        let mut bytes = Vec::new();
        bot.download_file(&file.path, &mut bytes).await?;
        let caption = msg.caption().unwrap_or("");
        bot.send_message(
            chat,
            format!(
                "photo {}x{} {} bytes, caption: {caption}",
                photo.width,
                photo.height,
                bytes.len()
            ),
        )
        .await?;
    } else if let Some(voice) = msg.voice() {
        let file = bot.get_file(voice.file.id.clone()).await?;
        bot.send_message(
            chat,
            format!("voice {} s, {} bytes", voice.duration.seconds(), file.size),
        )
        .await?;
    } else if let Some(document) = msg.document() {
        let reply = match bot.get_file(document.file.id.clone()).await {
            Ok(file) => format!("document {} bytes", file.size),
            Err(RequestError::Api(err)) => format!("getFile refused: {err}"),
            Err(err) => format!("unexpected: {err}"),
        };
        bot.send_message(chat, reply).await?;
    }
    Ok(())
}

async fn on_callback(bot: Bot, query: CallbackQuery) -> HandlerResult {
    let data = query.data.clone().unwrap_or_default();
    bot.answer_callback_query(query.id.clone())
        .text(format!("Got {data}"))
        .await?;
    let Some(message) = query.regular_message() else {
        return Ok(());
    };
    // The mediabot gateway finds the user's message through the button message's reply_to_message.
    let replied = message
        .reply_to_message()
        .and_then(|m| m.text())
        .unwrap_or("none");
    let text = format!("You chose {data}; replied-to: {replied}");
    bot.edit_message_text(message.chat.id, message.id, &text)
        .await?;
    let reply = match bot
        .edit_message_text(message.chat.id, message.id, &text)
        .await
    {
        Err(RequestError::Api(ApiError::MessageNotModified)) => "not modified: ok".to_owned(),
        other => format!("unexpected: {other:?}"),
    };
    bot.send_message(message.chat.id, reply).await?;
    Ok(())
}

fn bot_for(app: &TestApp) -> Bot {
    Bot::new(&app.token).set_api_url(reqwest::Url::parse(&app.sandbox.base_url()).unwrap())
}

/// Runs the bot with long polling until the returned guard is dropped.
fn start_polling(app: &TestApp) -> tokio::task::JoinHandle<()> {
    let bot = bot_for(app);
    tokio::spawn(async move {
        Dispatcher::builder(bot, schema()).build().dispatch().await;
    })
}

struct Running(tokio::task::JoinHandle<()>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[tokio::test]
async fn polling_command_button_edit_and_text() {
    let app = TestApp::spawn().await;
    let _bot = Running(start_polling(&app));

    let start = app.user_text(USER, "/start").await;
    assert_eq!(
        start["entities"],
        json!([{ "type": "bot_command", "offset": 0, "length": 6 }])
    );
    let welcome = app.wait_bot_text(USER, "Welcome! Pick one").await;
    assert_eq!(
        welcome["reply_to_message"]["message_id"],
        start["message_id"]
    );
    assert_eq!(
        welcome["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        "yes"
    );

    let query = app
        .press(USER, welcome["message_id"].as_i64().unwrap(), "yes")
        .await;
    assert_eq!(query["message"]["reply_to_message"]["text"], "/start");
    let answer = app
        .wait_entry(USER, "the callback answer", |e| {
            e["kind"] == "callback_answer"
        })
        .await;
    assert_eq!(answer["text"], "Got yes");
    assert_eq!(answer["callback_query_id"], query["id"]);
    let edited = app
        .wait_bot_text(USER, "You chose yes; replied-to: /start")
        .await;
    assert_eq!(edited["message_id"], welcome["message_id"]);
    assert!(edited["edit_date"].is_i64());
    assert!(
        edited.get("reply_markup").is_none(),
        "an edit without reply_markup removes the keyboard"
    );
    app.wait_bot_text(USER, "not modified: ok").await;

    // A second answer of the same query is refused like a late one.
    let (code, description) = app
        .err(
            "answerCallbackQuery",
            json!({ "callback_query_id": query["id"] }),
        )
        .await;
    assert_eq!(code, 400);
    assert_eq!(
        description,
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    );

    app.user_text(USER, "hello there").await;
    app.wait_bot_text(USER, "echo: hello there").await;
}

#[tokio::test]
async fn polling_photo_voice_and_big_document() {
    let app = TestApp::spawn().await;
    let _bot = Running(start_polling(&app));

    let sent = app
        .user_file(
            USER,
            "photo",
            fixture("images/nokia-8.3-4608x1976.jpg"),
            "nokia.jpg",
            Some("a street"),
        )
        .await;
    let sizes = sent["photo"].as_array().unwrap();
    assert!(sizes.len() >= 3);
    let largest = sizes.last().unwrap();
    assert_eq!(
        largest["width"]
            .as_u64()
            .unwrap()
            .max(largest["height"].as_u64().unwrap()),
        1280
    );
    let reply = app.wait_bot_text(USER, "caption: a street").await;
    let expected = format!(
        "photo {}x{} {} bytes",
        largest["width"], largest["height"], largest["file_size"]
    );
    assert!(
        reply["text"].as_str().unwrap().starts_with(&expected),
        "{reply}"
    );

    let voice = app
        .user_file(
            USER,
            "voice",
            fixture("audio/jfk-voice.ogg"),
            "voice.ogg",
            None,
        )
        .await;
    assert_eq!(voice["voice"]["duration"], 11);
    assert_eq!(voice["voice"]["mime_type"], "audio/ogg");
    app.wait_bot_text(
        USER,
        &format!("voice 11 s, {} bytes", voice["voice"]["file_size"]),
    )
    .await;

    let big = app
        .user_file(
            USER,
            "document",
            vec![7u8; 21 * 1024 * 1024],
            "big.bin",
            None,
        )
        .await;
    assert_eq!(big["document"]["file_size"], 21 * 1024 * 1024);
    assert_eq!(big["document"]["file_name"], "big.bin");
    app.wait_bot_text(USER, "getFile refused").await;
    app.wait_bot_text(USER, "file is too big").await;
}

#[tokio::test]
async fn polling_too_long_message_and_injected_429() {
    let app = TestApp::spawn().await;
    let _bot = Running(start_polling(&app));

    app.user_text(USER, "long").await;
    app.wait_bot_text(USER, "too long refused").await;

    let response = app
        .http
        .post(app.url("/sandbox/faults"))
        .json(&json!({ "method": "sendMessage", "count": 1, "error_code": 429, "retry_after": 1 }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    app.user_text(USER, "retry").await;
    app.wait_bot_text(USER, "retry part").await;
    let report = app.wait_bot_text(USER, "retried after").await;
    let millis: u64 = report["text"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        millis >= 1000,
        "the bot waited retry_after before retrying: {millis} ms"
    );
}

#[tokio::test]
async fn webhook_mode_round_trip() {
    let app = TestApp::spawn().await;
    let bot = bot_for(&app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let url = reqwest::Url::parse(&format!("http://{addr}/webhook")).unwrap();
    let options = webhooks::Options::new(addr, url.clone());
    let (update_listener, stop, router) = webhooks::axum_to_router(bot.clone(), options)
        .await
        .unwrap();
    let server = Running(tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(stop)
            .await
            .unwrap();
    }));
    let dispatcher = Running(tokio::spawn(async move {
        Dispatcher::builder(bot, schema())
            .build()
            .dispatch_with_listener(
                update_listener,
                LoggingErrorHandler::with_custom_text("webhook listener"),
            )
            .await;
    }));

    let info = app.ok("getWebhookInfo", json!({})).await;
    assert_eq!(info["url"], url.as_str());
    let (code, description) = app.err("getUpdates", json!({})).await;
    assert_eq!(code, 409);
    assert!(
        description.starts_with("Conflict: can't use getUpdates method while webhook is active")
    );

    let start = app.user_text(USER, "/start").await;
    let welcome = app.wait_bot_text(USER, "Welcome! Pick one").await;
    assert_eq!(
        welcome["reply_to_message"]["message_id"],
        start["message_id"]
    );
    app.press(USER, welcome["message_id"].as_i64().unwrap(), "no")
        .await;
    app.wait_bot_text(USER, "You chose no; replied-to: /start")
        .await;
    app.wait_bot_text(USER, "not modified: ok").await;
    app.user_file(
        USER,
        "voice",
        fixture("audio/jfk-voice.ogg"),
        "voice.ogg",
        None,
    )
    .await;
    app.wait_bot_text(USER, "voice 11 s").await;
    assert_eq!(
        app.ok("getWebhookInfo", json!({})).await["pending_update_count"],
        0
    );
    drop(dispatcher);
    drop(server);
}
