//! The sweeper never runs ahead of pending outcome events: after an outage of billing longer than the
//! hold timeout, the outcomes that waited in NATS settle their holds as they happened (captured on
//! delivery, released on failure or non-delivery) and only a hold with no outcome expires; while NATS
//! cannot be asked, nothing expires at all.

use std::collections::HashMap;

use mediabot_proto::billing::v1::{HoldState, ReleaseRequest};
use nats_test_server::NatsServer;
use sqlx::Row as _;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::accounts::health_status;
use crate::helpers::{
    Backend, Options, TestApp, TestDb, assert_ledger_consistent, eventually, job_id, spawn_app_on,
    spawn_app_with, upscale_2x,
};
use crate::on_both_backends;
use crate::settlement::{
    ACCOUNT, WAIT, delivered, events, failed, publish, undelivered, wait_until_consumed,
};
use job_pipeline::jetstream::subjects;

on_both_backends!(outcomes_from_an_outage_settle_before_holds_expire);

/// Every hold's state, by job id, straight from the database.
async fn hold_states(app: &TestApp) -> HashMap<String, String> {
    sqlx::query("SELECT job_id, state FROM holds")
        .fetch_all(app.ledger.db().pool())
        .await
        .unwrap()
        .iter()
        .map(|row| {
            (
                row.try_get("job_id").unwrap(),
                row.try_get("state").unwrap(),
            )
        })
        .collect()
}

async fn wait_until_serving(app: &TestApp) {
    eventually(
        WAIT,
        "health SERVING (settlement consumer ready)",
        || async { (health_status(app.addr).await == ServingStatus::Serving).then_some(()) },
    )
    .await;
}

async fn outcomes_from_an_outage_settle_before_holds_expire(backend: Backend) {
    let nats = NatsServer::start().unwrap();
    let db = TestDb::create(backend).await;
    let options = || Options {
        welcome_credit_minor: 100_000,
        hold_timeout_secs: 1,
        nats_url: Some(nats.url()),
        ..Options::new(backend)
    };
    let app = spawn_app_on(&db, options()).await;
    wait_until_serving(&app).await;
    let jobs = |n| (0..n).map(|_| job_id()).collect::<Vec<_>>();
    let (delivered_jobs, failed_jobs, undelivered_jobs, silent) =
        (jobs(20), jobs(5), jobs(5), job_id());
    let mut latest_expiry = 0;
    for job in delivered_jobs
        .iter()
        .chain(&failed_jobs)
        .chain(&undelivered_jobs)
        .chain([&silent])
    {
        let hold = app.reserve(job, ACCOUNT, upscale_2x()).await.unwrap();
        latest_expiry = latest_expiry.max(hold.expires_at_unix_ms);
    }
    app.stop().await;

    // Billing is down: the outcomes wait in the stream while every hold runs past its timeout.
    let pipeline = events(&nats.url()).await;
    for job in &delivered_jobs {
        publish(
            &pipeline,
            subjects::DELIVERED,
            job,
            "delivered",
            &delivered(job),
        )
        .await;
    }
    for job in &failed_jobs {
        publish(&pipeline, subjects::FAILED, job, "failed", &failed(job)).await;
    }
    for job in &undelivered_jobs {
        publish(
            &pipeline,
            subjects::UNDELIVERED,
            job,
            "undelivered",
            &undelivered(job),
        )
        .await;
    }
    eventually(WAIT, "every hold to be past its expiry", || async {
        (service_runtime::now_unix_ms() > latest_expiry + 500).then_some(())
    })
    .await;

    // Billing is back (sweeping every 50 ms): the waiting outcomes settle first, then the silent hold
    // expires.
    let app = spawn_app_on(&db, options()).await;
    eventually(WAIT, "the hold without an outcome to expire", || async {
        (hold_states(&app).await.get(&silent).map(String::as_str) == Some("expired")).then_some(())
    })
    .await;
    wait_until_consumed(&pipeline).await;
    let states = hold_states(&app).await;
    for job in &delivered_jobs {
        assert_eq!(states[job], "captured", "delivered job {job}");
    }
    for job in failed_jobs.iter().chain(&undelivered_jobs) {
        assert_eq!(states[job], "released", "failed or undelivered job {job}");
    }
    let balance = app.balance(ACCOUNT).await;
    assert_eq!(
        (balance.balance_minor, balance.held_minor),
        (100_000 - 20 * 500, 0)
    );
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_expires_while_nats_cannot_be_asked() {
    let mut nats = NatsServer::start().unwrap();
    nats.kill();
    let app = spawn_app_with(Options {
        hold_timeout_secs: 1,
        nats_url: Some(nats.url()),
        ..Options::new(Backend::Sqlite)
    })
    .await;
    let job = job_id();
    let hold = app.reserve(&job, ACCOUNT, upscale_2x()).await.unwrap();
    // A second past its expiry, with the sweeper looking every 50 ms: still held, because nobody can
    // say whether its outcome waits in NATS.
    eventually(WAIT, "the hold to be a second overdue", || async {
        (service_runtime::now_unix_ms() > hold.expires_at_unix_ms + 1_000).then_some(())
    })
    .await;
    assert_eq!(app.balance(ACCOUNT).await.held_minor, 500);

    nats.restart().unwrap();
    eventually(WAIT, "the hold to expire once NATS answers", || async {
        (app.balance(ACCOUNT).await.held_minor == 0).then_some(())
    })
    .await;
    let released = app
        .client
        .clone()
        .release(ReleaseRequest { job_id: job })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(released.state, HoldState::Expired as i32);
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_steady_stream_of_events_does_not_stall_expiry() {
    let nats = NatsServer::start().unwrap();
    let app = spawn_app_with(Options {
        hold_timeout_secs: 1,
        nats_url: Some(nats.url()),
        ..Options::new(Backend::Sqlite)
    })
    .await;
    wait_until_serving(&app).await;
    let job = job_id();
    app.reserve(&job, ACCOUNT, upscale_2x()).await.unwrap();

    // Progress events of other jobs keep arriving faster than the sweeper looks (every 50 ms), so the
    // consumer is rarely idle at the moment of a round; the hold with no outcome must expire anyway.
    let pipeline = events(&nats.url()).await;
    let flooding = tokio::spawn(async move {
        for n in 0..100_000u32 {
            let other = job_id();
            let progress = mediabot_proto::jobs::v1::JobProgress {
                job_id: other.clone(),
                ..Default::default()
            };
            publish(
                &pipeline,
                subjects::PROGRESS,
                &other,
                &format!("progress.{n}"),
                &progress,
            )
            .await;
        }
    });
    eventually(WAIT, "the hold to expire despite the traffic", || async {
        (app.balance(ACCOUNT).await.held_minor == 0).then_some(())
    })
    .await;
    assert!(!flooding.is_finished(), "the traffic lasted the whole wait");
    flooding.abort();
    assert_eq!(hold_states(&app).await[&job], "expired");
    assert_ledger_consistent(&app).await;
    app.stop().await;
}
