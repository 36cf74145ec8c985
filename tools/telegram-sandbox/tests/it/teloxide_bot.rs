//! A real teloxide 0.17 Dispatcher against the sandbox, in long-polling and in webhook mode: commands, text,
//! photo with caption, voice, a video and a round video note (their fields as teloxide parses them, and the
//! file downloaded), a document over 20 MB refused by getFile, an inline button with its answer and
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

use telegram_sandbox::client::{Fault, InputFile, MediaKind, NewMessage};

use crate::helpers::{DEADLINE, TestApp, USER, fixture};

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
    } else if let Some(video) = msg.video() {
        let file = bot.get_file(video.file.id.clone()).await?;
        let mut bytes = Vec::new();
        bot.download_file(&file.path, &mut bytes).await?;
        let mime = video.mime_type.as_ref().map(|m| m.to_string());
        bot.send_message(
            chat,
            format!(
                "video {}x{} {} s {}, {} bytes",
                video.width,
                video.height,
                video.duration.seconds(),
                mime.unwrap_or_default(),
                bytes.len()
            ),
        )
        .await?;
    } else if let Some(note) = msg.video_note() {
        let file = bot.get_file(note.file.id.clone()).await?;
        let mut bytes = Vec::new();
        bot.download_file(&file.path, &mut bytes).await?;
        bot.send_message(
            chat,
            format!(
                "video note {} px {} s, {} bytes",
                note.length,
                note.duration.seconds(),
                bytes.len()
            ),
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

/// Videos and video notes as the Bot API delivers them: teloxide parses `video` (width, height, duration,
/// MIME type) and `video_note` (length, duration), and downloads the file through getFile.
#[tokio::test]
async fn polling_video_and_video_note() {
    let app = TestApp::spawn().await;
    let _bot = Running(start_polling(&app));
    let ann = app.user(USER);

    let mp4 = fixture("video/jfk-640x360-25fps.mp4");
    let sent = ann
        .send_video(InputFile::bytes(mp4.clone(), "jfk.mp4"))
        .await
        .unwrap();
    let video = sent.video.as_ref().unwrap();
    // The first track's length (the picture's), rounded: 11 or 12 s.
    assert!((11..=12).contains(&video.duration), "{}", video.duration);
    assert_eq!(video.extra["width"], 640);
    assert_eq!(video.extra["height"], 360);
    assert_eq!(video.extra["mime_type"], "video/mp4");
    assert_eq!(video.extra["file_name"], "jfk.mp4");
    assert!(video.file_id.starts_with("BAAC"), "{}", video.file_id);
    ann.wait_bot_text(
        &format!(
            "video 640x360 {} s video/mp4, {} bytes",
            video.duration,
            mp4.len()
        ),
        DEADLINE,
    )
    .await
    .unwrap();

    let round = fixture("video/video-note-ru-384.mp4");
    let sent = ann
        .send_video_note(InputFile::bytes(round.clone(), "note.mp4"))
        .await
        .unwrap();
    let note = sent.video_note.as_ref().unwrap();
    assert!((11..=12).contains(&note.duration), "{}", note.duration);
    assert_eq!(note.extra["length"], 384);
    assert!(note.file_id.starts_with("DQAC"), "{}", note.file_id);
    ann.wait_bot_text(
        &format!(
            "video note 384 px {} s, {} bytes",
            note.duration,
            round.len()
        ),
        DEADLINE,
    )
    .await
    .unwrap();

    // The sender's duration wins over the file's, as with the Bot API's `duration` parameter.
    let sent = ann
        .send(
            NewMessage::file(
                MediaKind::VideoNote,
                InputFile::bytes(round.clone(), "note.mp4"),
            )
            .duration(700),
        )
        .await
        .unwrap();
    assert_eq!(sent.video_note.as_ref().unwrap().duration, 700);
    ann.wait_bot_text("video note 384 px 700 s", DEADLINE)
        .await
        .unwrap();
}

#[tokio::test]
async fn polling_command_button_edit_and_text() {
    let app = TestApp::spawn().await;
    let _bot = Running(start_polling(&app));
    let ann = app.user(USER);

    let start = ann.send_text("/start").await.unwrap();
    assert_eq!(
        json!(start.entities),
        json!([{ "type": "bot_command", "offset": 0, "length": 6 }])
    );
    let welcome = ann
        .wait_bot_text("Welcome! Pick one", DEADLINE)
        .await
        .unwrap();
    assert_eq!(welcome.reply_to_message_id(), Some(start.message_id));
    assert_eq!(welcome.first_callback_data(), Some("yes"));

    let query = ann.press(welcome.message_id, "yes").await.unwrap();
    let pressed = query.message.as_ref().unwrap();
    assert_eq!(
        pressed.reply_to_message.as_ref().unwrap().text.as_deref(),
        Some("/start")
    );
    assert_eq!(query.from.id, USER);
    assert_eq!(query.data.as_deref(), Some("yes"));
    let answer = ann.wait_callback_answer(&query.id, DEADLINE).await.unwrap();
    assert_eq!(answer.text.as_deref(), Some("Got yes"));
    assert_eq!(answer.message_id, welcome.message_id);
    let edited = ann
        .wait_bot_text("You chose yes; replied-to: /start", DEADLINE)
        .await
        .unwrap();
    assert_eq!(edited.message_id, welcome.message_id);
    assert!(edited.edit_date.is_some());
    assert!(
        edited.reply_markup.is_none(),
        "an edit without reply_markup removes the keyboard"
    );
    ann.wait_bot_text("not modified: ok", DEADLINE)
        .await
        .unwrap();

    // A second answer of the same query is refused like a late one.
    let (code, description) = app
        .err(
            "answerCallbackQuery",
            json!({ "callback_query_id": query.id }),
        )
        .await;
    assert_eq!(code, 400);
    assert_eq!(
        description,
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    );

    ann.send_text("hello there").await.unwrap();
    ann.wait_bot_text("echo: hello there", DEADLINE)
        .await
        .unwrap();
}

#[tokio::test]
async fn polling_photo_voice_and_big_document() {
    let app = TestApp::spawn().await;
    let _bot = Running(start_polling(&app));
    let ann = app.user(USER);

    let sent = ann
        .send(
            NewMessage::file(
                MediaKind::Photo,
                InputFile::bytes(fixture("images/nokia-8.3-4608x1976.jpg"), "nokia.jpg"),
            )
            .caption("a street"),
        )
        .await
        .unwrap();
    assert!(sent.photo.len() >= 3);
    let largest = sent.largest_photo().unwrap();
    assert_eq!(largest.width.max(largest.height), 1280);
    assert_eq!(sent.caption.as_deref(), Some("a street"));
    let reply = ann
        .wait_bot_text("caption: a street", DEADLINE)
        .await
        .unwrap();
    let expected = format!(
        "photo {}x{} {} bytes",
        largest.width, largest.height, largest.file_size
    );
    assert!(reply.text_or_caption().starts_with(&expected), "{reply:?}");

    let voice = ann
        .send_voice(InputFile::bytes(
            fixture("audio/jfk-voice.ogg"),
            "voice.ogg",
        ))
        .await
        .unwrap();
    let note = voice.voice.as_ref().unwrap();
    assert_eq!(note.duration, 11);
    assert_eq!(note.mime_type.as_deref(), Some("audio/ogg"));
    ann.wait_bot_text(&format!("voice 11 s, {} bytes", note.file_size), DEADLINE)
        .await
        .unwrap();

    let big = ann
        .send_document(InputFile::bytes(vec![7u8; 21 * 1024 * 1024], "big.bin"))
        .await
        .unwrap();
    let document = big.document.as_ref().unwrap();
    assert_eq!(document.file_size, 21 * 1024 * 1024);
    assert_eq!(document.file_name.as_deref(), Some("big.bin"));
    ann.wait_bot_text("getFile refused", DEADLINE)
        .await
        .unwrap();
    ann.wait_bot_text("file is too big", DEADLINE)
        .await
        .unwrap();
}

#[tokio::test]
async fn polling_too_long_message_and_injected_429() {
    let app = TestApp::spawn().await;
    let _bot = Running(start_polling(&app));
    let ann = app.user(USER);

    ann.send_text("long").await.unwrap();
    ann.wait_bot_text("too long refused", DEADLINE)
        .await
        .unwrap();

    let pending = app
        .client
        .inject_fault(&Fault::too_many_requests("sendMessage", 1))
        .await
        .unwrap();
    assert_eq!(
        (pending.method.as_str(), pending.pending),
        ("sendmessage", 1)
    );
    ann.send_text("retry").await.unwrap();
    ann.wait_bot_text("retry part", DEADLINE).await.unwrap();
    let report = ann.wait_bot_text("retried after", DEADLINE).await.unwrap();
    let millis: u64 = report
        .text_or_caption()
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        millis >= 1000,
        "the bot waited retry_after before retrying: {millis} ms"
    );
    // The refused call is in the chat, as the person watching it sees it.
    let refused = ann
        .wait_for("the injected 429", DEADLINE, |e| {
            e.api_error().filter(|a| a.error_code == 429).cloned()
        })
        .await
        .unwrap();
    assert_eq!(
        (
            refused.method.as_str(),
            refused.error_code,
            refused.retry_after
        ),
        ("sendMessage", 429, Some(1))
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
    let bots = app.client.bots().await.unwrap();
    assert_eq!(bots.len(), 1);
    assert_eq!(bots[0].webhook_url.as_deref(), Some(url.as_str()));

    let ann = app.user(USER);
    let start = ann.send_text("/start").await.unwrap();
    let welcome = ann
        .wait_bot_text("Welcome! Pick one", DEADLINE)
        .await
        .unwrap();
    assert_eq!(welcome.reply_to_message_id(), Some(start.message_id));
    ann.press(welcome.message_id, "no").await.unwrap();
    ann.wait_bot_text("You chose no; replied-to: /start", DEADLINE)
        .await
        .unwrap();
    ann.wait_bot_text("not modified: ok", DEADLINE)
        .await
        .unwrap();
    ann.send_voice(InputFile::bytes(
        fixture("audio/jfk-voice.ogg"),
        "voice.ogg",
    ))
    .await
    .unwrap();
    ann.wait_bot_text("voice 11 s", DEADLINE).await.unwrap();
    assert_eq!(
        app.ok("getWebhookInfo", json!({})).await["pending_update_count"],
        0
    );
    drop(dispatcher);
    drop(server);
}
