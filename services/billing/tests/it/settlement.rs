//! Settlement from job outcomes on a real nats-server — money follows delivery: JobDelivered captures,
//! JobFailed and JobUndelivered release, JobCompleted alone charges nothing; duplicates, out-of-order
//! events, progress messages and unknown jobs are all acknowledged without settling anything twice.

use std::time::Duration;

use async_nats::jetstream::consumer::pull;
use job_pipeline::jetstream::{BILLING_SETTLEMENT, EVENTS_STREAM, Pipeline, message_id, subjects};
use mediabot_proto::billing::v1::EntryKind;
use mediabot_proto::jobs::v1::{
    FailureReason, JobCompleted, JobContext, JobDelivered, JobFailed, JobProgress, JobState,
    JobUndelivered, Operation,
};

use tonic_health::pb::health_check_response::ServingStatus;

use crate::accounts::health_status;
use crate::helpers::{
    Backend, Options, TestApp, assert_ledger_consistent, eventually, job_id, spawn_app_with,
    transcribe, upscale_2x,
};
use crate::on_both_backends;

on_both_backends!(
    outcomes_settle_holds_once,
    delivery_captures_the_transcribed_minutes
);

pub(crate) const ACCOUNT: i64 = 42;
pub(crate) const WAIT: Duration = Duration::from_secs(30);

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
        operation: Some(Operation::upscale(2)),
        context: context(),
        ..Default::default()
    }
}

pub(crate) fn delivered(job_id: &str) -> JobDelivered {
    JobDelivered {
        job_id: job_id.into(),
        operation: Some(Operation::upscale(2)),
        context: context(),
        delivered_at_unix_ms: service_runtime::now_unix_ms(),
        audio_duration_ms: 0,
    }
}

pub(crate) fn failed(job_id: &str) -> JobFailed {
    JobFailed {
        job_id: job_id.into(),
        operation: Some(Operation::upscale(2)),
        context: context(),
        reason: FailureReason::CorruptInput as i32,
        ..Default::default()
    }
}

pub(crate) fn undelivered(job_id: &str) -> JobUndelivered {
    JobUndelivered {
        job_id: job_id.into(),
        operation: Some(Operation::upscale(2)),
        context: context(),
        detail: "Forbidden: bot was blocked by the user".into(),
        ..Default::default()
    }
}

/// A publisher of job events on `nats_url`.
pub(crate) async fn events(nats_url: &str) -> Pipeline {
    let client = job_pipeline::jetstream::connect(nats_url, "billing-test")
        .await
        .unwrap();
    Pipeline::setup(client).await.unwrap()
}

/// Publishes `event` on `subject` with the message id `<job>.<name>`.
pub(crate) async fn publish<M: prost::Message>(
    pipeline: &Pipeline,
    subject: &str,
    job: &str,
    name: &str,
    event: &M,
) {
    pipeline
        .publish(subject, &message_id(job, name), event)
        .await
        .unwrap();
}

/// Waits until the billing consumer has acknowledged everything published so far.
pub(crate) async fn wait_until_consumed(pipeline: &Pipeline) {
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
    let pipeline = events(&app.nats.as_ref().unwrap().url()).await;
    let (done, broken, late, gone, waiting) = (job_id(), job_id(), job_id(), job_id(), job_id());
    for job in [&done, &broken, &late, &gone, &waiting] {
        app.reserve(job, ACCOUNT, upscale_2x()).await.unwrap();
    }
    wait_for_balance(&app, 3000, 2500).await;

    // Progress and completion charge nothing: only delivery does.
    let progress = JobProgress {
        job_id: done.clone(),
        operation: Some(Operation::upscale(2)),
        state: JobState::Running as i32,
        percent: 50,
        context: context(),
        remaining_ms: 0,
    };
    publish(
        &pipeline,
        subjects::PROGRESS,
        &done,
        "progress.50",
        &progress,
    )
    .await;
    for job in [&done, &waiting] {
        publish(
            &pipeline,
            subjects::COMPLETED,
            job,
            "completed",
            &completed(job),
        )
        .await;
    }
    wait_until_consumed(&pipeline).await;
    wait_for_balance(&app, 3000, 2500).await;

    // `done` is delivered twice (distinct message ids defeat de-duplication, as a redelivery would);
    // `broken` fails twice; `gone` could not be delivered; an event for a job billing never saw is
    // only logged.
    publish(
        &pipeline,
        subjects::DELIVERED,
        &done,
        "delivered",
        &delivered(&done),
    )
    .await;
    publish(
        &pipeline,
        subjects::DELIVERED,
        &done,
        "delivered.again",
        &delivered(&done),
    )
    .await;
    publish(
        &pipeline,
        subjects::FAILED,
        &broken,
        "failed",
        &failed(&broken),
    )
    .await;
    publish(
        &pipeline,
        subjects::FAILED,
        &broken,
        "failed.again",
        &failed(&broken),
    )
    .await;
    publish(
        &pipeline,
        subjects::UNDELIVERED,
        &gone,
        "undelivered",
        &undelivered(&gone),
    )
    .await;
    let stranger = job_id();
    publish(
        &pipeline,
        subjects::DELIVERED,
        &stranger,
        "delivered",
        &delivered(&stranger),
    )
    .await;
    wait_for_balance(&app, 2500, 1000).await;
    wait_until_consumed(&pipeline).await;

    // Out of order: a failure or non-delivery after the delivery does not undo the capture, and a
    // delivery after the failure does not charge.
    publish(&pipeline, subjects::FAILED, &done, "failed", &failed(&done)).await;
    publish(
        &pipeline,
        subjects::UNDELIVERED,
        &done,
        "undelivered",
        &undelivered(&done),
    )
    .await;
    publish(
        &pipeline,
        subjects::DELIVERED,
        &broken,
        "delivered",
        &delivered(&broken),
    )
    .await;
    // `late` fails first, then is reported delivered: released, never charged. (Events published
    // together are settled concurrently, in any order, so the test waits between the two.)
    publish(&pipeline, subjects::FAILED, &late, "failed", &failed(&late)).await;
    wait_until_consumed(&pipeline).await;
    publish(
        &pipeline,
        subjects::DELIVERED,
        &late,
        "delivered",
        &delivered(&late),
    )
    .await;
    wait_until_consumed(&pipeline).await;
    // `waiting` completed but is not delivered yet: still held.
    wait_for_balance(&app, 2500, 500).await;

    let operations = app.all_operations(ACCOUNT).await;
    let count = |kind: EntryKind, job: &str| {
        operations
            .iter()
            .filter(|o| o.kind == kind as i32 && o.reference == job)
            .count()
    };
    let settlements = |job: &str| {
        (
            count(EntryKind::Capture, job),
            count(EntryKind::Release, job),
        )
    };
    assert_eq!(settlements(&done), (1, 0));
    assert_eq!(settlements(&broken), (0, 1));
    assert_eq!(settlements(&late), (0, 1));
    assert_eq!(settlements(&gone), (0, 1));
    assert_eq!(settlements(&waiting), (0, 0));
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
    app.reserve(&job, ACCOUNT, upscale_2x()).await.unwrap();
    assert_eq!(health_status(app.addr).await, ServingStatus::NotServing);

    nats.restart().unwrap();
    eventually(WAIT, "health SERVING after NATS came up", || async {
        (health_status(app.addr).await == ServingStatus::Serving).then_some(())
    })
    .await;
    let pipeline = events(&nats.url()).await;
    publish(
        &pipeline,
        subjects::DELIVERED,
        &job,
        "delivered",
        &delivered(&job),
    )
    .await;
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
    app.reserve(&job, ACCOUNT, upscale_2x()).await.unwrap();
    eventually(WAIT, "health SERVING", || async {
        (health_status(app.addr).await == ServingStatus::Serving).then_some(())
    })
    .await;
    let pipeline = events(&app.nats.as_ref().unwrap().url()).await;

    app.db().set_reachable(false).await;
    publish(
        &pipeline,
        subjects::DELIVERED,
        &job,
        "delivered",
        &delivered(&job),
    )
    .await;
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

/// Hold for the maximum, capture the actual: a transcription held for 5 minutes (an audio file without
/// a duration, or a message claiming more) captures the price of the 92 s transcribed (2 started
/// minutes); one whose audio turned out longer than held captures the hold and no more; a delivered
/// event without a length captures the whole hold.
async fn delivery_captures_the_transcribed_minutes(backend: Backend) {
    let app = spawn_app_with(Options {
        nats: true,
        ..Options::new(backend)
    })
    .await;
    let pipeline = events(&app.nats.as_ref().unwrap().url()).await;
    let (shorter, longer, unknown) = (job_id(), job_id(), job_id());
    app.reserve_audio(&shorter, ACCOUNT, transcribe(), 300_000)
        .await
        .unwrap();
    app.reserve_audio(&longer, ACCOUNT, transcribe(), 60_000)
        .await
        .unwrap();
    app.reserve_audio(&unknown, ACCOUNT, transcribe(), 120_000)
        .await
        .unwrap();
    // 5 + 1 + 2 minutes at 300.
    wait_for_balance(&app, 3000, 2400).await;

    let delivered_after = |job: &str, audio_duration_ms: u64| JobDelivered {
        operation: Some(transcribe()),
        audio_duration_ms,
        ..delivered(job)
    };
    publish(
        &pipeline,
        subjects::DELIVERED,
        &shorter,
        "delivered",
        &delivered_after(&shorter, 92_000),
    )
    .await;
    // 5 − 2 minutes released, 2 captured.
    wait_for_balance(&app, 2400, 900).await;
    publish(
        &pipeline,
        subjects::DELIVERED,
        &longer,
        "delivered",
        &delivered_after(&longer, 150_000),
    )
    .await;
    // 3 minutes transcribed, 1 held: the hold is taken, no more.
    wait_for_balance(&app, 2100, 600).await;
    publish(
        &pipeline,
        subjects::DELIVERED,
        &unknown,
        "delivered",
        &delivered_after(&unknown, 0),
    )
    .await;
    wait_for_balance(&app, 1500, 0).await;
    // A repeat settles nothing twice.
    publish(
        &pipeline,
        subjects::DELIVERED,
        &shorter,
        "delivered-again",
        &delivered_after(&shorter, 92_000),
    )
    .await;
    wait_until_consumed(&pipeline).await;
    wait_for_balance(&app, 1500, 0).await;
    assert_ledger_consistent(&app).await;
}
