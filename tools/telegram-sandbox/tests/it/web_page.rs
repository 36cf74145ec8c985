//! The chat page's HTTP side without a browser: the static files with their content types, the command-menu
//! endpoint (setMyCommands resolved by scope and language) and refused Bot API calls recorded in the chat.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use telegram_sandbox::client::{BotCommand, Fault, User};

use crate::helpers::{DEADLINE, TestApp, USER};

#[tokio::test]
async fn page_assets_are_served_with_content_types() {
    let app = TestApp::spawn().await;
    for (path, content_type, needle) in [
        ("/", "text/html; charset=utf-8", "<script src=\"/app.js\""),
        (
            "/app.js",
            "text/javascript; charset=utf-8",
            "/sandbox/chats/",
        ),
        ("/style.css", "text/css; charset=utf-8", "#messages"),
    ] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            content_type,
            "{path} content type"
        );
        assert_eq!(response.headers()["cache-control"], "no-cache");
        assert!(response.text().await.unwrap().contains(needle), "{path}");
    }
    // Anything else outside /sandbox/ is still read as Telegram reads it.
    let response = app.http.get(app.url("/nothing")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn commands_endpoint_resolves_scope_and_language() {
    let app = TestApp::spawn().await;
    let empty = app.client.commands(USER, "").await.unwrap();
    assert_eq!(
        (
            empty.chat_id,
            empty.language_code.as_str(),
            empty.commands.len()
        ),
        (USER, "", 0)
    );

    let start = |d: &str| json!([{ "command": "start", "description": d }]);
    app.ok("setMyCommands", json!({ "commands": start("default") }))
        .await;
    app.ok(
        "setMyCommands",
        json!({ "commands": start("default ru"), "language_code": "ru" }),
    )
    .await;
    app.ok(
        "setMyCommands",
        json!({ "commands": start("private"), "scope": { "type": "all_private_chats" } }),
    )
    .await;
    app.ok(
        "setMyCommands",
        json!({ "commands": start("this chat ru"), "scope": { "type": "chat", "chat_id": USER }, "language_code": "ru" }),
    )
    .await;

    let description = |chat_id: i64, language: &'static str| {
        let client = app.client.clone();
        async move {
            let menu = client.commands(chat_id, language).await.unwrap();
            assert_eq!(menu.language_code, language);
            menu.commands[0].description.clone()
        }
    };
    assert_eq!(description(USER, "ru").await, "this chat ru");
    assert_eq!(description(USER, "en").await, "private");
    assert_eq!(description(USER, "").await, "private");
    // Groups do not see the private-chats scope.
    assert_eq!(description(-77, "ru").await, "default ru");
    // A user handle asks in its own language.
    let ru = app
        .client
        .chat_user(USER, User::new(USER, "Аня").language("ru"))
        .commands()
        .await
        .unwrap();
    assert_eq!(
        ru.commands,
        [BotCommand {
            command: "start".to_owned(),
            description: "this chat ru".to_owned()
        }]
    );

    let bad = app
        .http
        .get(app.url("/sandbox/chats/abc/commands"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn refused_bot_calls_show_up_in_the_chat() {
    let app = TestApp::spawn().await;
    let ann = app.user(USER);
    ann.send_text("hi").await.unwrap();
    app.client
        .inject_fault(&Fault::too_many_requests("sendMessage", 3))
        .await
        .unwrap();
    let (code, _) = app
        .err("sendMessage", json!({ "chat_id": USER, "text": "hello" }))
        .await;
    assert_eq!(code, 429);
    let entry = ann
        .wait_for("the api_error entry", DEADLINE, |e| e.api_error().cloned())
        .await
        .unwrap();
    assert_eq!(entry.method, "sendMessage");
    assert_eq!(entry.error_code, 429);
    assert_eq!(entry.description, "Too Many Requests: retry after 3");
    assert_eq!(entry.retry_after, Some(3));

    // A refused call about a chat that does not exist records nothing (there is no chat to show it in).
    let (code, description) = app
        .err("sendMessage", json!({ "chat_id": 999, "text": "x" }))
        .await;
    assert_eq!(
        (code, description.as_str()),
        (400, "Bad Request: chat not found")
    );
    let history = app.client.history(999, 0, Duration::ZERO).await.unwrap();
    assert!(history.entries.is_empty(), "{history:?}");
}
