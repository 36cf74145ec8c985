//! Test helpers: a sandbox on a free port with typed calls to the Bot API and the control API, fixtures, and
//! waiting for a condition with a deadline (never a fixed sleep).

use std::time::Duration;

use reqwest::{StatusCode, multipart};
use serde_json::{Value, json};
use telegram_sandbox::{Config, Sandbox, spawn};

/// The token the test sandboxes accept.
pub const TOKEN: &str = "123456789:AAH_sandbox_test_token_0123456789";

/// Private chat (user) id used by the tests.
pub const USER: i64 = 424242;

/// How long any condition may take before a test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../../shared/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

pub struct TestApp {
    pub sandbox: Sandbox,
    pub http: reqwest::Client,
    pub token: String,
}

impl TestApp {
    /// A sandbox that accepts only [`TOKEN`], flood control off.
    pub async fn spawn() -> Self {
        Self::spawn_with(Config {
            token: Some(TOKEN.to_owned()),
            ..Config::for_tests()
        })
        .await
    }

    pub async fn spawn_with(config: Config) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("telegram_sandbox=debug")
                .with_test_writer()
                .try_init();
        }
        let token = config.token.clone().unwrap_or_else(|| TOKEN.to_owned());
        let sandbox = spawn(config).await.unwrap();
        Self {
            sandbox,
            http: reqwest::Client::new(),
            token,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    /// POSTs a JSON Bot API call; returns the status and the whole answer.
    pub async fn api(&self, method: &str, params: Value) -> (StatusCode, Value) {
        self.api_as(&self.token, method, params).await
    }

    pub async fn api_as(&self, token: &str, method: &str, params: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url(&format!("/bot{token}/{method}")))
            .json(&params)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// A Bot API call that must succeed; returns `result`.
    pub async fn ok(&self, method: &str, params: Value) -> Value {
        let (status, body) = self.api(method, params).await;
        assert_eq!(status, StatusCode::OK, "{method}: {body}");
        assert_eq!(body["ok"], true);
        body["result"].clone()
    }

    /// A Bot API call that must fail; returns `(error_code, description)`.
    pub async fn err(&self, method: &str, params: Value) -> (u64, String) {
        let (status, body) = self.api(method, params).await;
        assert_eq!(body["ok"], false, "{method} should fail: {body}");
        assert_eq!(
            body["error_code"].as_u64(),
            Some(u64::from(status.as_u16()))
        );
        (
            body["error_code"].as_u64().unwrap(),
            body["description"].as_str().unwrap().to_owned(),
        )
    }

    /// The user sends a text; returns the Message.
    pub async fn user_text(&self, chat_id: i64, text: &str) -> Value {
        let from = json!({ "id": if chat_id > 0 { chat_id } else { USER }, "first_name": "Ann", "language_code": "en" });
        let response = self
            .http
            .post(self.url(&format!("/sandbox/chats/{chat_id}/messages")))
            .json(&json!({ "from": from, "text": text }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// The user sends a file in the multipart field `field`; returns the Message.
    pub async fn user_file(
        &self,
        chat_id: i64,
        field: &str,
        bytes: Vec<u8>,
        file_name: &str,
        caption: Option<&str>,
    ) -> Value {
        let mut form = multipart::Form::new()
            .text(
                "from",
                json!({ "id": chat_id, "first_name": "Ann" }).to_string(),
            )
            .part(
                field.to_owned(),
                multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
            );
        if let Some(caption) = caption {
            form = form.text("caption", caption.to_owned());
        }
        let response = self
            .http
            .post(self.url(&format!("/sandbox/chats/{chat_id}/messages")))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// The user presses an inline button; returns the CallbackQuery.
    pub async fn press(&self, chat_id: i64, message_id: i64, data: &str) -> Value {
        let response = self
            .http
            .post(self.url(&format!("/sandbox/chats/{chat_id}/callback")))
            .json(&json!({ "from": { "id": chat_id, "first_name": "Ann" }, "message_id": message_id, "data": data }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub async fn history(&self, chat_id: i64, after: i64, wait: u64) -> Value {
        let response = self
            .http
            .get(self.url(&format!(
                "/sandbox/chats/{chat_id}/messages?after={after}&wait={wait}"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Waits (long-polling the history) until an entry of the chat matches; returns it.
    pub async fn wait_entry(
        &self,
        chat_id: i64,
        what: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        let mut cursor = 0;
        loop {
            // Re-read the whole history on each change so that edits of older entries are seen too.
            let all = self.history(chat_id, 0, 0).await;
            if let Some(entry) = all["entries"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| matches(e))
            {
                return entry.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; history: {}",
                all["entries"]
            );
            let newer = self.history(chat_id, cursor, 5).await;
            cursor = newer["cursor"].as_i64().unwrap();
        }
    }

    /// Waits for a message of the bot whose text contains `needle`.
    pub async fn wait_bot_text(&self, chat_id: i64, needle: &str) -> Value {
        let entry = self
            .wait_entry(
                chat_id,
                &format!("a bot message containing {needle:?}"),
                |e| {
                    e["kind"] == "message"
                        && e["message"]["from"]["is_bot"] == true
                        && e["message"]["text"]
                            .as_str()
                            .is_some_and(|t| t.contains(needle))
                },
            )
            .await;
        entry["message"].clone()
    }
}
