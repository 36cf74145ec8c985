//! The system the gateway tests run: the gateway started through `Application::build` against
//! telegram-sandbox (flood control on), a real nats-server and the real `billing` binary on SQLite.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mediabot_proto::billing::v1::GetBalanceRequest;
use mediabot_proto::billing::v1::billing_client::BillingClient;
use service_runtime::config::{NatsArgs, TelemetryArgs};
use telegram_sandbox::client::{ChatUser, Message, SandboxClient};
use tokio_util::sync::CancellationToken;

pub const TOKEN: &str = "4242424242:gateway-test-token-abcdefghij";
pub const ADMIN: i64 = 5001;
pub const USER: i64 = 5002;

/// The real `billing` binary, as a child process (killed on drop).
pub struct BillingProcess {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl BillingProcess {
    /// Kills billing and waits for it to exit.
    #[allow(dead_code, reason = "used by the metrics and ping tests")]
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for BillingProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A workspace binary next to this test's directory (`<target>/<profile>/`).
pub fn bin(name: &str) -> PathBuf {
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
pub async fn start_billing(nats_url: &str) -> BillingProcess {
    let dir = tempfile::tempdir().unwrap();
    let port = nats_test_server::ports::free_port().unwrap();
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
        .env("METRICS_LISTEN", "127.0.0.1:0")
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

pub struct System {
    pub sandbox: SandboxClient,
    pub billing: BillingClient<tonic::transport::Channel>,
    /// The gateway's metrics port (`/metrics`, `/healthz`, `/readyz`).
    #[allow(dead_code, reason = "read by the metrics test binary")]
    pub metrics_addr: std::net::SocketAddr,
    shutdown: CancellationToken,
    /// The billing process (kill it to take billing down).
    #[allow(dead_code, reason = "killed by the metrics and ping tests")]
    pub billing_process: BillingProcess,
    /// Cancelling it stops the sandbox: the Bot API becomes unreachable.
    #[allow(dead_code, reason = "used by the shutdown test only")]
    pub sandbox_stop: CancellationToken,
    /// The gateway's `run`; it ends after [`System::stop_gateway`].
    #[allow(dead_code, reason = "used by the shutdown test only")]
    pub gateway_task: tokio::task::JoinHandle<Result<(), gateway::Error>>,
    _sandbox: telegram_sandbox::Sandbox,
    _nats: nats_test_server::NatsServer,
}

impl Drop for System {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The secret the webhook tests give the gateway.
pub const WEBHOOK_SECRET: &str = "gateway-test-webhook-secret_1";

pub async fn start() -> System {
    start_with(None).await
}

/// Starts the system; with `webhook` (a free port) the gateway receives updates by webhook on
/// `http://127.0.0.1:{port}/telegram` instead of long polling.
pub async fn start_with(webhook: Option<u16>) -> System {
    start_inner(webhook, false).await
}

/// Starts the system with the gateway's stop requested before its `run` begins (a SIGTERM during
/// start-up).
#[allow(dead_code, reason = "used by the shutdown test only")]
pub async fn start_stopped() -> System {
    start_inner(None, true).await
}

async fn start_inner(webhook: Option<u16>, stopped_before_run: bool) -> System {
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
        documents_url: "http://127.0.0.1:1".into(),
        generation_url: "http://127.0.0.1:1".into(),
        max_file_bytes: 20 * 1024 * 1024,
        max_audio_secs: 600,
        admin_ids: ADMIN.to_string().parse().unwrap(),
        delivery_concurrency: 2,
        metrics_listen: "127.0.0.1:0".parse().unwrap(),
        webhook_url: webhook
            .map(|port| format!("http://127.0.0.1:{port}/telegram").parse().unwrap()),
        webhook_listen: format!("127.0.0.1:{}", webhook.unwrap_or(0))
            .parse()
            .unwrap(),
        webhook_secret: webhook.map(|_| WEBHOOK_SECRET.parse().unwrap()),
        api_listen: Some("127.0.0.1:0".parse().unwrap()),
        api_public_url: None,
        api_sync_wait_secs: 60,
        nats: NatsArgs {
            nats_url: nats.url(),
        },
        telemetry,
    })
    .await
    .unwrap();
    let metrics_addr = gateway.metrics_addr();
    if stopped_before_run {
        shutdown.cancel();
    }
    let gateway_task = tokio::spawn(gateway.run(shutdown.clone()));
    System {
        sandbox_stop: sandbox.shutdown_token(),
        gateway_task,
        sandbox: SandboxClient::new(sandbox.base_url()),
        billing: BillingClient::connect(billing.url.clone()).await.unwrap(),
        metrics_addr,
        shutdown,
        billing_process: billing,
        _sandbox: sandbox,
        _nats: nats,
    }
}

impl System {
    /// The sandbox's base URL (its Bot API is `{base}/bot<token>/<method>`).
    #[allow(dead_code, reason = "used by the metrics test binary only")]
    pub fn sandbox_url(&self) -> String {
        self._sandbox.base_url()
    }

    /// Stops the gateway (as SIGTERM does); the sandbox, NATS and billing keep running.
    #[allow(dead_code, reason = "used by the webhook test, not the metrics binary")]
    pub fn stop_gateway(&self) {
        self.shutdown.cancel();
    }

    pub fn user(&self, user: i64, language: &str) -> ChatUser {
        self.sandbox.user(user, "Test", language)
    }

    /// `user` sends `text` in their private chat; returns the message id.
    pub async fn send(&self, user: i64, language: &str, text: &str) -> i64 {
        self.user(user, language)
            .send_text(text)
            .await
            .unwrap()
            .message_id
    }

    /// The bot's first reply after message `after` in `user`'s chat.
    pub async fn reply(&self, user: i64, after: i64) -> String {
        self.user(user, "en")
            .wait_bot_message("a reply", Duration::from_secs(20), |m| m.message_id > after)
            .await
            .unwrap()
            .text_or_caption()
            .to_string()
    }

    /// Sends `text` and waits for the reply.
    pub async fn ask(&self, user: i64, language: &str, text: &str) -> String {
        let id = self.send(user, language, text).await;
        self.reply(user, id).await
    }

    pub async fn balance(&self, account_id: i64) -> i64 {
        self.billing
            .clone()
            .get_balance(GetBalanceRequest { account_id })
            .await
            .unwrap()
            .into_inner()
            .balance_minor
    }
}

/// A real phone photo from the shared fixtures.
#[allow(dead_code, reason = "not every test binary sends photos")]
pub fn photo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/images/canon-40d.jpg")
}

/// `user` sends `text`; returns the bot's first message after it (typed, unlike [`System::ask`]).
#[allow(dead_code, reason = "not every test binary uses it")]
pub async fn ask_message(user: &ChatUser, text: &str) -> Message {
    let sent = user.send_text(text).await.unwrap();
    user.wait_bot_message(text, Duration::from_secs(20), |m| {
        m.message_id > sent.message_id
    })
    .await
    .unwrap()
}
