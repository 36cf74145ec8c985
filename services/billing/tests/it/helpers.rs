//! `spawn_app` and friends: a running billing service on a fresh database, a gRPC client, polling.

use std::future::Future;
use std::time::{Duration, Instant};

use billing::{Application, Config};
use mediabot_proto::billing::v1::billing_client::BillingClient;
use mediabot_proto::billing::v1::{
    Balance, GetBalanceRequest, ListOperationsRequest, Operation, ReserveRequest,
};
use mediabot_proto::jobs::v1::Operation as JobOperation;
use service_runtime::config::{NatsArgs, TelemetryArgs};
use sqlx::{Connection as _, Executor as _};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

/// The database engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an `async fn name(backend: Backend)` once on SQLite and once on PostgreSQL, as the tests
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        )+
    };
}

/// A fresh database, removed on drop.
pub enum TestDb {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDb {
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("billing.sqlite").display()
                );
                TestDb::Sqlite { _dir: dir, url }
            }
            Backend::Postgres => {
                let admin_url = std::env::var("BILLING_TEST_PG_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
                let name = format!("billing_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("PostgreSQL at BILLING_TEST_PG_URL or 127.0.0.1:5432 (user postgres)");
                admin
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                let (base, query) = match admin_url.split_once('?') {
                    Some((base, query)) => (base, format!("?{query}")),
                    None => (admin_url.as_str(), String::new()),
                };
                let server = base.rsplit_once('/').map_or(base, |(server, _db)| server);
                let url = format!("{server}/{name}{query}");
                TestDb::Postgres {
                    admin_url,
                    name,
                    url,
                }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }
}

impl TestDb {
    /// PostgreSQL only: stops (`false`: refuses new connections and ends the open ones) or resumes
    /// (`true`) the service's access to its database, to play "the database is down".
    pub async fn set_reachable(&self, reachable: bool) {
        let TestDb::Postgres {
            admin_url, name, ..
        } = self
        else {
            panic!("only PostgreSQL databases can be taken down");
        };
        let mut admin = sqlx::PgConnection::connect(admin_url).await.unwrap();
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "ALTER DATABASE {name} ALLOW_CONNECTIONS {reachable}"
            )))
            .await
            .unwrap();
        if !reachable {
            admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                )))
                .await
                .unwrap();
        }
        admin.close().await.unwrap();
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
        {
            let (admin_url, db_name) = (admin_url.clone(), name.clone());
            // Drop runs outside async; a helper thread with its own runtime does the async clean-up.
            let cleanup = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                    admin
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"
                        )))
                        .await?;
                    admin.close().await
                })
            });
            if let Ok(Err(error)) = cleanup.join() {
                eprintln!("dropping test database {name} failed: {error}");
            }
        }
    }
}

/// Settings a test may change; [`Options::new`] gives the production defaults with a fast sweeper.
pub struct Options {
    pub backend: Backend,
    pub welcome_credit_minor: i64,
    pub hold_timeout_secs: u64,
    /// Start a nats-server for the service (otherwise NATS points at a port nobody listens on).
    pub nats: bool,
    /// Use this NATS URL instead (a server the test controls).
    pub nats_url: Option<String>,
    /// A price list file instead of the built-in one.
    pub prices_file: Option<std::path::PathBuf>,
}

impl Options {
    pub fn new(backend: Backend) -> Self {
        Self {
            backend,
            welcome_credit_minor: 3000,
            hold_timeout_secs: 1800,
            nats: false,
            nats_url: None,
            prices_file: None,
        }
    }
}

/// A running billing service.
pub struct TestApp {
    pub client: BillingClient<Channel>,
    pub addr: std::net::SocketAddr,
    /// The metrics port (`/metrics`).
    #[allow(dead_code, reason = "read by the metrics test binary")]
    pub metrics_addr: std::net::SocketAddr,
    pub nats: Option<nats_test_server::NatsServer>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<Result<(), billing::Error>>>,
    /// The service's ledger, for checks straight on the database.
    pub ledger: billing::ledger::Ledger,
    // Last: dropped after the service stopped using it. `None` when the test owns the database.
    _db: Option<TestDb>,
}

/// Starts billing on a fresh database with the default settings and no NATS.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(Options::new(backend)).await
}

/// Starts billing with `options` on a fresh database.
pub async fn spawn_app_with(options: Options) -> TestApp {
    let db = TestDb::create(options.backend).await;
    let mut app = spawn_app_on(&db, options).await;
    app._db = Some(db);
    app
}

/// Starts billing with `options` on a database the test keeps (to start billing on it again).
pub async fn spawn_app_on(db: &TestDb, options: Options) -> TestApp {
    service_runtime::telemetry::init_for_tests();
    let nats = options
        .nats
        .then(|| nats_test_server::NatsServer::start().unwrap());
    // Port 1 is privileged and never listened on here: "NATS is down" without stealing another
    // test's server that might reuse a freed port.
    let nats_url = match (&options.nats_url, &nats) {
        (Some(url), _) => url.clone(),
        (None, Some(nats)) => nats.url(),
        (None, None) => "nats://127.0.0.1:1".to_string(),
    };
    let config = Config {
        command: None,
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: "127.0.0.1:0".parse().unwrap(),
        database_url: db.url().to_string(),
        database_max_connections: 10,
        welcome_credit_minor: options.welcome_credit_minor,
        currency: "RUB".into(),
        prices_file: options.prices_file.clone(),
        hold_timeout_secs: options.hold_timeout_secs,
        hold_sweep_interval_ms: 50,
        nats: NatsArgs { nats_url },
        telemetry: TelemetryArgs {
            otlp_endpoint: None,
            log_format: "text".into(),
        },
    };
    let app = Application::build(config).await.expect("billing builds");
    let addr = app.grpc_addr();
    let metrics_addr = app.metrics_addr();
    let ledger = app.ledger().clone();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(app.run(shutdown.clone()));
    let client = BillingClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    TestApp {
        client,
        addr,
        metrics_addr,
        nats,
        shutdown,
        task: Some(task),
        ledger,
        _db: None,
    }
}

impl TestApp {
    /// The database the service runs on (if [`spawn_app_with`] created it).
    pub fn db(&self) -> &TestDb {
        self._db.as_ref().expect("a database owned by the app")
    }

    /// Stops the service and waits for it to finish (it must shut down cleanly).
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .expect("billing stops within 20 s")
                .unwrap()
                .unwrap();
        }
    }

    pub async fn balance(&self, account_id: i64) -> Balance {
        self.client
            .clone()
            .get_balance(GetBalanceRequest { account_id })
            .await
            .unwrap()
            .into_inner()
    }

    /// Reserve of `operation` (audio length unknown: one minute for per-minute prices).
    pub async fn reserve(
        &self,
        job_id: &str,
        account_id: i64,
        operation: JobOperation,
    ) -> Result<mediabot_proto::billing::v1::Hold, tonic::Status> {
        self.reserve_audio(job_id, account_id, operation, 0).await
    }

    /// Reserve of `operation` on `audio_duration_ms` of audio.
    pub async fn reserve_audio(
        &self,
        job_id: &str,
        account_id: i64,
        operation: JobOperation,
        audio_duration_ms: u64,
    ) -> Result<mediabot_proto::billing::v1::Hold, tonic::Status> {
        let request = ReserveRequest {
            job_id: job_id.into(),
            account_id,
            operation: Some(operation),
            audio_duration_ms,
        };
        self.client
            .clone()
            .reserve(request)
            .await
            .map(|r| r.into_inner())
    }

    /// Every ledger entry of the account, newest first.
    pub async fn all_operations(&self, account_id: i64) -> Vec<Operation> {
        let mut all = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .client
                .clone()
                .list_operations(ListOperationsRequest {
                    account_id,
                    page_size: 100,
                    page_token,
                })
                .await
                .unwrap()
                .into_inner();
            all.extend(page.operations);
            if page.next_page_token.is_empty() {
                return all;
            }
            page_token = page.next_page_token;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Polls `check` until it returns `Some`, failing after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A fresh job id.
pub fn job_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `image.upscale` ×2: 500 per job in the shipped price list.
pub fn upscale_2x() -> JobOperation {
    JobOperation::upscale(2)
}

/// `speech.transcribe` (language detected): 300 per started minute in the shipped price list.
pub fn transcribe() -> JobOperation {
    JobOperation::transcribe("auto")
}

/// Checks the ledger's invariants straight on the database: for every account, the stored balance is
/// the sum of its entries, the stored held sum is the sum of its pending holds, and nothing is
/// negative; then runs every invariant of `billing check` too.
pub async fn assert_ledger_consistent(app: &TestApp) {
    use sqlx::Row as _;
    let rows = sqlx::query(
        "SELECT a.id, a.balance_minor, a.held_minor, \
           CAST(COALESCE((SELECT SUM(e.amount_minor) FROM ledger_entries e WHERE e.account_id = a.id), 0) AS BIGINT) AS entries, \
           CAST(COALESCE((SELECT SUM(h.amount_minor) FROM holds h WHERE h.account_id = a.id AND h.state = 'pending'), 0) AS BIGINT) AS pending \
         FROM accounts a",
    )
    .fetch_all(app.ledger.db().pool())
    .await
    .unwrap();
    for row in rows {
        let id: i64 = row.try_get("id").unwrap();
        let balance: i64 = row.try_get("balance_minor").unwrap();
        let held: i64 = row.try_get("held_minor").unwrap();
        let entries: i64 = row.try_get("entries").unwrap();
        let pending: i64 = row.try_get("pending").unwrap();
        assert_eq!(balance, entries, "account {id}: balance vs. sum of entries");
        assert_eq!(held, pending, "account {id}: held vs. sum of pending holds");
        assert!(
            held >= 0 && balance - held >= 0,
            "account {id}: {balance} - {held}"
        );
    }
    assert_check_passes(app).await;
}

/// Runs the real `billing check` on `database_url`; returns its exit code and stdout (stderr appended).
pub async fn run_check(database_url: &str) -> (i32, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_billing"))
        .args(["check", "--database-url", database_url])
        .env_remove("DATABASE_URL")
        .output()
        .await
        .expect("billing check runs");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), text)
}

/// `billing check`'s invariants (the library function behind the subcommand) hold on the app's
/// database.
pub async fn assert_check_passes(app: &TestApp) {
    let report = billing::check::run(
        app.ledger.db(),
        service_runtime::now_unix_ms(),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert!(report.is_ok(), "{:#?}", report.problems);
}
