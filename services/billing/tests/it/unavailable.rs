//! PostgreSQL going away: every call answers UNAVAILABLE (never INTERNAL, never a half-done change),
//! and once the database is back the ledger is exactly as the successful calls left it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::future::join_all;
use mediabot_proto::billing::v1::{
    CaptureRequest, GetBalanceRequest, HoldState, ReleaseRequest, TopUpRequest,
};
use sqlx::{Connection as _, Executor as _};
use tonic::Code;

use crate::helpers::{
    Backend, Options, TestDb, assert_ledger_consistent, job_id, spawn_app_with, upscale_2x,
};

fn top_up(key: &str) -> TopUpRequest {
    TopUpRequest {
        account_id: 42,
        amount_minor: 1000,
        idempotency_key: key.into(),
        source: "admin:1".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn database_down_is_unavailable_and_changes_nothing() {
    let app = spawn_app_with(Options::new(Backend::Postgres)).await;
    let pending = job_id();
    app.reserve(&pending, 42, upscale_2x()).await.unwrap();
    let before = app.balance(42).await;
    let entries_before = app.all_operations(42).await;

    app.db().set_reachable(false).await;
    let mut client = app.client.clone();
    let new_job = job_id();
    let codes = [
        client
            .get_balance(GetBalanceRequest { account_id: 42 })
            .await
            .map(drop),
        app.reserve(&new_job, 42, upscale_2x()).await.map(drop),
        client
            .capture(CaptureRequest {
                job_id: pending.clone(),
                amount_minor: None,
            })
            .await
            .map(drop),
        client
            .release(ReleaseRequest {
                job_id: pending.clone(),
            })
            .await
            .map(drop),
        client.top_up(top_up("down-1")).await.map(drop),
    ]
    .map(|r| r.map_err(|s| (s.code(), s.message().to_string())));
    for result in &codes {
        let (code, message) = result.as_ref().unwrap_err();
        assert_eq!(*code, Code::Unavailable, "{message}");
    }

    app.db().set_reachable(true).await;
    assert_eq!(app.balance(42).await, before);
    assert_eq!(app.all_operations(42).await, entries_before);
    let hold = app.reserve(&pending, 42, upscale_2x()).await.unwrap();
    assert_eq!(hold.state, HoldState::Pending as i32);
    let missing = client
        .capture(CaptureRequest {
            job_id: new_job,
            amount_minor: None,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let credited = client.top_up(top_up("down-1")).await.unwrap().into_inner();
    assert_eq!(
        credited.balance.unwrap().balance_minor,
        before.balance_minor + 1000
    );
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

/// Kills every connection of the service again and again while clients reserve and capture.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_killed_under_load() {
    let app = spawn_app_with(Options {
        welcome_credit_minor: 100_000_000,
        ..Options::new(Backend::Postgres)
    })
    .await;
    let TestDb::Postgres {
        admin_url, name, ..
    } = app.db()
    else {
        unreachable!()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let killer = {
        let (admin_url, name, stop) = (admin_url.clone(), name.clone(), stop.clone());
        tokio::spawn(async move {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            let mut kills = 0;
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(50)).await;
                admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                    )))
                    .await
                    .unwrap();
                kills += 1;
            }
            kills
        })
    };
    let clients = (0..8).map(|client| {
        let (app, stop) = (&app, stop.clone());
        async move {
            let account = 100 + client;
            let mut jobs = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let job = job_id();
                let reserved = app.reserve(&job, account, upscale_2x()).await;
                let captured = match &reserved {
                    Ok(_) => Some(
                        app.client
                            .clone()
                            .capture(CaptureRequest {
                                job_id: job.clone(),
                                amount_minor: None,
                            })
                            .await
                            .map(drop),
                    ),
                    Err(_) => None,
                };
                jobs.push((account, job, reserved.map(drop), captured));
            }
            jobs
        }
    });
    let stopper = {
        let stop = stop.clone();
        async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            stop.store(true, Ordering::Relaxed);
        }
    };
    let (jobs, ()) = tokio::join!(join_all(clients), stopper);
    let kills = killer.await.unwrap();
    let jobs: Vec<_> = jobs.into_iter().flatten().collect();
    let errors: Vec<_> = jobs
        .iter()
        .flat_map(|(_, _, r, c)| [r.as_ref().err(), c.as_ref().and_then(|c| c.as_ref().err())])
        .flatten()
        .collect();
    eprintln!(
        "{} pairs, {} errors, {kills} rounds of killed connections",
        jobs.len(),
        errors.len()
    );
    for status in &errors {
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    }
    // Every job retried with its id: each ends captured exactly once.
    for (account, job, _, _) in &jobs {
        app.reserve(job, *account, upscale_2x()).await.unwrap();
        let hold = app
            .client
            .clone()
            .capture(CaptureRequest {
                job_id: job.clone(),
                amount_minor: None,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(hold.captured_minor, 500);
    }
    for client in 0..8 {
        let account = 100 + client;
        let count = jobs.iter().filter(|(a, ..)| *a == account).count() as i64;
        let balance = app.balance(account).await;
        assert_eq!(balance.balance_minor, 100_000_000 - 500 * count);
        assert_eq!(balance.held_minor, 0);
    }
    assert_ledger_consistent(&app).await;
    let report = billing::check::run(
        app.ledger.db(),
        service_runtime::now_unix_ms(),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    app.stop().await;
}
