//! The real `billing` binary killed with SIGKILL in the middle of a reserve/capture load, then started
//! again on the same database: `billing check` passes, every call that returned OK took effect exactly
//! once, and every call that failed either took effect once or not at all — retrying it with the same
//! job id gives a consistent answer and never charges twice.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::join_all;
use mediabot_proto::billing::v1::billing_client::BillingClient;
use mediabot_proto::billing::v1::{CaptureRequest, GetBalanceRequest, HoldState, ReserveRequest};
use mediabot_proto::jobs::v1::Operation;
use sqlx::Row as _;
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

use crate::helpers::{Backend, TestDb, eventually, job_id, run_check};
use crate::on_both_backends;

on_both_backends!(sigkill_mid_load);

const WELCOME: i64 = 100_000_000;
const CLIENTS: i64 = 8;

/// The billing binary on `db`, listening on a free port.
async fn start_billing(db: &TestDb) -> (Child, BillingClient<Channel>) {
    let port = nats_test_server::ports::free_port().unwrap();
    let logs = if std::env::var_os("TEST_LOG").is_some() {
        Stdio::inherit
    } else {
        Stdio::null
    };
    let child = Command::new(env!("CARGO_BIN_EXE_billing"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", db.url())
        .env("WELCOME_CREDIT_MINOR", WELCOME.to_string())
        .env("NATS_URL", "nats://127.0.0.1:1")
        .env("METRICS_LISTEN", "127.0.0.1:0")
        .stdout(logs())
        .stderr(logs())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let client = eventually(Duration::from_secs(30), "billing to answer", || {
        let url = url.clone();
        async move {
            let mut client = BillingClient::connect(url).await.ok()?;
            client
                .get_balance(GetBalanceRequest { account_id: 1 })
                .await
                .ok()?;
            Some(client)
        }
    })
    .await;
    (child, client)
}

/// What one reserve+capture pair got back.
struct Pair {
    account: i64,
    job: String,
    reserve: Result<(), tonic::Code>,
    capture: Option<Result<(), tonic::Code>>,
}

async fn sigkill_mid_load(backend: Backend) {
    let db = TestDb::create(backend).await;
    let (mut child, client) = start_billing(&db).await;
    let done = Arc::new(AtomicUsize::new(0));
    let stop = CancellationToken::new();
    let clients = (0..CLIENTS).map(|n| {
        let (mut client, done, stop) = (client.clone(), done.clone(), stop.clone());
        async move {
            let account = 1000 + n;
            let mut pairs = Vec::new();
            while !stop.is_cancelled() {
                let job = job_id();
                let reserve = client
                    .reserve(ReserveRequest {
                        job_id: job.clone(),
                        account_id: account,
                        operation: Some(Operation::upscale(2)),
                        audio_duration_ms: 0,
                    })
                    .await
                    .map(drop)
                    .map_err(|s| s.code());
                let capture = match reserve {
                    Ok(()) => Some(
                        client
                            .capture(CaptureRequest {
                                job_id: job.clone(),
                                amount_minor: None,
                            })
                            .await
                            .map(drop)
                            .map_err(|s| s.code()),
                    ),
                    Err(_) => None,
                };
                let failed = reserve.is_err() || capture.is_some_and(|c| c.is_err());
                pairs.push(Pair {
                    account,
                    job,
                    reserve,
                    capture,
                });
                done.fetch_add(1, Ordering::Relaxed);
                if failed {
                    // The server is gone; stop this client.
                    break;
                }
            }
            pairs
        }
    });
    let killer = async {
        eventually(Duration::from_secs(60), "200 pairs before the kill", || {
            let done = done.clone();
            async move { (done.load(Ordering::Relaxed) >= 200).then_some(()) }
        })
        .await;
        // SIGKILL: no shutdown, no flush, transactions cut wherever they are.
        child.start_kill().unwrap();
        child.wait().await.unwrap();
        stop.cancel();
    };
    let (pairs, ()) = tokio::join!(join_all(clients), killer);
    let pairs: Vec<Pair> = pairs.into_iter().flatten().collect();
    let failed = pairs
        .iter()
        .filter(|p| p.reserve.is_err() || p.capture.is_some_and(|c| c.is_err()))
        .count();
    eprintln!(
        "{backend:?}: {} pairs before SIGKILL, {failed} cut by it",
        pairs.len()
    );
    assert!(failed > 0, "the kill should have cut some calls");

    // Restart on the same database: the ledger is consistent before anyone touches it.
    let (mut child, mut client) = start_billing(&db).await;
    let (code, out) = run_check(db.url()).await;
    assert_eq!(code, 0, "{out}");

    // Calls that returned OK took effect: their holds exist (captured if the capture returned OK).
    let raw = billing::db::Db::open(db.url(), 2).await.unwrap();
    for pair in &pairs {
        let row = sqlx::query("SELECT state FROM holds WHERE job_id = $1")
            .bind(&pair.job)
            .fetch_optional(raw.pool())
            .await
            .unwrap();
        let state: Option<String> = row.map(|r| r.try_get("state").unwrap());
        if pair.reserve.is_ok() {
            assert!(state.is_some(), "reserve of {} returned OK", pair.job);
        }
        if pair.capture == Some(Ok(())) {
            assert_eq!(state.as_deref(), Some("captured"), "{}", pair.job);
        }
    }
    // Retrying every pair with its job id: consistent answers, one charge per job.
    for pair in &pairs {
        let hold = client
            .reserve(ReserveRequest {
                job_id: pair.job.clone(),
                account_id: pair.account,
                operation: Some(Operation::upscale(2)),
                audio_duration_ms: 0,
            })
            .await
            .unwrap()
            .into_inner();
        let expected = if pair.capture == Some(Ok(())) {
            vec![HoldState::Captured as i32]
        } else {
            vec![HoldState::Pending as i32, HoldState::Captured as i32]
        };
        assert!(expected.contains(&hold.state), "{}: {hold:?}", pair.job);
        let hold = client
            .capture(CaptureRequest {
                job_id: pair.job.clone(),
                amount_minor: None,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (hold.state, hold.captured_minor),
            (HoldState::Captured as i32, 500)
        );
    }
    for pair in &pairs {
        let captures: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM ledger_entries WHERE kind = 'capture' AND reference = $1",
        )
        .bind(&pair.job)
        .fetch_one(raw.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
        assert_eq!(captures, 1, "{}", pair.job);
    }
    for n in 0..CLIENTS {
        let account = 1000 + n;
        let jobs = pairs.iter().filter(|p| p.account == account).count() as i64;
        let balance = client
            .get_balance(GetBalanceRequest {
                account_id: account,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (balance.balance_minor, balance.held_minor),
            (WELCOME - 500 * jobs, 0),
            "account {account}"
        );
    }
    raw.close().await;
    let (code, out) = run_check(db.url()).await;
    assert_eq!(code, 0, "{out}");
    child.start_kill().unwrap();
    child.wait().await.unwrap();
}
