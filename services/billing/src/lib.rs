//! mediabot billing: prepaid accounts keyed by Telegram user id, holds keyed by job id, and an immutable
//! ledger, on an SQLite file (default) or PostgreSQL.
//!
//! - [`domain`]: validated ids, operations and amounts, holds, entries.
//! - [`prices`]: the price list, loaded from a TOML file (the shipped `prices.toml` by default).
//! - [`db`]: connecting, migrations, write transactions on either backend.
//! - [`ledger`]: every money rule (reserve, capture, release, top-up, expiry), each atomic: one
//!   transaction, or on PostgreSQL one statement for the hot paths.
//! - [`grpc`]: the `mediabot.billing.v1.Billing` service; [`error`] maps domain errors to statuses.
//! - [`settlement`]: the NATS consumer that captures on `jobs.delivered` and releases on `jobs.failed`
//!   and `jobs.undelivered` (money follows delivery).
//! - [`sweeper`]: releases holds nobody settled in time, never while outcome events wait to be settled.
//! - [`metrics`]: holds placed, captured, released and expired, and money captured, per operation;
//! - [`check`]: `billing check`, the invariants verified on the stored rows for operators.
//!
//! [`Application`] wires them together; `main` and the integration tests start it the same way.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use service_runtime::config::{NatsArgs, TelemetryArgs};
use service_runtime::grpc::GrpcServer;
use service_runtime::metrics::MetricsServer;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub mod api_keys;
pub mod check;
pub mod db;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod ledger;
pub mod metrics;
pub mod prices;
pub mod settlement;
pub mod sweeper;

use ledger::Ledger;
use prices::PriceList;

/// Command-line flags (each with an environment-variable fallback).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "billing",
    version,
    about = "mediabot billing: balances, holds and the ledger over gRPC"
)]
pub struct Config {
    /// What to do; no subcommand serves gRPC.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// gRPC listen address.
    #[arg(long, env = "BILLING_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Prometheus metrics listen address (`/metrics`, `/healthz`).
    #[arg(
        long = "metrics-listen",
        env = "METRICS_LISTEN",
        default_value = "127.0.0.1:9101"
    )]
    pub metrics_listen: SocketAddr,
    /// Database URL: `sqlite://FILE?mode=rwc` or `postgres://USER[:PASSWORD]@HOST/DB`. Its value is a
    /// secret: `--help` never shows what the environment holds.
    #[arg(
        long = "database-url",
        env = "DATABASE_URL",
        default_value = "sqlite://billing.sqlite?mode=rwc",
        hide_env_values = true,
        global = true
    )]
    pub database_url: String,
    /// Most PostgreSQL connections in the pool (SQLite always uses one writer connection).
    #[arg(
        long = "database-max-connections",
        env = "DATABASE_MAX_CONNECTIONS",
        default_value_t = 10
    )]
    pub database_max_connections: u32,
    /// Credited once to every new account, minor units (3000 = 30.00 RUB).
    #[arg(long = "welcome-credit-minor", env = "WELCOME_CREDIT_MINOR", default_value_t = 3000,
          value_parser = clap::value_parser!(i64).range(0..))]
    pub welcome_credit_minor: i64,
    /// ISO 4217 currency code of accounts and prices (the price list's amounts are in its minor units).
    #[arg(long, env = "CURRENCY", default_value = "RUB")]
    pub currency: String,
    /// The price list, a TOML file (format: services/billing/README.md); unset: the built-in list
    /// (services/billing/prices.toml as shipped). A bad file stops start-up, naming the line.
    #[arg(long = "prices-file", env = "PRICES_FILE", value_name = "PATH")]
    pub prices_file: Option<PathBuf>,
    /// Seconds a hold may stay pending before it is released as expired (the sweeper expires holds only
    /// while no outcome event waits in NATS to be settled).
    #[arg(
        long = "hold-timeout",
        env = "HOLD_TIMEOUT_SECS",
        default_value_t = 1800
    )]
    pub hold_timeout_secs: u64,
    /// How often the sweeper looks for expired holds, milliseconds.
    #[arg(
        long = "hold-sweep-interval-ms",
        env = "HOLD_SWEEP_INTERVAL_MS",
        default_value_t = 5000,
        global = true
    )]
    pub hold_sweep_interval_ms: u64,
    /// NATS connection.
    #[command(flatten)]
    pub nats: NatsArgs,
    /// Logs and traces.
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

/// Subcommands of the `billing` binary.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Checks the ledger's invariants on the database (read-only, safe beside a running service) and
    /// exits: 0 and a one-line summary when consistent; 1 and one line per problem, naming the account
    /// (and job), when not; 2 when the database cannot be read.
    Check(CheckArgs),
    /// Issues or revokes the HTTP API key of an account (an operator's path; users get theirs with
    /// `/apikey` in the bot). Works on the database directly, beside a running service.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
}

/// `billing api-key …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ApiKeyCommand {
    /// Issues a new key for the account (revoking its older ones) and prints it: the only time it is shown.
    Issue {
        /// Billing account id (the Telegram user id).
        #[arg(long)]
        account: i64,
    },
    /// Revokes every key of the account.
    Revoke {
        /// Billing account id (the Telegram user id).
        #[arg(long)]
        account: i64,
    },
}

/// Runs `billing api-key …` on the database of `config` (migrating it first) and returns what to print:
/// the new key, or how many keys were revoked.
pub async fn api_key(config: &Config, command: &ApiKeyCommand) -> Result<String, Error> {
    let (settings, prices) = ledger_settings(config)?;
    let db = db::Db::connect(&config.database_url, 2).await?;
    let ledger = Ledger::new(db, prices, settings);
    let account = |id: i64| domain::AccountId::parse(id).map_err(|e| Error::Config(e.to_string()));
    match command {
        ApiKeyCommand::Issue { account: id } => {
            let issued = ledger.issue_api_key(account(*id)?).await?;
            Ok(issued.key.expose().to_string())
        }
        ApiKeyCommand::Revoke { account: id } => {
            let revoked = ledger.revoke_api_keys(account(*id)?).await?;
            Ok(format!("revoked {revoked} key(s) of account {id}"))
        }
    }
}

/// Flags of `billing check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// Seconds a pending hold may stay past its expiry, on top of the sweep interval, before it counts
    /// as a problem (the sweeper releases expired holds every `--hold-sweep-interval-ms`).
    #[arg(
        long = "expiry-margin-secs",
        env = "CHECK_EXPIRY_MARGIN_SECS",
        default_value_t = 60
    )]
    pub expiry_margin_secs: u64,
}

/// Runs `billing check` for `config`: opens the database without migrating it and checks it.
pub async fn check(config: &Config, args: &CheckArgs) -> Result<check::Report, Error> {
    let db = db::Db::open(&config.database_url, 2).await?;
    let grace = Duration::from_millis(config.hold_sweep_interval_ms)
        + Duration::from_secs(args.expiry_margin_secs);
    let report = check::run(&db, service_runtime::now_unix_ms(), grace)
        .await
        .map_err(|e| Error::Database(db::Error::Read(e)));
    db.close().await;
    report
}

/// The ledger's settings and the price list from `config`, validated. Errors: [`Error::Config`],
/// [`Error::Prices`].
fn ledger_settings(config: &Config) -> Result<(ledger::Settings, PriceList), Error> {
    let currency = config.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(Error::Config(format!(
            "currency must be an ISO 4217 code, got {:?}",
            config.currency
        )));
    }
    let prices = PriceList::load(config.prices_file.as_deref(), &currency)?;
    if config.welcome_credit_minor < 0 {
        return Err(Error::Config("welcome credit must not be negative".into()));
    }
    let settings = ledger::Settings {
        currency,
        welcome_credit_minor: config.welcome_credit_minor,
        hold_timeout: Duration::from_secs(config.hold_timeout_secs),
    };
    Ok((settings, prices))
}

/// Errors starting or running the service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// The price list cannot be used.
    #[error(transparent)]
    Prices(#[from] prices::Error),
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Database(#[from] db::Error),
    /// Binding or serving gRPC failed.
    #[error(transparent)]
    Grpc(#[from] service_runtime::grpc::Error),
    /// Binding or serving the metrics port failed.
    #[error(transparent)]
    Metrics(#[from] service_runtime::metrics::Error),
    /// A ledger operation failed (`billing api-key`).
    #[error(transparent)]
    Ledger(#[from] ledger::Error),
}

/// A built billing service: database migrated, listener bound, not yet serving.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    metrics: MetricsServer,
    ledger: Ledger,
    nats_url: String,
    sweep_interval: Duration,
}

impl Application {
    /// Validates the configuration, opens and migrates the database and binds the gRPC listener and the
    /// metrics port (port 0 picks a free port; read them with [`grpc_addr`](Self::grpc_addr) and
    /// [`metrics_addr`](Self::metrics_addr)). NATS is connected in
    /// [`run`](Self::run), in the background.
    pub async fn build(config: Config) -> Result<Self, Error> {
        let (settings, prices) = ledger_settings(&config)?;
        let db = db::Db::connect(&config.database_url, config.database_max_connections).await?;
        let ledger = Ledger::new(db, prices, settings);
        let listener = service_runtime::grpc::bind(config.listen).await?;
        let addr = listener.local_addr().unwrap_or(config.listen);
        let metrics = MetricsServer::bind(config.metrics_listen).await?;
        Ok(Self {
            listener,
            addr,
            metrics,
            ledger,
            nats_url: config.nats.nats_url,
            sweep_interval: Duration::from_millis(config.hold_sweep_interval_ms),
        })
    }

    /// The address gRPC listens on.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the metrics port (`/metrics`, `/healthz`).
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics.local_addr()
    }

    /// The ledger (for tools and tests that inspect the database directly).
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Serves gRPC, settles job outcomes from NATS and sweeps expired holds (once the settlement
    /// consumer has nothing pending) until `shutdown` fires; then finishes in-flight calls and events,
    /// and closes the database.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), Error> {
        let server = GrpcServer::new()?
            .add_service(grpc::make_server(self.ledger.clone()))
            .await;
        let health = server.health();
        let backlog = settlement::Backlog::new();
        let mut tasks = JoinSet::new();
        let metrics = self.metrics;
        let metrics_shutdown = shutdown.child_token();
        tasks.spawn(async move {
            if let Err(error) = metrics.serve(metrics_shutdown).await {
                tracing::error!(%error, "the metrics port failed");
            }
        });
        tasks.spawn(settlement::run(
            self.nats_url,
            self.ledger.clone(),
            health,
            backlog.clone(),
            shutdown.child_token(),
        ));
        tasks.spawn(sweeper::run(
            self.ledger.clone(),
            backlog,
            self.sweep_interval,
            shutdown.child_token(),
        ));
        let served = server.serve(self.listener, shutdown.clone()).await;
        // If serving failed on its own, stop the background tasks too.
        shutdown.cancel();
        while tasks.join_next().await.is_some() {}
        self.ledger.db().close().await;
        served?;
        Ok(())
    }
}
