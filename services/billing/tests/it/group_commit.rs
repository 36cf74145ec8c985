//! Group commit on PostgreSQL: concurrent calls share statements, and every money rule still holds —
//! no overdraft when reserves of one account land in parallel batches, one hold and one capture per job
//! when the same calls come twice at once or through two replicas.

use std::collections::HashMap;

use futures::future::join_all;
use mediabot_proto::billing::v1::{CaptureRequest, Hold, ReleaseRequest};
use tonic::Code;

use crate::helpers::{
    Backend, Options, TestApp, TestDb, assert_ledger_consistent, job_id, spawn_app_on,
    spawn_app_with, upscale_2x,
};

async fn capture(
    app: &TestApp,
    job: &str,
    amount_minor: Option<i64>,
) -> Result<Hold, tonic::Status> {
    app.client
        .clone()
        .capture(CaptureRequest {
            job_id: job.into(),
            amount_minor,
        })
        .await
        .map(|r| r.into_inner())
}

async fn release(app: &TestApp, job: &str) -> Result<Hold, tonic::Status> {
    app.client
        .clone()
        .release(ReleaseRequest { job_id: job.into() })
        .await
        .map(|r| r.into_inner())
}

/// 40 accounts × 5 jobs at once, each job a different story: captured, released, captured in part,
/// captured twice at once, reserved twice at once. Every balance comes out to the kopeck, and most calls
/// were answered by shared statements.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_share_statements_and_balance_to_the_kopeck() {
    let app = spawn_app_with(Options::new(Backend::Postgres)).await;
    let accounts: Vec<i64> = (7_000..7_040).collect();
    // Open the accounts first (3000 welcome credit each), so every reserve takes the hot path.
    join_all(accounts.iter().map(|&account| app.balance(account))).await;

    let stories = accounts
        .iter()
        .flat_map(|&account| (0..5).map(move |story| (account, story, job_id())));
    let app = &app;
    let spent = join_all(stories.map(|(account, story, job)| async move {
        let reserve = || app.reserve(&job, account, upscale_2x());
        let hold = if story == 4 {
            let (a, b) = futures::join!(reserve(), reserve());
            let (a, b) = (a.unwrap(), b.unwrap());
            assert_eq!(
                (a.job_id.as_str(), a.amount_minor),
                (b.job_id.as_str(), b.amount_minor)
            );
            a
        } else {
            reserve().await.unwrap()
        };
        assert_eq!(hold.amount_minor, 500);
        let spent = match story {
            0 | 4 => capture(app, &job, None).await.unwrap().captured_minor,
            1 => release(app, &job).await.map(|h| h.captured_minor).unwrap(),
            2 => capture(app, &job, Some(120)).await.unwrap().captured_minor,
            _ => {
                let (a, b) = futures::join!(capture(app, &job, None), capture(app, &job, None));
                let (a, b) = (a.unwrap(), b.unwrap());
                assert_eq!(a.captured_minor, b.captured_minor);
                a.captured_minor
            }
        };
        (account, spent)
    }))
    .await;

    let mut spent_by_account: HashMap<i64, i64> = HashMap::new();
    for (account, spent) in spent {
        *spent_by_account.entry(account).or_default() += spent;
    }
    for &account in &accounts {
        // 500 + 0 + 120 + 500 + 500
        assert_eq!(spent_by_account[&account], 1_620);
        let balance = app.balance(account).await;
        assert_eq!(
            (balance.balance_minor, balance.held_minor),
            (3_000 - 1_620, 0),
            "account {account}"
        );
    }
    let stats = app.ledger.batch_stats();
    eprintln!("group commit: {stats:?}");
    assert!(
        stats.batches > 0 && stats.calls >= 2 * stats.batches,
        "no calls shared a statement: {stats:?}"
    );
    assert_ledger_consistent(app).await;
}

/// 60 accounts that can each afford two upscales get three reserves each, all at once: reserves of one
/// account never share a statement, but they do run in parallel batches, and exactly two per account win.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reserves_of_one_account_in_parallel_batches_never_overdraw() {
    let app = spawn_app_with(Options {
        welcome_credit_minor: 1_000,
        ..Options::new(Backend::Postgres)
    })
    .await;
    let accounts: Vec<i64> = (8_000..8_060).collect();
    join_all(accounts.iter().map(|&account| app.balance(account))).await;
    let app = &app;
    let results = join_all(
        accounts
            .iter()
            .flat_map(|&account| (0..3).map(move |_| account))
            .map(|account| async move {
                (account, app.reserve(&job_id(), account, upscale_2x()).await)
            }),
    )
    .await;
    let mut won: HashMap<i64, usize> = HashMap::new();
    for (account, result) in results {
        match result {
            Ok(hold) => *won.entry(account).or_default() += usize::from(hold.amount_minor == 500),
            Err(status) => assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}"),
        }
    }
    for &account in &accounts {
        assert_eq!(won.get(&account), Some(&2), "account {account}");
        let balance = app.balance(account).await;
        assert_eq!((balance.held_minor, balance.available_minor), (1_000, 0));
    }
    assert!(app.ledger.batch_stats().batches > 0);
    assert_ledger_consistent(app).await;
}

/// Two replicas on one database get the same reserves and captures at the same moment: batches that
/// lose a race to the other replica fall back to one call at a time, and each job has one hold and one
/// capture.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_racing_on_the_same_jobs_hold_and_capture_once() {
    let db = TestDb::create(Backend::Postgres).await;
    let first = spawn_app_on(&db, Options::new(Backend::Postgres)).await;
    let second = spawn_app_on(&db, Options::new(Backend::Postgres)).await;
    let accounts: Vec<i64> = (9_000..9_030).collect();
    join_all(accounts.iter().map(|&account| first.balance(account))).await;
    let jobs: Vec<(i64, String)> = accounts
        .iter()
        .flat_map(|&account| (0..2).map(move |_| (account, job_id())))
        .collect();
    let (first, second) = (&first, &second);
    join_all(jobs.iter().map(|(account, job)| async move {
        let (a, b) = futures::join!(
            first.reserve(job, *account, upscale_2x()),
            second.reserve(job, *account, upscale_2x())
        );
        assert_eq!(a.unwrap().expires_at_unix_ms, b.unwrap().expires_at_unix_ms);
        let (a, b) = futures::join!(capture(first, job, None), capture(second, job, None));
        assert_eq!(
            (a.unwrap().captured_minor, b.unwrap().captured_minor),
            (500, 500)
        );
    }))
    .await;
    for &account in &accounts {
        let balance = first.balance(account).await;
        assert_eq!((balance.balance_minor, balance.held_minor), (2_000, 0));
    }
    let captures: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM ledger_entries WHERE kind = 'capture' AND amount_minor <> 0",
    )
    .fetch_one(first.ledger.db().pool())
    .await
    .unwrap();
    assert_eq!(captures, jobs.len() as i64);
    assert_ledger_consistent(first).await;
}
