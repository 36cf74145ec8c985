//! Test helpers: a sandbox on a free port, raw calls to the Bot API (the wire format under test), the typed
//! control client (`telegram_sandbox::client`) for acting as users, and fixtures. Waits go through the
//! client's history long poll with a deadline (never a fixed sleep).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use telegram_sandbox::{
    Config, Sandbox,
    client::{ChatUser, SandboxClient, User},
    spawn,
};

/// The token the test sandboxes accept.
pub const TOKEN: &str = "123456789:AAH_sandbox_test_token_0123456789";

/// Private chat (user) id used by the tests.
pub const USER: i64 = 424242;

/// How long any condition may take before a test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A file of the shared fixtures (`../shared/fixtures/` of the project root), by its path there.
pub fn fixture_path(path: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(format!(
        "{}/../../../shared/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

pub fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../../shared/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

pub struct TestApp {
    pub sandbox: Sandbox,
    /// For the Bot API side, which stays raw HTTP on purpose: it is the wire format under test.
    pub http: reqwest::Client,
    /// The control API.
    pub client: SandboxClient,
    pub token: String,
}

impl TestApp {
    /// A sandbox that accepts only [`TOKEN`], flood control on.
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
        let client = SandboxClient::new(sandbox.base_url());
        Self {
            sandbox,
            http: reqwest::Client::new(),
            client,
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

    /// Takes the updates the bot has now (getUpdates without waiting) and confirms them, as a polling bot
    /// does; returns their messages.
    pub async fn take_updates(&self) -> Vec<Value> {
        let updates = self
            .ok("getUpdates", serde_json::json!({ "timeout": 0 }))
            .await;
        let updates = updates.as_array().unwrap().clone();
        if let Some(last) = updates.last() {
            let offset = last["update_id"].as_i64().unwrap() + 1;
            self.ok(
                "getUpdates",
                serde_json::json!({ "offset": offset, "timeout": 0 }),
            )
            .await;
        }
        updates.into_iter().map(|u| u["message"].clone()).collect()
    }

    /// The person of chat `chat_id` (Ann, language `en`): in a private chat its id is the chat id, in a group
    /// (negative id) it is [`USER`].
    pub fn user(&self, chat_id: i64) -> ChatUser {
        let id = if chat_id > 0 { chat_id } else { USER };
        self.client
            .chat_user(chat_id, User::new(id, "Ann").language("en"))
    }
}
