//! `/balance`, `/history` and `/add_balance` end to end through the sandbox.

use std::time::{Duration, Instant};

use mediabot_proto::billing::v1::billing_client::BillingClient;
use mediabot_proto::billing::v1::{GetBalanceRequest, TopUpRequest};
use serde_json::{Value, json};
use service_runtime::config::{NatsArgs, TelemetryArgs};
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "4242424242:gateway-test-token-abcdefghij";
const ADMIN: i64 = 5001;
const USER: i64 = 5002;

struct System {
    http: reqwest::Client,
    sandbox: String,
    billing: BillingClient<tonic::transport::Channel>,
    shutdown: CancellationToken,
    _sandbox: telegram_sandbox::Sandbox,
    _nats: nats_test_server::NatsServer,
    _dir: tempfile::TempDir,
}

impl Drop for System {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn start() -> System {
    service_runtime::telemetry::init_for_tests();
    let shutdown = CancellationToken::new();
    let telemetry = TelemetryArgs {
        otlp_endpoint: None,
        log_format: "text".into(),
    };
    let nats = nats_test_server::NatsServer::start().unwrap();
    let sandbox = telegram_sandbox::spawn(telegram_sandbox::Config::for_tests())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let billing = billing::Application::build(billing::Config {
        command: None,
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("billing.sqlite").display()
        ),
        database_max_connections: 1,
        welcome_credit_minor: 3000,
        currency: "RUB".into(),
        prices: vec!["image.upscale_2x=500".parse().unwrap()],
        hold_timeout_secs: 1800,
        hold_sweep_interval_ms: 1000,
        nats: NatsArgs {
            nats_url: nats.url(),
        },
        telemetry: telemetry.clone(),
    })
    .await
    .unwrap();
    let billing_url = format!("http://{}", billing.grpc_addr());
    tokio::spawn(billing.run(shutdown.clone()));
    let gateway = gateway::Application::build(gateway::Config {
        telegram_token: TOKEN.parse().unwrap(),
        telegram_api_url: Some(sandbox.base_url().parse().unwrap()),
        billing_url: billing_url.clone(),
        imaging_url: "http://127.0.0.1:1".into(),
        speech_url: "http://127.0.0.1:1".into(),
        max_file_bytes: 20 * 1024 * 1024,
        max_audio_secs: 600,
        admin_ids: ADMIN.to_string().parse().unwrap(),
        delivery_concurrency: 2,
        nats: NatsArgs {
            nats_url: nats.url(),
        },
        telemetry,
    })
    .await
    .unwrap();
    tokio::spawn(gateway.run(shutdown.clone()));
    System {
        http: reqwest::Client::new(),
        sandbox: sandbox.base_url(),
        billing: BillingClient::connect(billing_url).await.unwrap(),
        shutdown,
        _sandbox: sandbox,
        _nats: nats,
        _dir: dir,
    }
}

impl System {
    /// `user` sends `text` in their private chat; returns the message id.
    async fn send(&self, user: i64, language: &str, text: &str) -> i64 {
        let from =
            json!({"id": user, "is_bot": false, "first_name": "Test", "language_code": language});
        let response: Value = self
            .http
            .post(format!("{}/sandbox/chats/{user}/messages", self.sandbox))
            .json(&json!({"from": from, "text": text}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        response["message_id"].as_i64().unwrap()
    }

    /// The bot's first reply after message `after` in `user`'s chat.
    async fn reply(&self, user: i64, after: i64) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let history: Value = self
                .http
                .get(format!("{}/sandbox/chats/{user}/messages", self.sandbox))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let found = history["entries"].as_array().and_then(|entries| {
                entries.iter().find_map(|e| {
                    let m = &e["message"];
                    (e["kind"] == "message"
                        && m["from"]["is_bot"] == true
                        && m["message_id"].as_i64().unwrap_or(0) > after)
                        .then(|| m["text"].as_str().unwrap_or_default().to_string())
                })
            });
            if let Some(text) = found {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "no reply after {after} in chat {user}: {history}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends `text` and waits for the reply.
    async fn ask(&self, user: i64, language: &str, text: &str) -> String {
        let id = self.send(user, language, text).await;
        self.reply(user, id).await
    }

    async fn balance(&self, account_id: i64) -> i64 {
        self.billing
            .clone()
            .get_balance(GetBalanceRequest { account_id })
            .await
            .unwrap()
            .into_inner()
            .balance_minor
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn add_balance_history_and_balance() {
    let system = start().await;

    // Anyone else is refused and nothing happens.
    let refused = system.ask(USER, "ru", "/add_balance 100").await;
    assert!(refused.contains("только администраторам"), "{refused}");
    let refused = system
        .ask(USER, "en", &format!("/add_balance {USER} 100"))
        .await;
    assert!(refused.contains("administrators only"), "{refused}");
    assert_eq!(system.balance(USER).await, 3000);

    // Bad amounts are explained.
    for (text, needle) in [
        ("/add_balance", "Give an amount"),
        ("/add_balance -1", "above zero"),
        ("/add_balance 0", "above zero"),
        ("/add_balance 1.234", "two decimals"),
        ("/add_balance abc", "number of rubles"),
        ("/add_balance 100001", "At most 100000 ₽"),
    ] {
        let reply = system.ask(ADMIN, "en", text).await;
        assert!(reply.contains(needle), "{text}: {reply}");
    }
    assert_eq!(system.balance(ADMIN).await, 3000);

    // The admin's own account, then another one.
    let own = system.ask(ADMIN, "ru", "/add_balance 100,50").await;
    assert!(own.contains("Начислено 100,50 ₽"), "{own}");
    assert_eq!(system.balance(ADMIN).await, 3000 + 10_050);
    let message = system
        .send(ADMIN, "en", &format!("/add_balance {USER} 20"))
        .await;
    let other = system.reply(ADMIN, message).await;
    assert!(
        other.contains(&format!("Credited 20 ₽ to account {USER}. Balance: 50 ₽")),
        "{other}"
    );
    assert_eq!(system.balance(USER).await, 5000);

    // The same update again (a replay) uses the same idempotency key: billing credits nothing twice.
    let replay = system
        .billing
        .clone()
        .top_up(TopUpRequest {
            account_id: USER,
            amount_minor: 2000,
            idempotency_key: gateway::admin::idempotency_key(ADMIN, message as i32),
            source: gateway::admin::source(ADMIN as u64),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replay.balance.unwrap().balance_minor, 5000);

    // /balance and /history.
    let balance = system.ask(USER, "en", "/balance").await;
    assert_eq!(balance, "Your balance: 50 ₽");
    let history = system.ask(USER, "ru", "/history").await;
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(
        lines[0], "Последние операции (время московское):",
        "{history}"
    );
    assert!(lines[1].ends_with(" · Пополнение · +20 ₽"), "{history}");
    assert!(
        lines[2].ends_with(" · Приветственный бонус · +30 ₽"),
        "{history}"
    );
    assert_eq!(lines.len(), 3, "{history}");
    let history = system.ask(USER, "en", "/history").await;
    assert!(
        history.starts_with("Latest operations (Moscow time):"),
        "{history}"
    );
}
