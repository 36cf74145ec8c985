//! The Bot API wire format with plain HTTP: tokens, method names, body encodings, Telegram's limits and error
//! texts, getUpdates semantics, files, webhooks, flood control, faults, and the control API's 400s.

use std::time::{Duration, Instant};

use reqwest::{StatusCode, multipart};
use serde_json::{Value, json};
use telegram_sandbox::{
    Config,
    client::{ChatType, Fault, InputFile, MediaKind, NewMessage, User},
};

use crate::helpers::{TOKEN, TestApp, USER, fixture};

#[tokio::test]
async fn tokens_methods_and_get_me() {
    let app = TestApp::spawn().await;
    let me = app.ok("getMe", json!({})).await;
    for field in [
        "can_join_groups",
        "can_read_all_group_messages",
        "supports_inline_queries",
        "has_main_web_app",
        "can_connect_to_business",
    ] {
        assert!(me[field].is_boolean(), "getMe lacks {field}: {me}");
    }
    assert_eq!(me["id"], 123456789);
    assert_eq!(me["is_bot"], true);
    assert!(me["username"].as_str().unwrap().ends_with("bot"));

    // Method names in any case, GET with a query string.
    let response = app
        .http
        .get(app.url(&format!("/bot{TOKEN}/GETME")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let (status, body) = app
        .api_as(
            "987:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "getMe",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({ "ok": false, "error_code": 401, "description": "Unauthorized" })
    );
    let (status, body) = app.api("sendTelepathy", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({ "ok": false, "error_code": 404, "description": "Not Found" })
    );
}

#[tokio::test]
async fn any_well_formed_token_is_its_own_bot_without_token_flag() {
    let app = TestApp::spawn_with(Config::for_tests()).await;
    let (_, a) = app
        .api_as(
            "111:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "getMe",
            json!({}),
        )
        .await;
    let (_, b) = app
        .api_as(
            "222:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
            "getMe",
            json!({}),
        )
        .await;
    assert_eq!(a["result"]["id"], 111);
    assert_eq!(b["result"]["id"], 222);
    let (status, _) = app.api_as("abc:short", "getMe", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The control API picks a bot with ?bot=<id>.
    let bots = app.client.bots().await.unwrap();
    assert_eq!(bots.iter().map(|b| b.id).collect::<Vec<_>>(), [111, 222]);
    let sent = app
        .client
        .for_bot(111)
        .send_message(5, NewMessage::text("hi").from(User::new(5, "Bo")))
        .await
        .unwrap();
    assert_eq!(sent.chat.kind, ChatType::Private);
    assert_eq!(sent.chat.first_name.as_deref(), Some("Bo"));
    // Two bots and no --token: which one is meant must be said.
    let unknown = app
        .client
        .for_bot(333)
        .send_message(5, NewMessage::text("hi"))
        .await
        .unwrap_err();
    assert_eq!(unknown.status(), Some(StatusCode::NOT_FOUND), "{unknown}");
    let (_, updates) = app
        .api_as(
            "111:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "getUpdates",
            json!({}),
        )
        .await;
    assert_eq!(updates["result"].as_array().unwrap().len(), 1);
    let (_, updates) = app
        .api_as(
            "222:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
            "getUpdates",
            json!({}),
        )
        .await;
    assert_eq!(updates["result"], json!([]));
}

#[tokio::test]
async fn send_message_limits_and_formats() {
    let app = TestApp::spawn().await;
    let (_, description) = app
        .err("sendMessage", json!({ "chat_id": USER, "text": "hi" }))
        .await;
    assert_eq!(description, "Bad Request: chat not found");
    app.user(USER).send_text("hello").await.unwrap();

    let (_, description) = app
        .err("sendMessage", json!({ "chat_id": USER, "text": "" }))
        .await;
    assert_eq!(description, "Bad Request: message text is empty");
    let (_, description) = app
        .err(
            "sendMessage",
            json!({ "chat_id": USER, "text": "я".repeat(4097) }),
        )
        .await;
    assert_eq!(description, "Bad Request: message is too long");
    app.ok(
        "sendMessage",
        json!({ "chat_id": USER, "text": "я".repeat(4096) }),
    )
    .await;

    let html = app
        .ok(
            "sendMessage",
            json!({ "chat_id": USER, "text": "<b>Hi</b> <i>there</i>", "parse_mode": "HTML" }),
        )
        .await;
    assert_eq!(html["text"], "Hi there");
    assert_eq!(
        html["entities"],
        json!([{ "type": "bold", "offset": 0, "length": 2 }, { "type": "italic", "offset": 3, "length": 5 }])
    );
    let (_, description) = app
        .err(
            "sendMessage",
            json!({ "chat_id": USER, "text": "a.b", "parse_mode": "MarkdownV2" }),
        )
        .await;
    assert!(
        description.starts_with("Bad Request: can't parse entities"),
        "{description}"
    );

    // urlencoded and multipart bodies, nested objects as JSON strings.
    let markup =
        json!({ "inline_keyboard": [[{ "text": "A", "callback_data": "a" }]] }).to_string();
    let response = app
        .http
        .post(app.url(&format!("/bot{TOKEN}/sendMessage")))
        .form(&[
            ("chat_id", USER.to_string()),
            ("text", "form".to_owned()),
            ("reply_markup", markup.clone()),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["result"]["reply_markup"]["inline_keyboard"][0][0]["text"],
        "A"
    );
    let form = multipart::Form::new()
        .text("chat_id", USER.to_string())
        .text("text", "multipart")
        .text(
            "reply_parameters",
            json!({ "message_id": body["result"]["message_id"] }).to_string(),
        );
    let response = app
        .http
        .post(app.url(&format!("/bot{TOKEN}/SendMessage")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["result"]["reply_to_message"]["text"], "form");

    let (_, description) = app
        .err(
            "sendMessage",
            json!({ "chat_id": USER, "text": "x", "reply_parameters": { "message_id": 9999 } }),
        )
        .await;
    assert_eq!(description, "Bad Request: message to be replied not found");
}

#[tokio::test]
async fn edits_deletes_and_history() {
    let app = TestApp::spawn().await;
    app.user(USER).send_text("hi").await.unwrap();
    let markup = json!({ "inline_keyboard": [[{ "text": "Go", "callback_data": "go" }]] });
    let sent = app
        .ok(
            "sendMessage",
            json!({ "chat_id": USER, "text": "one", "reply_markup": markup }),
        )
        .await;
    let id = sent["message_id"].clone();

    let not_modified = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";
    let (_, description) = app
        .err(
            "editMessageText",
            json!({ "chat_id": USER, "message_id": id, "text": "one", "reply_markup": markup }),
        )
        .await;
    assert_eq!(description, not_modified);
    let edited = app
        .ok(
            "editMessageText",
            json!({ "chat_id": USER, "message_id": id, "text": "two", "reply_markup": markup }),
        )
        .await;
    assert_eq!(edited["text"], "two");
    let (_, description) = app
        .err(
            "editMessageReplyMarkup",
            json!({ "chat_id": USER, "message_id": id, "reply_markup": markup }),
        )
        .await;
    assert_eq!(description, not_modified);
    app.ok(
        "editMessageReplyMarkup",
        json!({ "chat_id": USER, "message_id": id }),
    )
    .await;
    let (_, description) = app
        .err(
            "editMessageText",
            json!({ "chat_id": USER, "message_id": 999, "text": "x" }),
        )
        .await;
    assert_eq!(description, "Bad Request: message to edit not found");
    let (_, description) = app
        .err(
            "editMessageCaption",
            json!({ "chat_id": USER, "message_id": id, "caption": "x".repeat(1025) }),
        )
        .await;
    assert_eq!(description, "Bad Request: message caption is too long");

    app.ok(
        "sendChatAction",
        json!({ "chat_id": USER, "action": "typing" }),
    )
    .await;
    let history = app.client.history(USER, 0, Duration::ZERO).await.unwrap();
    let entries = &history.entries;
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind()).collect();
    // The four refused calls are in the chat too, for a person watching it in the browser page.
    assert_eq!(
        kinds,
        [
            "message",
            "message",
            "api_error",
            "api_error",
            "api_error",
            "api_error",
            "chat_action"
        ]
    );
    let refused = entries[2].api_error().unwrap();
    assert_eq!(refused.method, "editMessageText");
    assert_eq!(refused.error_code, 400);
    assert_eq!(refused.description, not_modified);
    let bot_message = entries[1].bot_message().unwrap();
    assert_eq!(bot_message.text.as_deref(), Some("two"));
    assert!(bot_message.edit_date.is_some());
    assert!(bot_message.reply_markup.is_none());
    assert!(!entries[0].message().unwrap().is_from_bot());
    assert_eq!(
        entries[0]
            .message()
            .unwrap()
            .from
            .as_ref()
            .unwrap()
            .first_name,
        "Ann"
    );
    // The typed history is the same JSON the control API sent, field for field.
    let raw: Value = app
        .http
        .get(app.url(&format!("/sandbox/chats/{USER}/messages")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json!(history), raw);

    let cursor = history.cursor;
    app.ok(
        "deleteMessage",
        json!({ "chat_id": USER, "message_id": id }),
    )
    .await;
    let newer = app
        .client
        .history(USER, cursor, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(newer.entries[0].kind(), "deleted");
    assert_eq!(newer.entries[0].seq, id.as_i64().unwrap());
    assert_eq!(newer.messages().count(), 0);
    let (_, description) = app
        .err(
            "deleteMessage",
            json!({ "chat_id": USER, "message_id": id }),
        )
        .await;
    assert_eq!(description, "Bad Request: message to delete not found");

    // A history long poll wakes up when something new arrives (the cursor is read after the refused
    // deleteMessage, whose api_error entry is already in the history).
    let cursor = app
        .client
        .history(USER, 0, Duration::ZERO)
        .await
        .unwrap()
        .cursor;
    let waiter = {
        let client = app.client.clone();
        tokio::spawn(async move {
            client
                .history(USER, cursor, Duration::from_secs(20))
                .await
                .unwrap()
        })
    };
    let started = Instant::now();
    tokio::task::yield_now().await;
    app.ok("sendMessage", json!({ "chat_id": USER, "text": "wake" }))
        .await;
    let woke = waiter.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        woke.entries[0].message().unwrap().text.as_deref(),
        Some("wake")
    );
}

#[tokio::test]
async fn get_updates_offsets_and_long_poll() {
    let app = TestApp::spawn().await;
    let ann = app.user(USER);
    for text in ["a", "b", "c"] {
        ann.send_text(text).await.unwrap();
    }
    let updates = app.ok("getUpdates", json!({})).await;
    let ids: Vec<i64> = updates
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["update_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    let limited = app.ok("getUpdates", json!({ "limit": 1 })).await;
    assert_eq!(limited[0]["message"]["text"], "a");
    let last = app.ok("getUpdates", json!({ "offset": -1 })).await;
    assert_eq!(last.as_array().unwrap().len(), 1);
    assert_eq!(last[0]["message"]["text"], "c");
    let empty = app.ok("getUpdates", json!({ "offset": ids[2] + 1 })).await;
    assert_eq!(empty, json!([]));

    // Long poll: wakes when the user writes, well before the timeout.
    let poll = {
        let http = app.http.clone();
        let url = app.url(&format!("/bot{TOKEN}/getUpdates"));
        let offset = ids[2] + 1;
        tokio::spawn(async move {
            http.post(url)
                .json(&json!({ "offset": offset, "timeout": 20 }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    let started = Instant::now();
    ann.send_text("d").await.unwrap();
    let woke = poll.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(woke["result"][0]["message"]["text"], "d");

    // A timeout with nothing to deliver returns an empty list after about that long.
    let started = Instant::now();
    let none = app
        .ok("getUpdates", json!({ "offset": ids[2] + 2, "timeout": 1 }))
        .await;
    assert_eq!(none, json!([]));
    assert!(started.elapsed() >= Duration::from_millis(900));

    // allowed_updates filters out kinds the bot did not ask for.
    app.ok(
        "getUpdates",
        json!({ "offset": ids[2] + 2, "allowed_updates": ["callback_query"] }),
    )
    .await;
    ann.send_text("e").await.unwrap();
    assert_eq!(app.ok("getUpdates", json!({})).await, json!([]));
}

/// Two pollers of one bot, as two bot instances would be: the newer getUpdates ends the older long poll
/// with Telegram's 409, and the newer one gets the updates.
#[tokio::test]
async fn a_second_poller_ends_the_first_with_409() {
    let app = TestApp::spawn().await;
    let ann = app.user(USER);
    // A long poll of 20 s in its own task: its status and body.
    let poll = || {
        let url = app.url(&format!("/bot{TOKEN}/getUpdates"));
        let http = app.http.clone();
        tokio::spawn(async move {
            let response = http
                .post(url)
                .json(&json!({ "timeout": 20 }))
                .send()
                .await
                .unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        })
    };
    let first = poll();
    // The first poll is waiting (nothing to deliver) when the second one comes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let second = poll();
    let (status, body) = first.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "ended at once");
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["ok"], false);
    assert_eq!(
        body["description"],
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    );
    ann.send_text("hello").await.unwrap();
    let (status, second) = second.await.unwrap();
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["result"][0]["message"]["text"], "hello", "{second}");
    // One poller at a time is fine, however many calls it makes.
    assert_eq!(
        app.ok("getUpdates", json!({ "timeout": 0 })).await[0]["message"]["text"],
        "hello"
    );
}

#[tokio::test]
async fn a_replayed_update_comes_again_with_its_update_id() {
    let app = TestApp::spawn().await;
    let ann = app.user(USER);
    ann.send_text("a").await.unwrap();
    ann.send_text("b").await.unwrap();
    let updates = app.ok("getUpdates", json!({})).await;
    let last_id = updates[1]["update_id"].as_i64().unwrap();
    // Confirmed: nothing left.
    let none = app.ok("getUpdates", json!({ "offset": last_id + 1 })).await;
    assert_eq!(none, json!([]));

    // As for a bot that restarted before confirming: the same update once more, whatever the offset.
    assert_eq!(ann.replay_last_update().await.unwrap(), last_id);
    let again = app.ok("getUpdates", json!({ "offset": last_id + 1 })).await;
    assert_eq!(again.as_array().unwrap().len(), 1, "{again}");
    assert_eq!(again[0]["update_id"], last_id);
    assert_eq!(again[0]["message"]["text"], "b");
    // Once only.
    let after = app.ok("getUpdates", json!({ "offset": last_id + 1 })).await;
    assert_eq!(after, json!([]));

    // A chat with no update: 404 with a reason.
    let error = app.client.replay_last_update(USER + 1).await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
}

#[tokio::test]
async fn files_round_trip_and_reuse() {
    let app = TestApp::spawn().await;
    let ann = app.user(USER);
    let document = fixture("images/canon-40d.jpg");
    let user = ann
        .send_document(InputFile::bytes(document.clone(), "camera.jpg"))
        .await
        .unwrap();
    let user_document = user.document.clone().unwrap();
    assert_eq!(user_document.mime_type.as_deref(), Some("image/jpeg"));
    assert_eq!(user_document.file_name.as_deref(), Some("camera.jpg"));
    assert_eq!(
        ann.download(&user_document.file_id).await.unwrap().as_ref(),
        document.as_slice()
    );
    let file = app
        .ok("getFile", json!({ "file_id": user_document.file_id }))
        .await;
    let path = file["file_path"].as_str().unwrap();
    // teloxide percent-encodes the `/` of file_path.
    let encoded = path.replace('/', "%2F");
    let downloaded = app
        .http
        .get(app.url(&format!("/file/bot{TOKEN}/{encoded}")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(downloaded.as_ref(), document.as_slice());
    let (_, description) = app.err("getFile", json!({ "file_id": "nope" })).await;
    assert_eq!(description, "Bad Request: invalid file id");

    // Audio duration from the file; the same content keeps its file_unique_id.
    let mp3 = std::path::PathBuf::from(format!(
        "{}/../../../shared/fixtures/audio/jfk.mp3",
        env!("CARGO_MANIFEST_DIR")
    ));
    let audio = ann.send_audio(&mp3).await.unwrap().audio.unwrap();
    assert_eq!(audio.duration, 11);
    assert_eq!(audio.mime_type.as_deref(), Some("audio/mpeg"));
    assert_eq!(audio.file_name.as_deref(), Some("jfk.mp3"));
    let again = ann
        .send_audio(InputFile::bytes(fixture("audio/jfk.mp3"), "again.mp3"))
        .await
        .unwrap()
        .audio
        .unwrap();
    assert_eq!(again.file_unique_id, audio.file_unique_id);
    assert_ne!(again.file_id, audio.file_id);

    // The bot uploads a photo (multipart, attach://) and reuses its file_id.
    let form = multipart::Form::new()
        .text("chat_id", USER.to_string())
        .text("photo", "attach://pic")
        .text("caption", "<b>look</b>")
        .text("parse_mode", "HTML")
        .part(
            "pic",
            multipart::Part::bytes(fixture("images/orientation/landscape_6.jpg"))
                .file_name("p.jpg"),
        );
    let response = app
        .http
        .post(app.url(&format!("/bot{TOKEN}/SendPhoto")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    let photo = body["result"]["photo"].as_array().unwrap().clone();
    assert_eq!(body["result"]["caption"], "look");
    assert_eq!(body["result"]["caption_entities"][0]["type"], "bold");
    let largest = photo.last().unwrap();
    let bytes = app
        .client
        .download(largest["file_id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(bytes.len() as u64, largest["file_size"].as_u64().unwrap());
    let resent = app
        .ok(
            "sendPhoto",
            json!({ "chat_id": USER, "photo": largest["file_id"] }),
        )
        .await;
    assert_eq!(resent["photo"], json!(photo));

    let voice = app
        .ok(
            "sendDocument",
            json!({ "chat_id": USER, "document": user_document.file_id, "caption": "again" }),
        )
        .await;
    assert_eq!(voice["document"]["file_id"], user_document.file_id.as_str());
    let (_, description) = app
        .err(
            "sendDocument",
            json!({ "chat_id": USER, "document": "unknown-file" }),
        )
        .await;
    assert_eq!(
        description,
        "Bad Request: wrong file identifier/HTTP URL specified"
    );

    let group = app
        .ok(
            "sendMediaGroup",
            json!({ "chat_id": USER, "media": [
            { "type": "photo", "media": largest["file_id"], "caption": "first" },
            { "type": "document", "media": user_document.file_id },
        ] }),
        )
        .await;
    assert_eq!(group.as_array().unwrap().len(), 2);
    assert_eq!(group[0]["media_group_id"], group[1]["media_group_id"]);
}

#[tokio::test]
async fn user_photo_is_reencoded_like_telegram() {
    let app = TestApp::spawn().await;
    let ann = app.user(USER);
    let original = fixture("images/iphone6-3264x2448.jpg");
    let message = ann
        .send(
            NewMessage::file(MediaKind::Photo, InputFile::bytes(original, "iphone.jpg"))
                .caption("hdr"),
        )
        .await
        .unwrap();
    let sides: Vec<u32> = message
        .photo
        .iter()
        .map(|s| s.width.max(s.height))
        .collect();
    assert_eq!(sides, [90, 320, 800, 1280]);
    assert_eq!(message.caption.as_deref(), Some("hdr"));
    assert_eq!(
        message.file_id(),
        Some(message.photo[3].file_id.as_str()),
        "a photo's file is its largest size"
    );
    for size in &message.photo {
        assert!(size.file_size > 0);
        let bytes = ann.download(&size.file_id).await.unwrap();
        assert_eq!(bytes.len() as u64, size.file_size);
        assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
        // Metadata is stripped: no EXIF APP1 segment.
        assert!(!bytes.windows(4).any(|w| w == b"Exif"));
    }
    // Every EXIF orientation comes out the same way up.
    let mut shapes = Vec::new();
    for n in [1, 3, 6, 8] {
        let m = ann
            .send_photo(InputFile::bytes(
                fixture(&format!("images/orientation/landscape_{n}.jpg")),
                "o.jpg",
            ))
            .await
            .unwrap();
        let last = m.largest_photo().unwrap();
        shapes.push((last.width, last.height));
    }
    assert!(shapes.windows(2).all(|w| w[0] == w[1]), "{shapes:?}");

    let refused = app
        .client
        .send_message(
            USER,
            NewMessage::file(
                MediaKind::Photo,
                InputFile::bytes(b"not an image".to_vec(), "bad.jpg"),
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(StatusCode::BAD_REQUEST), "{refused}");
    assert!(
        refused.to_string().contains("can't process the photo"),
        "{refused}"
    );
}

#[tokio::test]
async fn flood_control_answers_429_with_retry_after() {
    let app = TestApp::spawn_with(Config {
        token: Some(TOKEN.to_owned()),
        flood_control: true,
        ..Config::for_tests()
    })
    .await;
    app.user(USER).send_text("hi").await.unwrap();
    assert!(app.client.flood_control().await.unwrap());
    let mut refused = None;
    for i in 0..10 {
        let (status, body) = app
            .api(
                "sendMessage",
                json!({ "chat_id": USER, "text": format!("m{i}") }),
            )
            .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(body);
            break;
        }
    }
    let body = refused.expect("a burst of 10 messages to one chat is limited");
    let retry_after = body["parameters"]["retry_after"].as_u64().unwrap();
    assert!(retry_after >= 1);
    assert_eq!(
        body["description"],
        format!("Too Many Requests: retry after {retry_after}")
    );
    assert_eq!(body["error_code"], 429);

    // Switched off at run time: the same burst goes through; switched on again, it is limited again.
    assert!(!app.client.set_flood_control(false).await.unwrap());
    assert!(!app.client.flood_control().await.unwrap());
    for i in 0..10 {
        app.ok(
            "sendMessage",
            json!({ "chat_id": USER, "text": format!("free {i}") }),
        )
        .await;
    }
    assert!(app.client.set_flood_control(true).await.unwrap());
    let mut limited = false;
    for i in 0..10 {
        let (status, _) = app
            .api(
                "sendMessage",
                json!({ "chat_id": USER, "text": format!("again {i}") }),
            )
            .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(limited, "flood control applies again once switched on");
}

#[tokio::test]
async fn flood_control_can_be_switched_on_at_run_time() {
    // This test is about the switch itself: off from the start (`--flood-control=false`), then on.
    let app = TestApp::spawn_with(Config {
        token: Some(TOKEN.to_owned()),
        flood_control: false,
        ..Config::for_tests()
    })
    .await;
    app.user(USER).send_text("hi").await.unwrap();
    assert!(!app.client.flood_control().await.unwrap());
    assert!(app.client.set_flood_control(true).await.unwrap());
    let mut statuses = Vec::new();
    for i in 0..10 {
        let (status, _) = app
            .api(
                "sendMessage",
                json!({ "chat_id": USER, "text": format!("m{i}") }),
            )
            .await;
        statuses.push(status.as_u16());
    }
    assert_eq!(
        statuses[..4],
        [200, 200, 200, 200],
        "a burst of 4 is allowed"
    );
    assert!(statuses.contains(&429), "{statuses:?}");
    let refused = app
        .user(USER)
        .wait_for(
            "flood control's 429 in the chat",
            Duration::from_secs(10),
            |e| e.api_error().filter(|a| a.error_code == 429).cloned(),
        )
        .await
        .unwrap();
    assert!(refused.retry_after.is_some_and(|s| s >= 1), "{refused:?}");
    let bad = reqwest::Client::new()
        .put(app.url("/sandbox/flood-control"))
        .json(&json!({ "enabled": "yes" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn injected_faults() {
    let app = TestApp::spawn().await;
    app.user(USER).send_text("hi").await.unwrap();
    let pending = app
        .client
        .inject_fault(
            &Fault::new("sendMessage", 400)
                .count(2)
                .description("Bad Request: chat not found"),
        )
        .await
        .unwrap();
    assert_eq!(pending.pending, 2);
    for _ in 0..2 {
        let (_, description) = app
            .err("sendMessage", json!({ "chat_id": USER, "text": "x" }))
            .await;
        assert_eq!(description, "Bad Request: chat not found");
    }
    app.ok("sendMessage", json!({ "chat_id": USER, "text": "x" }))
        .await;
    app.client
        .inject_fault(&Fault::new("getUpdates", 502))
        .await
        .unwrap();
    let (code, _) = app.err("getUpdates", json!({})).await;
    assert_eq!(code, 502);
    app.ok("getUpdates", json!({})).await;

    // Cleared faults never fire.
    app.client
        .inject_fault(&Fault::new("sendMessage", 500).count(3))
        .await
        .unwrap();
    app.client.clear_faults().await.unwrap();
    app.ok("sendMessage", json!({ "chat_id": USER, "text": "y" }))
        .await;

    for bad in [
        Fault::new("sendMessage", 700),
        Fault::new("send message", 400),
        Fault::new("sendMessage", 400).count(0),
    ] {
        let refused = app.client.inject_fault(&bad).await.unwrap_err();
        assert_eq!(refused.status(), Some(StatusCode::BAD_REQUEST), "{bad:?}");
    }
    // A body that is not a fault at all (the client cannot send one).
    let status = app
        .http
        .post(app.url("/sandbox/faults"))
        .json(&json!({ "oops": true }))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn control_api_bad_requests_are_400_with_a_reason() {
    let app = TestApp::spawn().await;
    // Bodies the typed client cannot produce: the server's own parsing, raw.
    let post = |path: &str, body: &'static str| {
        let request = app
            .http
            .post(app.url(path))
            .header("content-type", "application/json")
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            assert!(
                body["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{body}"
            );
            status
        }
    };
    assert_eq!(
        post("/sandbox/chats/abc/messages", r#"{"text":"x"}"#).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post("/sandbox/chats/5/messages", r#"{"text":"#).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post("/sandbox/chats/5/callback", r#"{"message_id":"x"}"#).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.http
            .get(app.url("/sandbox/chats/5/messages?wait=x"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::BAD_REQUEST
    );

    // What the client can send, refused with the status and the server's reason in the error.
    let refused =
        |result: Result<(), telegram_sandbox::client::ClientError>, status, needle: &str| {
            let err = result.expect_err("the sandbox refuses this");
            assert_eq!(err.status(), Some(status), "{err}");
            assert!(err.to_string().contains(needle), "{err}");
        };
    let client = &app.client;
    refused(
        client.send_message(5, NewMessage::text("")).await.map(drop),
        StatusCode::BAD_REQUEST,
        "needs a non-empty",
    );
    refused(
        client
            .send_message(5, NewMessage::text("x").from(User::new(6, "Eve")))
            .await
            .map(drop),
        StatusCode::BAD_REQUEST,
        "must equal the chat id 5",
    );
    refused(
        client
            .send_message(5, NewMessage::text("x".repeat(4097)))
            .await
            .map(drop),
        StatusCode::BAD_REQUEST,
        "longer than 4096",
    );
    refused(
        client.press_button(5, None, 1, "x").await.map(drop),
        StatusCode::NOT_FOUND,
        "no chat 5",
    );
    let five = app.user(5);
    five.send_text("hi").await.unwrap();
    app.ok("sendMessage", json!({ "chat_id": 5, "text": "no buttons" }))
        .await;
    refused(
        five.press(2, "x").await.map(drop),
        StatusCode::BAD_REQUEST,
        "no inline button",
    );
    refused(
        five.press(1, "x").await.map(drop),
        StatusCode::BAD_REQUEST,
        "only messages of the bot",
    );
    refused(
        five.send(NewMessage::text("re").reply_to(99))
            .await
            .map(drop),
        StatusCode::NOT_FOUND,
        "no message 99",
    );
    refused(
        five.download("none").await.map(drop),
        StatusCode::NOT_FOUND,
        "no file none",
    );
    let missing = five
        .send_photo(std::path::Path::new("/nonexistent/cat.jpg"))
        .await
        .unwrap_err();
    assert!(
        matches!(missing, telegram_sandbox::client::ClientError::File { .. }),
        "{missing}"
    );
    // A reply by the client carries reply_to_message.
    let reply = five.send(NewMessage::text("re").reply_to(2)).await.unwrap();
    assert_eq!(
        reply.reply_to_message.unwrap().text.as_deref(),
        Some("no buttons")
    );
}

#[tokio::test]
async fn group_chats_and_webhook_retries_with_secret() {
    use axum::{Router, extract::State, http::HeaderMap, routing::post};
    use std::sync::{Arc, Mutex};

    #[derive(Default)]
    struct Seen {
        calls: usize,
        updates: Vec<(Option<String>, Value)>,
    }
    async fn hook(
        State(seen): State<Arc<Mutex<Seen>>>,
        headers: HeaderMap,
        body: axum::Json<Value>,
    ) -> StatusCode {
        let mut seen = seen.lock().unwrap();
        seen.calls += 1;
        if seen.calls == 1 {
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        let secret = headers
            .get("x-telegram-bot-api-secret-token")
            .map(|v| v.to_str().unwrap().to_owned());
        seen.updates.push((secret, body.0));
        StatusCode::OK
    }
    let seen = Arc::new(Mutex::new(Seen::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new()
        .route("/hook", post(hook))
        .with_state(seen.clone());
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let app = TestApp::spawn().await;
    app.ok(
        "setWebhook",
        json!({ "url": format!("http://{addr}/hook"), "secret_token": "s3cret" }),
    )
    .await;
    let message = app
        .user(-100)
        .send_text("/help@sandbox_123456789_bot in a group")
        .await
        .unwrap();
    assert_eq!(message.chat.kind, ChatType::Group);
    assert_eq!(message.from.as_ref().unwrap().id, USER);
    assert_eq!(message.entities[0].length, 27);

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if !seen.lock().unwrap().updates.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "webhook never delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (secret, update) = seen.lock().unwrap().updates[0].clone();
    assert_eq!(secret.as_deref(), Some("s3cret"));
    assert_eq!(update["message"]["text"], message.text.as_deref().unwrap());
    let info = app.ok("getWebhookInfo", json!({})).await;
    assert!(
        info["last_error_message"].as_str().unwrap().contains("500"),
        "{info}"
    );
    app.ok("deleteWebhook", json!({ "drop_pending_updates": true }))
        .await;
    assert_eq!(app.ok("getWebhookInfo", json!({})).await["url"], "");
    server.abort();
}

/// A reader that follows the history's cursor sees every message the bot sends meanwhile: the entries and
/// the cursor come from one lock (read under two, a message stored in between was behind the cursor and
/// never returned). Four senders keep writing while the reader reads. Flood control is off here: this is
/// about the history under concurrent writes, and 2,000 sends at flood control's one a second would take
/// half an hour.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_following_the_cursor_sees_every_message_sent_meanwhile() {
    const SENDERS: usize = 4;
    const SENDS: usize = 500;
    let app = TestApp::spawn_with(Config {
        token: Some(TOKEN.to_owned()),
        flood_control: false,
        ..Config::for_tests()
    })
    .await;
    app.client
        .user(USER, "Ann", "en")
        .send_text("hi")
        .await
        .unwrap();
    let senders = (0..SENDERS).map(|sender| {
        let app = &app;
        async move {
            for i in 0..SENDS {
                let text = format!("{sender}.{i}");
                let (status, _) = app
                    .api("sendMessage", json!({ "chat_id": USER, "text": text }))
                    .await;
                assert_eq!(status, StatusCode::OK);
            }
        }
    });
    let reader = async {
        let (mut cursor, mut seen) = (0, std::collections::HashSet::new());
        let deadline = Instant::now() + Duration::from_secs(60);
        while seen.len() < SENDERS * SENDS && Instant::now() < deadline {
            let url = app.url(&format!(
                "/sandbox/chats/{USER}/messages?after={cursor}&wait=0.2"
            ));
            let answer: Value = app
                .http
                .get(url)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for entry in answer["entries"].as_array().unwrap() {
                if entry["kind"] == "message" && entry["message"]["from"]["is_bot"] == true {
                    seen.insert(entry["message"]["message_id"].as_i64().unwrap());
                }
            }
            cursor = answer["cursor"].as_i64().unwrap();
        }
        seen
    };
    let ((), seen) = tokio::join!(
        async {
            futures::future::join_all(senders).await;
        },
        reader
    );
    assert_eq!(seen.len(), SENDERS * SENDS, "messages the reader never got");
}
