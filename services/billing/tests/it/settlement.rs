//! Settlement from job outcomes on a real nats-server: JobCompleted captures, JobFailed releases;
//! duplicates, out-of-order events, progress messages and unknown jobs are all acknowledged without
//! settling anything twice.

use std::time::Duration;

use async_nats::jetstream::consumer::pull;
use mediabot_proto::billing::v1::EntryKind;
use mediabot_proto::jobs::v1::{
    JobCompleted, JobContext, JobFailed, JobKind, JobProgress, JobState,
};
use service_runtime::jetstream::{BILLING_SETTLEMENT, EVENTS_STREAM, Pipeline, subjects};

use tonic_health::pb::health_check_response::ServingStatus;

use crate::accounts::health_status;
use crate::helpers::{
    Backend, Options, TestApp, assert_ledger_consistent, eventually, job_id, spawn_app_with,
};
use crate::on_both_backends;

on_both_backends!(outcomes_settle_holds_once);

const ACCOUNT: i64 = 42;
const WAIT: Duration = Duration::from_secs(30);

fn context() -> Option<JobContext> {
    Some(JobContext {
        chat_id: ACCOUNT,
        user_id: ACCOUNT,
        ..Default::default()
    })
}

fn completed(job_id: &str) -> JobCompleted {
    JobCompleted {
        job_id: job_id.into(),
        kind: JobKind::Image as i32,
        context: context(),
        ..Default::default()
    }
}

fn failed(job_id: &str) -> JobFailed {
    JobFailed {
        job_id: job_id.into(),
        kind: JobKind::Image as i32,
        context: context(),
        ..Default::default()
    }
}

/// Waits until the billing consumer has acknowledged everything published so far.
async fn wait_until_consumed(pipeline: &Pipeline) {
    let stream = pipeline.jetstream.get_stream(EVENTS_STREAM).await.unwrap();
    eventually(WAIT, "billing to acknowledge every event", || {
        let stream = stream.clone();
        async move {
            let mut consumer = stream
                .get_consumer::<pull::Config>(BILLING_SETTLEMENT)
                .await
                .ok()?;
            let info = consumer.info().await.ok()?;
            (info.num_pending == 0 && info.num_ack_pending == 0).then_some(())
        }
    })
    .await;
}

async fn wait_for_balance(app: &TestApp, balance_minor: i64, held_minor: i64) {
    eventually(
        WAIT,
        &format!("balance {balance_minor}, held {held_minor}"),
        || async {
            let balance = app.balance(ACCOUNT).await;
            (balance.balance_minor == balance_minor && balance.held_minor == held_minor)
                .then_some(())
        },
    )
    .await;
}

async fn outcomes_settle_holds_once(backend: Backend) {
    let app = spawn_app_with(Options {
        nats: true,
        ..Options::new(backend)
    })
    .await;
    let nats_url = app.nats.as_ref().unwrap().url();
    let client = service_runtime::jetstream::connect(&nats_url, "billing-test")
        .await
        .unwrap();
    let pipeline = Pipeline::setup(client).await.unwrap();
    let (done, broken, late) = (job_id(), job_id(), job_id());
    for job in [&done, &broken, &late] {
        app.reserve(job, ACCOUNT, "image.upscale_2x").await.unwrap();
    }
    wait_for_balance(&app, 3000, 1500).await;

    // Progress is ignored; the completed event arrives twice (distinct message ids defeat de-duplication,
    // as a redelivery would); an event for a job billing never saw is only logged.
    let progress = JobProgress {
        job_id: done.clone(),
        kind: JobKind::Image as i32,
        state: JobState::Running as i32,
        percent: 50,
        context: context(),
    };
    pipeline
        .publish(subjects::PROGRESS, &format!("{done}.progress.1"), &progress)
        .await
        .unwrap();
    pipeline
        .publish(
            subjects::COMPLETED,
            &format!("{done}.completed"),
            &completed(&done),
        )
        .await
        .unwrap();
    pipeline
        .publish(
            subjects::COMPLETED,
            &format!("{done}.completed.again"),
            &completed(&done),
        )
        .await
        .unwrap();
    pipeline
        .publish(
            subjects::FAILED,
            &format!("{broken}.failed"),
            &failed(&broken),
        )
        .await
        .unwrap();
    pipeline
        .publish(
            subjects::FAILED,
            &format!("{broken}.failed.again"),
            &failed(&broken),
        )
        .await
        .unwrap();
    let stranger = job_id();
    pipeline
        .publish(
            subjects::COMPLETED,
            &format!("{stranger}.completed"),
            &completed(&stranger),
        )
        .await
        .unwrap();
    wait_for_balance(&app, 2500, 500).await;
    wait_until_consumed(&pipeline).await;

    // Out of order: a failure after the completion does not undo the capture, and a completion after
    // the failure does not charge.
    pipeline
        .publish(subjects::FAILED, &format!("{done}.failed"), &failed(&done))
        .await
        .unwrap();
    pipeline
        .publish(
            subjects::COMPLETED,
            &format!("{broken}.completed"),
            &completed(&broken),
        )
        .await
        .unwrap();
    // `late` fails first, then completes: released, never charged. (Events published together are
    // settled concurrently, in any order, so the test waits between the two.)
    pipeline
        .publish(subjects::FAILED, &format!("{late}.failed"), &failed(&late))
        .await
        .unwrap();
    wait_until_consumed(&pipeline).await;
    pipeline
        .publish(
            subjects::COMPLETED,
            &format!("{late}.completed"),
            &completed(&late),
        )
        .await
        .unwrap();
    wait_until_consumed(&pipeline).await;
    wait_for_balance(&app, 2500, 0).await;

    let operations = app.all_operations(ACCOUNT).await;
    let count = |kind: EntryKind, job: &str| {
        operations
            .iter()
            .filter(|o| o.kind == kind as i32 && o.reference == job)
            .count()
    };
    assert_eq!(
        (
            count(EntryKind::Capture, &done),
            count(EntryKind::Release, &done)
        ),
        (1, 0)
    );
    assert_eq!(
        (
            count(EntryKind::Capture, &broken),
            count(EntryKind::Release, &broken)
        ),
        (0, 1)
    );
    assert_eq!(
        (
            count(EntryKind::Capture, &late),
            count(EntryKind::Release, &late)
        ),
        (0, 1)
    );
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn settlement_starts_when_nats_comes_up() {
    let mut nats = nats_test_server::NatsServer::start().unwrap();
    nats.kill();
    let app = spawn_app_with(Options {
        nats_url: Some(nats.url()),
        ..Options::new(Backend::Sqlite)
    })
    .await;
    let job = job_id();
    app.reserve(&job, ACCOUNT, "image.upscale_2x")
        .await
        .unwrap();
    assert_eq!(health_status(app.addr).await, ServingStatus::NotServing);

    nats.restart().unwrap();
    eventually(WAIT, "health SERVING after NATS came up", || async {
        (health_status(app.addr).await == ServingStatus::Serving).then_some(())
    })
    .await;
    let client = service_runtime::jetstream::connect(&nats.url(), "billing-test")
        .await
        .unwrap();
    let pipeline = Pipeline::setup(client).await.unwrap();
    pipeline
        .publish(
            subjects::COMPLETED,
            &format!("{job}.completed"),
            &completed(&job),
        )
        .await
        .unwrap();
    wait_for_balance(&app, 2500, 0).await;
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn settlement_retries_while_the_database_is_down() {
    let app = spawn_app_with(Options {
        nats: true,
        ..Options::new(Backend::Postgres)
    })
    .await;
    let job = job_id();
    app.reserve(&job, ACCOUNT, "image.upscale_2x")
        .await
        .unwrap();
    eventually(WAIT, "health SERVING", || async {
        (health_status(app.addr).await == ServingStatus::Serving).then_some(())
    })
    .await;
    let client =
        service_runtime::jetstream::connect(&app.nats.as_ref().unwrap().url(), "billing-test")
            .await
            .unwrap();
    let pipeline = Pipeline::setup(client).await.unwrap();

    app.db().set_reachable(false).await;
    pipeline
        .publish(
            subjects::COMPLETED,
            &format!("{job}.completed"),
            &completed(&job),
        )
        .await
        .unwrap();
    let stream = pipeline.jetstream.get_stream(EVENTS_STREAM).await.unwrap();
    eventually(WAIT, "the event to be redelivered", || {
        let stream = stream.clone();
        async move {
            let mut consumer = stream
                .get_consumer::<pull::Config>(BILLING_SETTLEMENT)
                .await
                .ok()?;
            (consumer.info().await.ok()?.num_redelivered > 0).then_some(())
        }
    })
    .await;

    app.db().set_reachable(true).await;
    wait_for_balance(&app, 2500, 0).await;
    wait_until_consumed(&pipeline).await;
    assert_ledger_consistent(&app).await;
    app.stop().await;
}
