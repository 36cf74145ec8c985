//! `billing-bench`: reserve+capture pairs per second on PostgreSQL, through gRPC and — in the same run,
//! on the same database — straight through sqlx (the ceiling), with 8 and 32 concurrent clients.
//!
//! Three ways are measured for each client count:
//! - `grpc`: an in-process billing server (`Application::build` on 127.0.0.1:0), one HTTP/2 connection
//!   per client, each client doing Reserve then Capture of a fresh job id on its own account;
//! - `ledger`: the same [`Ledger`] calls without gRPC (what the handlers do);
//! - `raw sql`: the ledger's statements and transactions typed out against a native `PgPool` — the
//!   ceiling for this schema and these round trips.
//!
//! It creates its own database on the server in `--database-url` and drops it at the end.
//!
//! ```sh
//! cargo run --release -p billing --bin billing-bench -- --seconds 5 --clients 8,32
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use billing::domain::{AccountId, JobId, PriceSetting};
use billing::ledger::Ledger;
use billing::{Application, Config};
use clap::Parser;
use mediabot_proto::billing::v1::billing_client::BillingClient;
use mediabot_proto::billing::v1::{CaptureRequest, ReserveRequest};
use service_runtime::config::{NatsArgs, TelemetryArgs};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Connection as _, Executor as _, PgConnection, Row as _};
use tokio_util::sync::CancellationToken;

/// Flags.
#[derive(Debug, Parser)]
#[command(
    name = "billing-bench",
    about = "reserve+capture pairs/s on PostgreSQL: gRPC vs. direct SQL"
)]
struct Args {
    /// A PostgreSQL server (any database on it; the bench creates and drops its own).
    #[arg(
        long = "database-url",
        env = "BILLING_BENCH_PG_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Concurrent clients, one measurement per value.
    #[arg(long, value_delimiter = ',', default_values_t = [8, 32])]
    clients: Vec<usize>,
    /// Seconds measured per (way, client count), after one second of warm-up.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
}

const OPERATION: &str = "image.upscale_2x";
const PRICE: i64 = 500;
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
        database_url: url.to_string(),
        database_max_connections: pool_size,
        welcome_credit_minor: WELCOME,
        currency: "RUB".into(),
        prices: vec![PriceSetting {
            operation: OPERATION.into(),
            amount_minor: PRICE,
        }],
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
    let raw = PgPoolOptions::new()
        .max_connections(pool_size)
        .connect(url)
        .await?;

    println!(
        "billing-bench: reserve+capture pairs/s on PostgreSQL, {} s per run, pool {pool_size}",
        args.seconds
    );
    println!(
        "{:>8} {:>12} {:>12} {:>12} {:>14}",
        "clients", "grpc", "ledger", "raw sql", "grpc/raw sql"
    );
    let mut base_account = 1_000;
    for &clients in &args.clients {
        let mut run = |way: Way| {
            base_account += 1_000;
            let (ledger, raw) = (ledger.clone(), raw.clone());
            let seconds = args.seconds;
            let first_account = base_account;
            async move { measure(way, clients, first_account, seconds, addr, &ledger, &raw).await }
        };
        let grpc = run(Way::Grpc).await?;
        let direct = run(Way::Ledger).await?;
        let ceiling = run(Way::RawSql).await?;
        println!(
            "{clients:>8} {grpc:>12.0} {direct:>12.0} {ceiling:>12.0} {:>13.0}%",
            100.0 * grpc / ceiling
        );
    }
    shutdown.cancel();
    server.await??;
    raw.close().await;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Way {
    Grpc,
    Ledger,
    RawSql,
}

/// Runs `clients` loops of reserve+capture for one second of warm-up plus `seconds`; returns pairs/s
/// over the measured part.
async fn measure(
    way: Way,
    clients: usize,
    first_account: i64,
    seconds: u64,
    addr: std::net::SocketAddr,
    ledger: &Ledger,
    raw: &PgPool,
) -> anyhow::Result<f64> {
    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let pairs = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..clients {
        let account = first_account + n as i64;
        let (counting, stop, pairs) = (counting.clone(), stop.clone(), pairs.clone());
        let (ledger, raw) = (ledger.clone(), raw.clone());
        let grpc = match way {
            Way::Grpc => Some(BillingClient::connect(format!("http://{addr}")).await?),
            _ => None,
        };
        tasks.spawn(async move {
            let mut grpc = grpc;
            let account_id = AccountId::parse(account)?;
            while !stop.load(Ordering::Relaxed) {
                let job = uuid::Uuid::new_v4().to_string();
                match (way, grpc.as_mut()) {
                    (Way::Grpc, Some(client)) => {
                        client
                            .reserve(ReserveRequest {
                                job_id: job.clone(),
                                account_id: account,
                                operation: OPERATION.into(),
                            })
                            .await?;
                        client
                            .capture(CaptureRequest {
                                job_id: job,
                                amount_minor: None,
                            })
                            .await?;
                    }
                    (Way::Ledger, _) | (Way::Grpc, None) => {
                        let job = JobId::parse(&job)?;
                        ledger.reserve(&job, account_id, OPERATION).await?;
                        ledger.capture(&job, None).await?;
                    }
                    (Way::RawSql, _) => {
                        raw_reserve(&raw, &job, account).await?;
                        raw_capture(&raw, &job).await?;
                    }
                }
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
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    counting.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let done = pairs.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    Ok(done as f64 / elapsed.as_secs_f64())
}

/// Reserve as the ledger does it on PostgreSQL, statement for statement.
async fn raw_reserve(pool: &PgPool, job: &str, account: i64) -> anyhow::Result<()> {
    let now = service_runtime::now_unix_ms();
    let mut tx = pool.begin().await?;
    let opened = sqlx::query(
        "INSERT INTO accounts (id, currency, balance_minor, held_minor, created_at_ms, updated_at_ms) \
         VALUES ($1, 'RUB', $2, 0, $3, $3) ON CONFLICT (id) DO NOTHING RETURNING id",
    )
    .bind(account)
    .bind(WELCOME)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    if opened.is_some() {
        insert_entry(
            &mut tx,
            account,
            "welcome_credit",
            WELCOME,
            WELCOME,
            "welcome",
            now,
        )
        .await?;
    }
    sqlx::query("SELECT job_id, account_id, operation, amount_minor, captured_minor, state, created_at_ms, expires_at_ms, settled_at_ms FROM holds WHERE job_id = $1")
        .bind(job)
        .fetch_optional(&mut *tx)
        .await?;
    let row = sqlx::query(
        "UPDATE accounts SET held_minor = held_minor + $2, updated_at_ms = $3 \
         WHERE id = $1 AND balance_minor - held_minor >= $2 RETURNING balance_minor, held_minor",
    )
    .bind(account)
    .bind(PRICE)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let balance: i64 = row.try_get("balance_minor")?;
    sqlx::query(
        "INSERT INTO holds (job_id, account_id, operation, amount_minor, captured_minor, state, \
                            created_at_ms, expires_at_ms) \
         VALUES ($1, $2, $3, $4, 0, 'pending', $5, $6) ON CONFLICT (job_id) DO NOTHING RETURNING job_id",
    )
    .bind(job)
    .bind(account)
    .bind(OPERATION)
    .bind(PRICE)
    .bind(now)
    .bind(now + 1_800_000)
    .fetch_optional(&mut *tx)
    .await?;
    insert_entry(&mut tx, account, "hold", 0, balance, job, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Capture (all of the hold) as the ledger does it on PostgreSQL, statement for statement.
async fn raw_capture(pool: &PgPool, job: &str) -> anyhow::Result<()> {
    let now = service_runtime::now_unix_ms();
    let mut tx = pool.begin().await?;
    let hold = sqlx::query("SELECT job_id, account_id, operation, amount_minor, captured_minor, state, created_at_ms, expires_at_ms, settled_at_ms FROM holds WHERE job_id = $1")
        .bind(job)
        .fetch_one(&mut *tx)
        .await?;
    let account: i64 = hold.try_get("account_id")?;
    let amount: i64 = hold.try_get("amount_minor")?;
    sqlx::query(
        "UPDATE holds SET state = $2, captured_minor = $3, settled_at_ms = $4 \
         WHERE job_id = $1 AND state = 'pending' RETURNING job_id",
    )
    .bind(job)
    .bind("captured")
    .bind(amount)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let row = sqlx::query(
        "UPDATE accounts SET balance_minor = balance_minor - $2, held_minor = held_minor - $3, \
         updated_at_ms = $4 WHERE id = $1 RETURNING balance_minor, held_minor",
    )
    .bind(account)
    .bind(amount)
    .bind(amount)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let balance: i64 = row.try_get("balance_minor")?;
    insert_entry(&mut tx, account, "capture", -amount, balance, job, now).await?;
    tx.commit().await?;
    Ok(())
}

async fn insert_entry(
    conn: &mut PgConnection,
    account: i64,
    kind: &str,
    amount: i64,
    balance_after: i64,
    reference: &str,
    now: i64,
) -> anyhow::Result<i64> {
    let row = sqlx::query(
        "INSERT INTO ledger_entries (account_id, kind, amount_minor, balance_after_minor, reference, \
                                     description, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(account)
    .bind(kind)
    .bind(amount)
    .bind(balance_after)
    .bind(reference)
    .bind(OPERATION)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get(0)?)
}
