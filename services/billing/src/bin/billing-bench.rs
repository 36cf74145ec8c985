//! `billing-bench`: reserve+capture pairs per second on PostgreSQL, through gRPC and — in the same run,
//! on the same database — straight through sqlx (the ceiling), with 8 and 32 concurrent clients.
//!
//! Three ways are measured for each client count:
//! - `grpc`: an in-process billing server (`Application::build` on 127.0.0.1:0), one HTTP/2 connection
//!   per client, each client doing Reserve then Capture of a fresh job id on its own account;
//! - `ledger`: the same [`Ledger`] calls without gRPC (what the handlers do);
//! - `raw 1-stmt`: the ledger's one-statement Reserve and Capture
//!   ([`billing::ledger::postgres::RESERVE`], [`SETTLE`](billing::ledger::postgres::SETTLE)) on a native
//!   `PgPool` with the service's pool settings — the ceiling: two statements per pair, nothing else;
//! - `no pool`: the same on one dedicated connection per client, which saves the ping sqlx's pool sends
//!   whenever a connection goes back to it (the ceiling of the SQL alone, one call per statement).
//!
//! The service batches concurrent calls into shared statements (group commit, `ledger::batch`), so
//! `grpc` can pass the one-statement ceiling; `grpc calls/stmt` says how many calls a statement carried
//! on average, and `grpc cpu µs/pair` what a pair cost the whole machine (all processes), which stays
//! comparable when something else runs beside the bench.
//!
//! It creates its own database on the server in `--database-url`, prints the load average before and
//! after (the machine may be shared), runs `billing check`'s invariants on what the runs wrote, and
//! drops the database at the end.
//!
//! ```sh
//! cargo run --release -p billing --bin billing-bench -- --seconds 5 --clients 8,32
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use billing::domain::{AccountId, JobId, ValidOperation};
use billing::ledger::{Ledger, postgres};
use billing::{Application, Config};
use clap::Parser;
use mediabot_proto::billing::v1::billing_client::BillingClient;
use mediabot_proto::billing::v1::{CaptureRequest, ReserveRequest};
use mediabot_proto::jobs::v1::Operation;
use service_runtime::config::{NatsArgs, TelemetryArgs};
use sqlx::postgres::{PgExecutor, PgPool, PgPoolOptions};
use sqlx::{Connection as _, Executor as _, PgConnection};
use tokio_util::sync::CancellationToken;

/// Flags.
#[derive(Debug, Parser)]
#[command(
    name = "billing-bench",
    about = "reserve+capture pairs/s on PostgreSQL: gRPC vs. the one-statement SQL ceiling"
)]
struct Args {
    /// A PostgreSQL server (any database on it; the bench creates and drops its own).
    #[arg(
        long = "database-url",
        env = "BILLING_BENCH_PG_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres",
        hide_env_values = true
    )]
    database_url: String,
    /// Concurrent clients, one measurement per value.
    #[arg(long, value_delimiter = ',', default_values_t = [8, 32])]
    clients: Vec<usize>,
    /// Seconds measured per (way, client count), after one second of warm-up.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
}

/// The operation every pair buys (500 in the built-in price list).
fn operation() -> Operation {
    Operation::upscale(2)
}
/// Enough for every pair any client can do.
const WELCOME: i64 = 1_000_000_000_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let name = format!("billing_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&args.database_url)
        .await
        .context("connecting to PostgreSQL")?;
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await?;
    let url = database_url(&args.database_url, &name);
    let result = bench(&args, &url).await;
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .await?;
    admin.close().await?;
    result
}

/// `url` with its database name replaced by `name`.
fn database_url(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let server = base.rsplit_once('/').map_or(base, |(server, _db)| server);
    format!("{server}/{name}{query}")
}

async fn bench(args: &Args, url: &str) -> anyhow::Result<()> {
    let max_clients = args.clients.iter().copied().max().unwrap_or(8);
    let pool_size = u32::try_from(max_clients).unwrap_or(32);
    let config = Config {
        command: None,
        listen: "127.0.0.1:0".parse()?,
        metrics_listen: "127.0.0.1:0".parse()?,
        database_url: url.to_string(),
        database_max_connections: pool_size,
        welcome_credit_minor: WELCOME,
        currency: "RUB".into(),
        prices_file: None,
        hold_timeout_secs: 1800,
        hold_sweep_interval_ms: 5000,
        // Nobody listens on port 1: settlement stays off, which the bench does not need.
        nats: NatsArgs {
            nats_url: "nats://127.0.0.1:1".into(),
        },
        telemetry: TelemetryArgs {
            otlp_endpoint: None,
            log_format: "text".into(),
        },
    };
    let app = Application::build(config).await?;
    let addr = app.grpc_addr();
    let ledger = app.ledger().clone();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run(shutdown.clone()));
    // The same pool settings as the service's (no ping before each use).
    let raw = PgPoolOptions::new()
        .max_connections(pool_size)
        .test_before_acquire(false)
        .connect(url)
        .await?;
    let valid = ValidOperation::parse(Some(operation()))?;
    let (price, _) = ledger
        .prices()
        .price_of(valid.get(), 0)
        .context("the built-in price list prices image.upscale factor=2")?;
    let key = valid.key();

    println!(
        "billing-bench: reserve+capture pairs/s on PostgreSQL, {} s per run, pool {pool_size}, {key} = {price}",
        args.seconds
    );
    println!("load average before: {}", load_average());
    println!(
        "{:>8} {:>12} {:>12} {:>12} {:>12} {:>16} {:>15} {:>15}",
        "clients",
        "grpc",
        "ledger",
        "raw 1-stmt",
        "no pool",
        "grpc/raw 1-stmt",
        "grpc calls/stmt",
        "grpc cpu µs/pair"
    );
    let mut base_account = 1_000;
    for &clients in &args.clients {
        let mut run = |way: Way| {
            base_account += 1_000;
            let (ledger, raw, key) = (ledger.clone(), raw.clone(), key.clone());
            let seconds = args.seconds;
            let first_account = base_account;
            async move {
                measure(
                    way,
                    clients,
                    first_account,
                    seconds,
                    addr,
                    &ledger,
                    &raw,
                    &key,
                    price,
                )
                .await
            }
        };
        let before = ledger.batch_stats();
        let grpc = run(Way::Grpc).await?;
        let after = ledger.batch_stats();
        let direct = run(Way::Ledger).await?;
        let ceiling = run(Way::RawSql).await?;
        let no_pool = run(Way::NoPool).await?;
        // Hot-path calls of the gRPC run (warm-up included) over the statements that answered them:
        // shared statements plus one each for the calls that ran alone.
        let calls = 2.0 * grpc.pairs as f64;
        let shared = (after.calls - before.calls) as f64;
        let statements = (after.batches - before.batches) as f64 + (calls - shared).max(0.0);
        println!(
            "{clients:>8} {:>12.0} {:>12.0} {:>12.0} {:>12.0} {:>15.0}% {:>15.1} {:>15.0}",
            grpc.pairs_per_s,
            direct.pairs_per_s,
            ceiling.pairs_per_s,
            no_pool.pairs_per_s,
            100.0 * grpc.pairs_per_s / ceiling.pairs_per_s,
            calls / statements.max(1.0),
            grpc.cpu_us_per_pair,
        );
    }
    println!("load average after: {}", load_average());
    let report = billing::check::run(
        ledger.db(),
        service_runtime::now_unix_ms(),
        Duration::from_secs(60),
    )
    .await?;
    println!("{}", report.summary());
    shutdown.cancel();
    server.await??;
    raw.close().await;
    anyhow::ensure!(
        report.is_ok(),
        "ledger invariants broken: {:?}",
        report.problems
    );
    Ok(())
}

/// `/proc/loadavg`'s first three fields, or "unknown".
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".into())
}

#[derive(Debug, Clone, Copy)]
enum Way {
    Grpc,
    Ledger,
    RawSql,
    NoPool,
}

/// What one run measured.
struct Measured {
    /// Pairs per second over the measured part.
    pairs_per_s: f64,
    /// Pairs done in the whole run, warm-up included.
    pairs: u64,
    /// CPU time of the whole machine (every process: this one, PostgreSQL's backends, anything else)
    /// per pair over the measured part, µs; it shows the cost of a pair even when the machine is shared.
    cpu_us_per_pair: f64,
}

/// Busy CPU time of the whole machine so far, µs (`/proc/stat`'s first line, USER_HZ = 100), or 0.
fn machine_busy_us() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/stat") else {
        return 0;
    };
    let fields: Vec<u64> = text
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|field| field.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    let busy: u64 = fields
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum();
    busy * 10_000
}

/// Runs `clients` loops of reserve+capture for one second of warm-up plus `seconds`.
#[allow(
    clippy::too_many_arguments,
    reason = "a benchmark's knobs, passed once"
)]
async fn measure(
    way: Way,
    clients: usize,
    first_account: i64,
    seconds: u64,
    addr: std::net::SocketAddr,
    ledger: &Ledger,
    raw: &PgPool,
    key: &str,
    price: i64,
) -> anyhow::Result<Measured> {
    let total = Arc::new(AtomicU64::new(0));
    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let pairs = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..clients {
        let account = first_account + n as i64;
        let account_id = AccountId::parse(account)?;
        // Opened up front, so that every way measures reserves on an existing account.
        ledger.balance(account_id).await?;
        let (counting, stop, pairs, total) =
            (counting.clone(), stop.clone(), pairs.clone(), total.clone());
        let (ledger, raw, key) = (ledger.clone(), raw.clone(), key.to_string());
        let grpc = match way {
            Way::Grpc => Some(BillingClient::connect(format!("http://{addr}")).await?),
            _ => None,
        };
        let mut dedicated = match way {
            Way::NoPool => Some(raw.acquire().await?.detach()),
            _ => None,
        };
        tasks.spawn(async move {
            let mut grpc = grpc;
            let valid = ValidOperation::parse(Some(operation()))?;
            while !stop.load(Ordering::Relaxed) {
                let job = JobId::parse(&uuid::Uuid::new_v4().to_string())?;
                match (way, grpc.as_mut()) {
                    (Way::Grpc, Some(client)) => {
                        client
                            .reserve(ReserveRequest {
                                job_id: job.to_string(),
                                account_id: account,
                                operation: Some(operation()),
                                audio_duration_ms: 0,
                            })
                            .await?;
                        client
                            .capture(CaptureRequest {
                                job_id: job.to_string(),
                                amount_minor: None,
                            })
                            .await?;
                    }
                    (Way::Ledger, _) | (Way::Grpc, None) => {
                        ledger.reserve(&job, account_id, &valid, 0).await?;
                        ledger.capture(&job, None).await?;
                    }
                    (Way::RawSql, _) => {
                        raw_reserve(&raw, job.as_str(), account, &key, price).await?;
                        raw_capture(&raw, job.as_str()).await?;
                    }
                    (Way::NoPool, _) => {
                        let conn = dedicated.as_mut().context("no dedicated connection")?;
                        raw_reserve(&mut *conn, job.as_str(), account, &key, price).await?;
                        raw_capture(&mut *conn, job.as_str()).await?;
                    }
                }
                total.fetch_add(1, Ordering::Relaxed);
                if counting.load(Ordering::Relaxed) {
                    pairs.fetch_add(1, Ordering::Relaxed);
                }
            }
            anyhow::Ok(())
        });
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    counting.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let busy_before = machine_busy_us();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    counting.store(false, Ordering::Relaxed);
    let busy = machine_busy_us().saturating_sub(busy_before);
    let elapsed = started.elapsed();
    let done = pairs.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    Ok(Measured {
        pairs_per_s: done as f64 / elapsed.as_secs_f64(),
        pairs: total.load(Ordering::Relaxed),
        cpu_us_per_pair: busy as f64 / (done.max(1)) as f64,
    })
}

/// Reserve as the ledger does it on PostgreSQL: [`postgres::RESERVE`], one statement.
async fn raw_reserve<'e, E: PgExecutor<'e>>(
    executor: E,
    job: &str,
    account: i64,
    key: &str,
    price: i64,
) -> anyhow::Result<()> {
    let now = service_runtime::now_unix_ms();
    let row = sqlx::query(postgres::RESERVE)
        .bind(job)
        .bind(account)
        .bind(key)
        .bind(price)
        .bind(now)
        .bind(now + 1_800_000)
        .fetch_one(executor)
        .await?;
    let placed: Option<i64> = sqlx::Row::try_get(&row, "placed_balance_minor")?;
    anyhow::ensure!(placed.is_some(), "raw reserve of {job} placed no hold");
    Ok(())
}

/// Capture (all of the hold) as the ledger does it on PostgreSQL: [`postgres::SETTLE`], one statement.
async fn raw_capture<'e, E: PgExecutor<'e>>(executor: E, job: &str) -> anyhow::Result<()> {
    let now = service_runtime::now_unix_ms();
    let row = sqlx::query(postgres::SETTLE)
        .bind(job)
        .bind("captured")
        .bind(None::<i64>)
        .bind(now)
        .bind("capture")
        .fetch_one(executor)
        .await?;
    let captured: Option<i64> = sqlx::Row::try_get(&row, "settled_captured_minor")?;
    anyhow::ensure!(captured.is_some(), "raw capture of {job} captured nothing");
    Ok(())
}
