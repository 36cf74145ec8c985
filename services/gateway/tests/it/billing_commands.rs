//! `/balance`, `/history` and `/add_balance` end to end through the sandbox.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mediabot_proto::billing::v1::billing_client::BillingClient;
use mediabot_proto::billing::v1::{GetBalanceRequest, TopUpRequest};
use service_runtime::config::{NatsArgs, TelemetryArgs};
use telegram_sandbox::client::{ChatUser, SandboxClient};
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "4242424242:gateway-test-token-abcdefghij";
const ADMIN: i64 = 5001;
const USER: i64 = 5002;

/// The real `billing` binary, as a child process (killed on drop).
struct BillingProcess {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for BillingProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A workspace binary next to this test's directory (`<target>/<profile>/`).
fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().and_then(Path::parent).unwrap().join(name);
    assert!(
        path.exists(),
        "{} is missing: build the binaries first (`cargo build --workspace --bins`; scripts/test.sh does it)",
        path.display()
    );
    path
}

/// Starts billing on SQLite in a temporary directory and waits until it answers.
async fn start_billing(nats_url: &str) -> BillingProcess {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::fs::File::create(dir.path().join("billing.log")).unwrap();
    let child = Command::new(bin("billing"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env(
            "DATABASE_URL",
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("billing.sqlite").display()
            ),
        )
        .env("NATS_URL", nats_url)
        .env("WELCOME_CREDIT_MINOR", "3000")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut client) = BillingClient::connect(url.clone()).await
            && client
                .list_prices(mediabot_proto::billing::v1::ListPricesRequest {})
                .await
                .is_ok()
        {
            break;
        }
        assert!(Instant::now() < deadline, "billing did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    BillingProcess {
        child,
        url,
        _dir: dir,
    }
}

struct System {
    sandbox: SandboxClient,
    billing: BillingClient<tonic::transport::Channel>,
    shutdown: CancellationToken,
    _billing: BillingProcess,
    _sandbox: telegram_sandbox::Sandbox,
    _nats: nats_test_server::NatsServer,
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
    // Flood control on, as Telegram's always is: the gateway's replies must get through it.
    let sandbox = telegram_sandbox::spawn(telegram_sandbox::Config {
        flood_control: true,
        ..telegram_sandbox::Config::for_tests()
    })
    .await
    .unwrap();
    let billing = start_billing(&nats.url()).await;
    let gateway = gateway::Application::build(gateway::Config {
        telegram_token: TOKEN.parse().unwrap(),
        telegram_api_url: Some(sandbox.base_url().parse().unwrap()),
        billing_url: billing.url.clone(),
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
        sandbox: SandboxClient::new(sandbox.base_url()),
        billing: BillingClient::connect(billing.url.clone()).await.unwrap(),
        shutdown,
        _billing: billing,
        _sandbox: sandbox,
        _nats: nats,
    }
}

impl System {
    fn user(&self, user: i64, language: &str) -> ChatUser {
        self.sandbox.user(user, "Test", language)
    }

    /// `user` sends `text` in their private chat; returns the message id.
    async fn send(&self, user: i64, language: &str, text: &str) -> i64 {
        self.user(user, language)
            .send_text(text)
            .await
            .unwrap()
            .message_id
    }

    /// The bot's first reply after message `after` in `user`'s chat.
    async fn reply(&self, user: i64, after: i64) -> String {
        self.user(user, "en")
            .wait_bot_message("a reply", Duration::from_secs(20), |m| m.message_id > after)
            .await
            .unwrap()
            .text_or_caption()
            .to_string()
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
