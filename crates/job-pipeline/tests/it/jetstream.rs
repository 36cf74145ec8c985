//! The JetStream guarantees the pipeline relies on, and its stream and bucket settings.

use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::{object_store, stream};
use job_pipeline::jetstream::{
    self, Disposition, MEDIA_BUCKET, MEDIA_MAX_BYTES, Pipeline, WORK_QUEUE_MAX_AGE, consume,
    input_key, message_id, output_key,
};
use mediabot_proto::Service;
use nats_test_server::NatsServer;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::helpers::{pipeline, request, wait_for_depth};

const IMAGING: Service = Service::Imaging;

/// How long the workers' consumer waits for an ack before redelivering, in these tests.
const ACK_WAIT: Duration = Duration::from_secs(1);

/// Creates the imaging workers' consumer (ack wait [`ACK_WAIT`]) and queues one job on it.
async fn queue_one_job(pipeline: &Pipeline, job_id: &str) -> PullConsumer {
    let consumer = pipeline
        .durable_consumer(IMAGING.stream(), IMAGING.consumer(), None, ACK_WAIT, 5)
        .await
        .unwrap();
    pipeline
        .publish(
            IMAGING.requested_subject(),
            &message_id(job_id, "requested"),
            &request(job_id),
        )
        .await
        .unwrap();
    consumer
}

#[tokio::test]
async fn setup_is_idempotent_and_a_repeated_message_id_is_stored_once() {
    let nats = NatsServer::start().unwrap();
    let first = pipeline(&nats).await;
    let again = pipeline(&nats).await; // a second service starting against the same server
    let ack = first
        .publish(IMAGING.requested_subject(), "j1.requested", &request("j1"))
        .await
        .unwrap();
    assert!(!ack.duplicate);
    let ack = again
        .publish(IMAGING.requested_subject(), "j1.requested", &request("j1"))
        .await
        .unwrap();
    assert!(
        ack.duplicate,
        "the same Nats-Msg-Id inside the window is a duplicate"
    );
    wait_for_depth(&first, IMAGING, 1).await;
}

/// Every work queue drops jobs no worker took within `WORK_QUEUE_MAX_AGE`; the media bucket has a byte
/// limit even when it was created before the limit existed.
#[tokio::test]
async fn work_queues_have_a_max_age_and_an_old_media_bucket_gets_its_byte_limit() {
    let nats = NatsServer::start().unwrap();
    let client = jetstream::connect(&nats.url(), "old-release")
        .await
        .unwrap();
    let js = async_nats::jetstream::new(client);
    // The bucket as an earlier release created it: no byte limit.
    js.create_object_store(object_store::Config {
        bucket: MEDIA_BUCKET.into(),
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await
    .unwrap();
    let media_limit = |js: async_nats::jetstream::Context| async move {
        js.get_stream("OBJ_media")
            .await
            .unwrap()
            .get_info()
            .await
            .unwrap()
            .config
            .max_bytes
    };
    assert!(media_limit(js.clone()).await <= 0);

    let pipeline = pipeline(&nats).await;
    assert_eq!(media_limit(js.clone()).await, MEDIA_MAX_BYTES);
    for service in Service::ALL {
        let config = pipeline
            .jetstream
            .get_stream(service.stream())
            .await
            .unwrap()
            .get_info()
            .await
            .unwrap()
            .config;
        assert_eq!(config.max_age, WORK_QUEUE_MAX_AGE, "{service}");
        assert_eq!(config.subjects, [service.requested_subject()]);
        assert_eq!(config.retention, stream::RetentionPolicy::WorkQueue);
    }
}

/// Once a job is settled its input and result are deleted; deleting again (or what was never stored) is fine.
#[tokio::test]
async fn discarding_a_settled_jobs_media_deletes_input_and_result() {
    let nats = NatsServer::start().unwrap();
    let pipeline = pipeline(&nats).await;
    let job_id = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
    for key in [input_key(job_id), output_key(job_id)] {
        pipeline
            .media
            .put(key.as_str(), &mut &b"bytes"[..])
            .await
            .unwrap();
    }
    let exists = |key: String| {
        let media = pipeline.media.clone();
        async move { media.get(key).await.is_ok() }
    };
    assert!(exists(input_key(job_id)).await && exists(output_key(job_id)).await);
    pipeline.discard_media(job_id).await.unwrap();
    assert!(!exists(input_key(job_id)).await, "input deleted");
    assert!(!exists(output_key(job_id)).await, "result deleted");
    pipeline.discard_media(job_id).await.expect("idempotent");
    pipeline
        .discard_media("0b9d6a4e-7f5c-4a4e-9a43-3c1f0e2b7d10")
        .await
        .expect("never stored is fine");
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
    wait_for_depth(&pipeline, IMAGING, 0).await;
    shutdown.cancel();
    next.await.unwrap();
}

/// While a handler runs longer than the ack wait, progress acks keep the job from being redelivered.
///
/// The job takes three ack waits. Without the consume loop's progress acks (the mutation this test is
/// for: delete the `AckKind::Progress` tick) JetStream would redeliver it after one ack wait, the second
/// permit would take it, and the "delivered a second time" assertion fails.
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
    wait_for_depth(&pipeline, IMAGING, 0).await;
    assert!(
        deliveries.try_recv().is_err(),
        "the job was delivered a second time while being worked on"
    );
    shutdown.cancel();
    worker.await.unwrap();
}

/// A consumer left by an earlier release (imaging's had a filter subject, speech's none; both had
/// JetStream's max_deliver 5) takes the new ack wait and delivery limit, keeping its filter.
#[tokio::test]
async fn an_existing_workers_consumer_is_updated_to_the_new_limits() {
    let nats = NatsServer::start().unwrap();
    let pipeline = pipeline(&nats).await;
    for (service, filter) in [
        (Service::Imaging, Some(Service::Imaging.requested_subject())),
        (Service::Speech, None),
    ] {
        pipeline
            .durable_consumer(
                service.stream(),
                service.consumer(),
                filter,
                Duration::from_secs(30),
                5,
            )
            .await
            .unwrap();
        let mut updated = pipeline
            .durable_consumer(
                service.stream(),
                service.consumer(),
                Some(service.requested_subject()),
                Duration::from_secs(7),
                8,
            )
            .await
            .unwrap();
        let config = &updated.info().await.unwrap().config;
        assert_eq!(
            (config.ack_wait, config.max_deliver),
            (Duration::from_secs(7), 8),
            "{service}"
        );
        assert_eq!(
            config.filter_subject,
            filter.unwrap_or_default(),
            "{service}"
        );
    }
}
