use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use mediabot_proto::jobs::v1::ImageJobRequest;
use nats_test_server::NatsServer;
use service_runtime::jetstream::{
    Disposition, IMAGING_STREAM, IMAGING_WORKERS, Pipeline, connect, consume, subjects,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

async fn pipeline(nats: &NatsServer) -> Pipeline {
    Pipeline::setup(connect(&nats.url(), "runtime-tests").await.unwrap())
        .await
        .unwrap()
}

fn job(job_id: &str) -> ImageJobRequest {
    ImageJobRequest {
        job_id: job_id.into(),
        input_key: format!("in/{job_id}"),
        ..Default::default()
    }
}

/// How long the workers' consumer waits for an ack before redelivering, in these tests.
const ACK_WAIT: Duration = Duration::from_secs(1);

/// Creates the imaging workers' consumer (ack wait [`ACK_WAIT`]) and queues one job on it.
async fn queue_one_job(pipeline: &Pipeline, job_id: &str) -> PullConsumer {
    let consumer = pipeline
        .durable_consumer(IMAGING_STREAM, IMAGING_WORKERS, None, ACK_WAIT, 5)
        .await
        .unwrap();
    pipeline
        .publish(
            subjects::IMAGING_REQUESTED,
            &format!("{job_id}.requested"),
            &job(job_id),
        )
        .await
        .unwrap();
    consumer
}

async fn wait_for_depth(pipeline: &Pipeline, expected: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let depth = pipeline.queue_depth(IMAGING_STREAM).await.unwrap();
        if depth == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "queue depth {depth}, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn setup_is_idempotent_and_a_repeated_message_id_is_stored_once() {
    let nats = NatsServer::start().unwrap();
    let first = pipeline(&nats).await;
    let again = pipeline(&nats).await; // a second service starting against the same server
    let ack = first
        .publish(subjects::IMAGING_REQUESTED, "j1.requested", &job("j1"))
        .await
        .unwrap();
    assert!(!ack.duplicate);
    let ack = again
        .publish(subjects::IMAGING_REQUESTED, "j1.requested", &job("j1"))
        .await
        .unwrap();
    assert!(
        ack.duplicate,
        "the same Nats-Msg-Id inside the window is a duplicate"
    );
    wait_for_depth(&first, 1).await;
}

/// A worker that dies mid-job (no ack, no more progress acks) leaves its job to be redelivered to the next
/// worker after the ack wait; once that one acks, the work queue is empty.
#[tokio::test]
async fn a_dead_workers_job_is_redelivered_to_another_worker() {
    let nats = NatsServer::start().unwrap();
    let pipeline = pipeline(&nats).await;
    let consumer = queue_one_job(&pipeline, "j2").await;

    let (seen, mut deliveries) = mpsc::unbounded_channel();
    let first_seen = seen.clone();
    let dying = tokio::spawn(consume(
        consumer.clone(),
        1,
        ACK_WAIT,
        CancellationToken::new(),
        move |d| {
            let seen = first_seen.clone();
            async move {
                let _ = seen.send(("first", d.attempt));
                std::future::pending::<Disposition>().await // stuck until the worker dies
            }
        },
    ));
    assert_eq!(deliveries.recv().await, Some(("first", 1)));
    dying.abort(); // the process dies: no ack, its progress acks stop

    let shutdown = CancellationToken::new();
    let next = tokio::spawn(consume(consumer, 1, ACK_WAIT, shutdown.clone(), move |d| {
        let seen = seen.clone();
        async move {
            let _ = seen.send(("second", d.attempt));
            Disposition::Ack
        }
    }));
    let redelivered = tokio::time::timeout(Duration::from_secs(10), deliveries.recv())
        .await
        .unwrap();
    assert_eq!(redelivered, Some(("second", 2)));
    wait_for_depth(&pipeline, 0).await;
    shutdown.cancel();
    next.await.unwrap();
}

/// While a handler runs longer than the ack wait, progress acks keep the job from being redelivered.
#[tokio::test]
async fn a_long_job_is_not_redelivered_while_its_worker_is_alive() {
    let nats = NatsServer::start().unwrap();
    let pipeline = pipeline(&nats).await;
    let consumer = queue_one_job(&pipeline, "j3").await;
    let (seen, mut deliveries) = mpsc::unbounded_channel();
    let shutdown = CancellationToken::new();
    let worker = tokio::spawn(consume(consumer, 2, ACK_WAIT, shutdown.clone(), move |d| {
        let seen = seen.clone();
        async move {
            let _ = seen.send(d.attempt);
            tokio::time::sleep(Duration::from_secs(3)).await; // three ack waits of work
            Disposition::Ack
        }
    }));
    assert_eq!(deliveries.recv().await, Some(1));
    wait_for_depth(&pipeline, 0).await;
    assert!(
        deliveries.try_recv().is_err(),
        "the job was delivered a second time while being worked on"
    );
    shutdown.cancel();
    worker.await.unwrap();
}
