//! The Bot API wire format with plain HTTP: tokens, method names, body encodings, Telegram's limits and error
//! texts, getUpdates semantics, files, webhooks, flood control, faults, and the control API's 400s.

use std::time::{Duration, Instant};

use reqwest::{StatusCode, multipart};
use serde_json::{Value, json};
use telegram_sandbox::Config;

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
    let response = app
        .http
        .post(app.url("/sandbox/chats/5/messages?bot=111"))
        .json(&json!({ "from": { "id": 5, "first_name": "Bo" }, "text": "hi" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
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
    app.user_text(USER, "hello").await;

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
    app.user_text(USER, "hi").await;
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
    let history = app.history(USER, 0, 0).await;
    let entries = history["entries"].as_array().unwrap();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
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
    assert_eq!(entries[2]["method"], "editMessageText");
    assert_eq!(entries[2]["error_code"], 400);
    assert_eq!(entries[2]["description"], not_modified);
    assert_eq!(entries[1]["message"]["text"], "two");
    assert!(entries[1]["message"]["edit_date"].is_i64());
    assert!(entries[1]["message"].get("reply_markup").is_none());
    assert_eq!(entries[0]["message"]["from"]["is_bot"], false);
    assert_eq!(entries[1]["message"]["from"]["is_bot"], true);

    let cursor = history["cursor"].as_i64().unwrap();
    app.ok(
        "deleteMessage",
        json!({ "chat_id": USER, "message_id": id }),
    )
    .await;
    let newer = app.history(USER, cursor, 0).await;
    assert_eq!(newer["entries"][0]["kind"], "deleted");
    let (_, description) = app
        .err(
            "deleteMessage",
            json!({ "chat_id": USER, "message_id": id }),
        )
        .await;
    assert_eq!(description, "Bad Request: message to delete not found");

    // A history long poll wakes up when something new arrives (the cursor is read after the refused
    // deleteMessage, whose api_error entry is already in the history).
    let cursor = app.history(USER, 0, 0).await["cursor"].as_i64().unwrap();
    let waiter = {
        let http = app.http.clone();
        let url = app.url(&format!(
            "/sandbox/chats/{USER}/messages?after={cursor}&wait=20"
        ));
        tokio::spawn(async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
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
    assert_eq!(woke["entries"][0]["message"]["text"], "wake");
}

#[tokio::test]
async fn get_updates_offsets_and_long_poll() {
    let app = TestApp::spawn().await;
    for text in ["a", "b", "c"] {
        app.user_text(USER, text).await;
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
    app.user_text(USER, "d").await;
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
    app.user_text(USER, "e").await;
    assert_eq!(app.ok("getUpdates", json!({})).await, json!([]));
}

#[tokio::test]
async fn files_round_trip_and_reuse() {
    let app = TestApp::spawn().await;
    let document = fixture("images/canon-40d.jpg");
    let user = app
        .user_file(USER, "document", document.clone(), "camera.jpg", None)
        .await;
    assert_eq!(user["document"]["mime_type"], "image/jpeg");
    assert_eq!(user["document"]["file_name"], "camera.jpg");
    let file = app
        .ok("getFile", json!({ "file_id": user["document"]["file_id"] }))
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
    let audio = app
        .user_file(USER, "audio", fixture("audio/jfk.mp3"), "jfk.mp3", None)
        .await;
    assert_eq!(audio["audio"]["duration"], 11);
    assert_eq!(audio["audio"]["mime_type"], "audio/mpeg");
    let again = app
        .user_file(USER, "audio", fixture("audio/jfk.mp3"), "jfk.mp3", None)
        .await;
    assert_eq!(
        again["audio"]["file_unique_id"],
        audio["audio"]["file_unique_id"]
    );

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
        .http
        .get(app.url(&format!(
            "/sandbox/files/{}",
            largest["file_id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap()
        .bytes()
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
            json!({ "chat_id": USER, "document": user["document"]["file_id"], "caption": "again" }),
        )
        .await;
    assert_eq!(voice["document"]["file_id"], user["document"]["file_id"]);
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
            { "type": "document", "media": user["document"]["file_id"] },
        ] }),
        )
        .await;
    assert_eq!(group.as_array().unwrap().len(), 2);
    assert_eq!(group[0]["media_group_id"], group[1]["media_group_id"]);
}

#[tokio::test]
async fn user_photo_is_reencoded_like_telegram() {
    let app = TestApp::spawn().await;
    let original = fixture("images/iphone6-3264x2448.jpg");
    let message = app
        .user_file(USER, "photo", original, "iphone.jpg", Some("hdr"))
        .await;
    let sizes = message["photo"].as_array().unwrap();
    let sides: Vec<u64> = sizes
        .iter()
        .map(|s| {
            s["width"]
                .as_u64()
                .unwrap()
                .max(s["height"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(sides, [90, 320, 800, 1280]);
    assert_eq!(message["caption"], "hdr");
    for size in sizes {
        assert!(size["file_size"].as_u64().unwrap() > 0);
        let bytes = app
            .http
            .get(app.url(&format!(
                "/sandbox/files/{}",
                size["file_id"].as_str().unwrap()
            )))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
        // Metadata is stripped: no EXIF APP1 segment.
        assert!(!bytes.windows(4).any(|w| w == b"Exif"));
    }
    // Every EXIF orientation comes out the same way up.
    let mut shapes = Vec::new();
    for n in [1, 3, 6, 8] {
        let m = app
            .user_file(
                USER,
                "photo",
                fixture(&format!("images/orientation/landscape_{n}.jpg")),
                "o.jpg",
                None,
            )
            .await;
        let last = m["photo"].as_array().unwrap().last().unwrap().clone();
        shapes.push((last["width"].clone(), last["height"].clone()));
    }
    assert!(shapes.windows(2).all(|w| w[0] == w[1]), "{shapes:?}");

    let response = app
        .http
        .post(app.url(&format!("/sandbox/chats/{USER}/messages")))
        .multipart(multipart::Form::new().part(
            "photo",
            multipart::Part::bytes(b"not an image".to_vec()).file_name("bad.jpg"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn flood_control_answers_429_with_retry_after() {
    let app = TestApp::spawn_with(Config {
        token: Some(TOKEN.to_owned()),
        flood_control: true,
        ..Config::for_tests()
    })
    .await;
    app.user_text(USER, "hi").await;
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
}

#[tokio::test]
async fn injected_faults() {
    let app = TestApp::spawn().await;
    app.user_text(USER, "hi").await;
    let fault = |body: Value| {
        let http = app.http.clone();
        let url = app.url("/sandbox/faults");
        async move { http.post(url).json(&body).send().await.unwrap().status() }
    };
    assert_eq!(fault(json!({ "method": "sendMessage", "count": 2, "error_code": 400, "description": "Bad Request: chat not found" })).await, StatusCode::OK);
    for _ in 0..2 {
        let (_, description) = app
            .err("sendMessage", json!({ "chat_id": USER, "text": "x" }))
            .await;
        assert_eq!(description, "Bad Request: chat not found");
    }
    app.ok("sendMessage", json!({ "chat_id": USER, "text": "x" }))
        .await;
    assert_eq!(
        fault(json!({ "method": "getUpdates", "error_code": 502 })).await,
        StatusCode::OK
    );
    let (code, _) = app.err("getUpdates", json!({})).await;
    assert_eq!(code, 502);
    app.ok("getUpdates", json!({})).await;
    assert_eq!(
        fault(json!({ "method": "sendMessage", "error_code": 700 })).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        fault(json!({ "oops": true })).await,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn control_api_bad_requests_are_400_with_a_reason() {
    let app = TestApp::spawn().await;
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
        post("/sandbox/chats/5/messages", r#"{"text":""}"#).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(
            "/sandbox/chats/5/messages",
            r#"{"from":{"id":6},"text":"x"}"#
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post("/sandbox/chats/5/callback", r#"{"message_id":"x"}"#).await,
        StatusCode::BAD_REQUEST
    );
    app.user_text(5, "hi").await;
    app.ok("sendMessage", json!({ "chat_id": 5, "text": "no buttons" }))
        .await;
    assert_eq!(
        post(
            "/sandbox/chats/5/callback",
            r#"{"message_id":2,"data":"x"}"#
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.http
            .get(app.url("/sandbox/files/none"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
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
        .user_text(-100, "/help@sandbox_123456789_bot in a group")
        .await;
    assert_eq!(message["chat"]["type"], "group");
    assert_eq!(message["entities"][0]["length"], 27);

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
    assert_eq!(update["message"]["text"], message["text"]);
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
