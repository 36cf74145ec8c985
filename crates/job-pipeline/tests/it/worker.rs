//! The worker's lifecycle with a scripted handler: completion with a result object, input errors fail at
//! once, transient errors are retried, a missing or oversized input, an undecodable message, and the
//! poison job whose every worker died.

use std::time::Duration;

use futures::StreamExt;
use job_pipeline::jetstream::{Pipeline, output_key};
use job_pipeline::{JobError, JobQueue, Worker, WorkerConfig};
use mediabot_proto::Service;
use mediabot_proto::jobs::v1::{FailureReason, JobState, Operation, job_completed};
use nats_test_server::NatsServer;
use tokio::io::AsyncReadExt as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::helpers::{
    Outcome, Scripted, context, pipeline, put_input, request, wait_for_depth, wait_outcome,
};

const DEADLINE: Duration = Duration::from_secs(30);

fn config() -> WorkerConfig {
    WorkerConfig {
        concurrency: 2,
        ack_wait: Duration::from_secs(2),
        max_deliver: 3,
        max_input_bytes: 1024,
    }
}

struct Running {
    pipeline: Pipeline,
    queue: JobQueue,
    shutdown: CancellationToken,
    worker: JoinHandle<()>,
    _nats: NatsServer,
}

async fn start(handler: Scripted, config: WorkerConfig) -> Running {
    let nats = NatsServer::start().unwrap();
    let pipeline = pipeline(&nats).await;
    let worker = Worker::new(pipeline.clone(), handler, config)
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    let worker = tokio::spawn(worker.run(shutdown.clone()));
    Running {
        queue: JobQueue::new(pipeline.clone(), Service::Imaging),
        pipeline,
        shutdown,
        worker,
        _nats: nats,
    }
}

impl Running {
    async fn submit(&self, input: &[u8]) -> String {
        let job_id = put_input(&self.pipeline, input).await;
        self.queue.submit(request(&job_id)).await.unwrap();
        job_id
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.worker)
            .await
            .expect("the worker stops")
            .unwrap();
    }
}

#[tokio::test]
async fn a_job_completes_with_its_result_object_and_the_request_is_acked() {
    let handler = Scripted::default();
    let app = start(handler.clone(), config()).await;
    let job_id = app.submit(b"abc").await;
    let (outcome, progress) = wait_outcome(&app.pipeline, &job_id, DEADLINE).await;
    let Outcome::Completed(completed) = outcome else {
        panic!("expected completion, got {outcome:?}")
    };
    assert_eq!(completed.operation, Some(Operation::upscale(2)));
    assert_eq!(completed.context, Some(context()), "copied verbatim");
    let Some(job_completed::Result::Image(result)) = &completed.result else {
        panic!("no result")
    };
    assert_eq!(result.output_key, output_key(&job_id));
    let mut stored = Vec::new();
    app.pipeline
        .media
        .get(output_key(&job_id))
        .await
        .unwrap()
        .read_to_end(&mut stored)
        .await
        .unwrap();
    assert_eq!(stored, b"cba");
    let percents: Vec<u32> = progress.iter().map(|p| p.percent).collect();
    assert_eq!(percents, [0, 50]);
    assert!(progress.iter().all(|p| p.context == Some(context())
        && p.operation == Some(Operation::upscale(2))
        && p.state == JobState::Running as i32));
    let status = app.pipeline.get_status(&job_id).await.unwrap().unwrap();
    assert_eq!(status.state, JobState::Completed as i32);
    assert_eq!(status.completed, Some(completed));
    wait_for_depth(&app.pipeline, Service::Imaging, 0).await;
    assert_eq!(handler.runs(), 1);
    app.stop().await;
}

#[tokio::test]
async fn an_input_error_fails_at_once() {
    let handler =
        Scripted::failing_with([JobError::input(FailureReason::CorruptInput, "not a JPEG")]);
    let app = start(handler.clone(), config()).await;
    let job_id = app.submit(b"junk").await;
    let (outcome, _) = wait_outcome(&app.pipeline, &job_id, DEADLINE).await;
    let Outcome::Failed(failed) = outcome else {
        panic!("expected failure, got {outcome:?}")
    };
    assert_eq!(failed.reason, FailureReason::CorruptInput as i32);
    assert_eq!(failed.detail, "not a JPEG");
    assert_eq!(failed.context, Some(context()));
    assert_eq!(failed.operation, Some(Operation::upscale(2)));
    let status = app.pipeline.get_status(&job_id).await.unwrap().unwrap();
    assert_eq!(status.state, JobState::Failed as i32);
    wait_for_depth(&app.pipeline, Service::Imaging, 0).await;
    assert_eq!(handler.runs(), 1, "not retried");
    app.stop().await;
}

#[tokio::test]
async fn transient_errors_are_retried_with_backoff_then_succeed() {
    let handler = Scripted::failing_with([
        JobError::Transient("object store timed out".into()),
        JobError::Transient("object store timed out".into()),
    ]);
    let app = start(handler.clone(), config()).await;
    let started = std::time::Instant::now();
    let job_id = app.submit(b"abc").await;
    let (outcome, _) = wait_outcome(&app.pipeline, &job_id, DEADLINE).await;
    assert!(matches!(outcome, Outcome::Completed(_)), "{outcome:?}");
    assert_eq!(handler.runs(), 3);
    // Back-off of 1 s then 2 s before the third run.
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_transient_error_on_the_last_run_fails_the_job_as_internal() {
    let handler = Scripted::failing_with(
        std::iter::repeat_with(|| JobError::Transient("still down".into())).take(10),
    );
    let config = WorkerConfig {
        max_deliver: 2,
        ..config()
    };
    let app = start(handler.clone(), config).await;
    let job_id = app.submit(b"abc").await;
    let (outcome, _) = wait_outcome(&app.pipeline, &job_id, DEADLINE).await;
    let Outcome::Failed(failed) = outcome else {
        panic!("expected failure, got {outcome:?}")
    };
    assert_eq!(failed.reason, FailureReason::Internal as i32);
    assert!(failed.detail.contains("still down"), "{}", failed.detail);
    assert_eq!(handler.runs(), 2);
    app.stop().await;
}

#[tokio::test]
async fn a_missing_or_oversized_input_fails_without_running_the_handler() {
    let handler = Scripted::default();
    let app = start(handler.clone(), config()).await;
    let big = app.submit(&[7u8; 2048]).await;
    let (outcome, _) = wait_outcome(&app.pipeline, &big, DEADLINE).await;
    let Outcome::Failed(failed) = outcome else {
        panic!("expected failure, got {outcome:?}")
    };
    assert_eq!(
        failed.reason,
        FailureReason::TooLarge as i32,
        "{}",
        failed.detail
    );

    // Queued, then the input expired before a worker got to it.
    let missing = mediabot_proto::JobId::random().to_string();
    app.pipeline
        .publish(
            Service::Imaging.requested_subject(),
            &job_pipeline::jetstream::message_id(&missing, "requested"),
            &request(&missing),
        )
        .await
        .unwrap();
    let (outcome, _) = wait_outcome(&app.pipeline, &missing, DEADLINE).await;
    let Outcome::Failed(failed) = outcome else {
        panic!("expected failure, got {outcome:?}")
    };
    assert_eq!(
        failed.reason,
        FailureReason::InputMissing as i32,
        "{}",
        failed.detail
    );
    assert_eq!(handler.runs(), 0);
    app.stop().await;
}

#[tokio::test]
async fn an_undecodable_message_is_terminated_and_does_not_block_the_queue() {
    let handler = Scripted::default();
    let app = start(handler.clone(), config()).await;
    app.pipeline
        .jetstream
        .publish(
            Service::Imaging.requested_subject(),
            "not protobuf \u{ff}".into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let job_id = app.submit(b"abc").await;
    let (outcome, _) = wait_outcome(&app.pipeline, &job_id, DEADLINE).await;
    assert!(matches!(outcome, Outcome::Completed(_)), "{outcome:?}");
    wait_for_depth(&app.pipeline, Service::Imaging, 0).await;
    app.stop().await;
}

/// A job whose worker dies on every delivery (the OOM killer, SIGKILL) is not redelivered forever: once
/// it has been delivered `max_deliver` times without an answer, the next worker records and publishes
/// `JobFailed` WORKER_LOST without running it, and terminates the message.
#[tokio::test]
async fn a_poison_job_fails_as_worker_lost_without_being_run_again() {
    let nats = NatsServer::start().unwrap();
    let pipeline = pipeline(&nats).await;
    let config = WorkerConfig {
        ack_wait: Duration::from_secs(1),
        max_deliver: 2,
        ..config()
    };
    let handler = Scripted::default();
    // Creates the consumer the way every worker does.
    let worker = Worker::new(pipeline.clone(), handler.clone(), config)
        .await
        .unwrap();
    let job_id = put_input(&pipeline, b"abc").await;
    JobQueue::new(pipeline.clone(), Service::Imaging)
        .submit(request(&job_id))
        .await
        .unwrap();

    // Workers that pull the job and die: no ack, no progress, no answer.
    let consumer = pipeline
        .jetstream
        .get_stream(Service::Imaging.stream())
        .await
        .unwrap()
        .get_consumer::<async_nats::jetstream::consumer::pull::Config>(Service::Imaging.consumer())
        .await
        .unwrap();
    let mut deliveries = 0;
    while deliveries < config.max_deliver {
        let mut batch = consumer
            .batch()
            .max_messages(1)
            .expires(Duration::from_secs(3))
            .messages()
            .await
            .unwrap();
        if let Some(message) = batch.next().await {
            let message = message.unwrap();
            deliveries += 1;
            assert_eq!(message.info().unwrap().delivered, deliveries);
            drop(message); // killed while working on it
        }
    }
    assert_eq!(
        pipeline.get_status(&job_id).await.unwrap().unwrap().state,
        JobState::Queued as i32,
        "the dead workers never got far"
    );

    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));
    let (outcome, _) = wait_outcome(&pipeline, &job_id, DEADLINE).await;
    let Outcome::Failed(failed) = outcome else {
        panic!("expected failure, got {outcome:?}")
    };
    assert_eq!(
        failed.reason,
        FailureReason::WorkerLost as i32,
        "{}",
        failed.detail
    );
    assert_eq!(failed.context, Some(context()));
    assert_eq!(handler.runs(), 0, "the poison job was not run again");
    let status = pipeline.get_status(&job_id).await.unwrap().unwrap();
    assert_eq!(status.state, JobState::Failed as i32);
    assert_eq!(
        status.failed.map(|f| f.reason),
        Some(FailureReason::WorkerLost as i32)
    );
    // Terminated: gone from the work queue, never delivered again.
    wait_for_depth(&pipeline, Service::Imaging, 0).await;
    shutdown.cancel();
    running.await.unwrap();
}

/// A handler that takes the hard stop: it waits for shutdown, then gives up.
#[derive(Clone, Default)]
struct WaitsForStop {
    started: std::sync::Arc<tokio::sync::Notify>,
}

impl job_pipeline::JobHandler for WaitsForStop {
    fn service(&self) -> Service {
        Service::Imaging
    }

    async fn run(
        &self,
        _job: &mediabot_proto::jobs::v1::JobRequest,
        _input: bytes::Bytes,
        progress: &job_pipeline::Progress,
        stop: &CancellationToken,
    ) -> Result<job_pipeline::JobOutput, JobError> {
        progress.report(30).await;
        self.started.notify_one();
        stop.cancelled().await;
        Err(JobError::Transient("stopped by shutdown".into()))
    }
}

/// Shutdown stops taking jobs; a job whose handler stops on it is neither failed nor lost but left for
/// redelivery, and the next worker finishes it.
#[tokio::test]
async fn a_job_stopped_by_shutdown_is_left_for_the_next_worker() {
    let nats = NatsServer::start().unwrap();
    let pipeline = pipeline(&nats).await;
    let stopping = WaitsForStop::default();
    // One run only: were the stopped run taken for a transient failure, it would fail the job (INTERNAL).
    let worker = Worker::new(
        pipeline.clone(),
        stopping.clone(),
        WorkerConfig {
            max_deliver: 1,
            ..config()
        },
    )
    .await
    .unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));
    let job_id = put_input(&pipeline, b"abc").await;
    JobQueue::new(pipeline.clone(), Service::Imaging)
        .submit(request(&job_id))
        .await
        .unwrap();
    tokio::time::timeout(DEADLINE, stopping.started.notified())
        .await
        .expect("the job started");
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the worker stops")
        .unwrap();
    let status = pipeline.get_status(&job_id).await.unwrap().unwrap();
    assert_eq!(status.state, JobState::Running as i32, "not failed");
    wait_for_depth(&pipeline, Service::Imaging, 1).await;

    // The interrupted run counts as a delivery; the next worker allows a second run.
    let next = Scripted::default();
    let worker = Worker::new(
        pipeline.clone(),
        next.clone(),
        WorkerConfig {
            max_deliver: 2,
            ..config()
        },
    )
    .await
    .unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));
    let (outcome, _) = wait_outcome(&pipeline, &job_id, DEADLINE).await;
    assert!(matches!(outcome, Outcome::Completed(_)), "{outcome:?}");
    assert_eq!(next.runs(), 1);
    shutdown.cancel();
    running.await.unwrap();
}

/// A user's cancel stops the running job alone (its handler sees its stop token fire, the worker keeps
/// running) and fails it as CANCELLED; a job cancelled while queued fails as CANCELLED without running.
#[tokio::test]
async fn a_cancelled_job_fails_as_cancelled_running_or_queued() {
    let nats = NatsServer::start().unwrap();
    let pipeline = pipeline(&nats).await;
    let stopping = WaitsForStop::default();
    let worker = Worker::new(pipeline.clone(), stopping.clone(), config())
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));
    let queue = JobQueue::new(pipeline.clone(), Service::Imaging);

    let job_id = put_input(&pipeline, b"abc").await;
    queue.submit(request(&job_id)).await.unwrap();
    tokio::time::timeout(DEADLINE, stopping.started.notified())
        .await
        .expect("the job started");
    // The status of a running job carries its latest percent (what /status shows).
    let status = pipeline.get_status(&job_id).await.unwrap().unwrap();
    assert_eq!(
        (status.state, status.percent),
        (JobState::Running as i32, 30)
    );
    pipeline.request_cancel(&job_id).await.unwrap();
    let (outcome, _) = wait_outcome(&pipeline, &job_id, DEADLINE).await;
    let Outcome::Failed(failed) = outcome else {
        panic!("expected a failure, got {outcome:?}")
    };
    assert_eq!(
        failed.reason,
        FailureReason::Cancelled as i32,
        "{}",
        failed.detail
    );
    assert!(failed.detail.contains("while running"), "{}", failed.detail);
    assert!(!shutdown.is_cancelled());

    // Cancelled before any worker took it: never run. (The worker is still taking jobs.)
    let queued = put_input(&pipeline, b"def").await;
    pipeline.request_cancel(&queued).await.unwrap();
    queue.submit(request(&queued)).await.unwrap();
    let (outcome, _) = wait_outcome(&pipeline, &queued, DEADLINE).await;
    let Outcome::Failed(failed) = outcome else {
        panic!("expected a failure, got {outcome:?}")
    };
    assert_eq!(failed.reason, FailureReason::Cancelled as i32);
    assert!(failed.detail.contains("before it ran"), "{}", failed.detail);
    wait_for_depth(&pipeline, Service::Imaging, 0).await;
    shutdown.cancel();
    running.await.unwrap();
}
