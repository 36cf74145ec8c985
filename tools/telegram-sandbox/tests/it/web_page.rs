//! The chat page's HTTP side without a browser: the static files with their content types, the command-menu
//! endpoint (setMyCommands resolved by scope and language) and refused Bot API calls recorded in the chat.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, USER};

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
    let url = |query: &str| app.url(&format!("/sandbox/chats/{USER}/commands{query}"));
    let empty: serde_json::Value = app
        .http
        .get(url(""))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        empty,
        json!({ "chat_id": USER, "language_code": "", "commands": [] })
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

    let description = |query: &'static str| {
        let request = app.http.get(url(query));
        async move {
            let body: serde_json::Value = request.send().await.unwrap().json().await.unwrap();
            body["commands"][0]["description"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(description("?language_code=ru").await, "this chat ru");
    assert_eq!(description("?language_code=en").await, "private");
    assert_eq!(description("").await, "private");
    // Groups do not see the private-chats scope.
    let group: serde_json::Value = app
        .http
        .get(app.url("/sandbox/chats/-77/commands?language_code=ru"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(group["commands"][0]["description"], "default ru");

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
    app.user_text(USER, "hi").await;
    let response = app
        .http
        .post(app.url("/sandbox/faults"))
        .json(&json!({ "method": "sendMessage", "error_code": 429, "retry_after": 3 }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let (code, _) = app
        .err("sendMessage", json!({ "chat_id": USER, "text": "hello" }))
        .await;
    assert_eq!(code, 429);
    let entry = app
        .wait_entry(USER, "the api_error entry", |e| e["kind"] == "api_error")
        .await;
    assert_eq!(entry["method"], "sendMessage");
    assert_eq!(entry["error_code"], 429);
    assert_eq!(entry["description"], "Too Many Requests: retry after 3");
    assert_eq!(entry["retry_after"], 3);

    // A refused call about a chat that does not exist records nothing (there is no chat to show it in).
    let (code, description) = app
        .err("sendMessage", json!({ "chat_id": 999, "text": "x" }))
        .await;
    assert_eq!(
        (code, description.as_str()),
        (400, "Bad Request: chat not found")
    );
    let response = app
        .http
        .get(app.url("/sandbox/chats/999/messages"))
        .send()
        .await
        .unwrap();
    let history: serde_json::Value = response.json().await.unwrap();
    assert_eq!(history["entries"], json!([]));
}
