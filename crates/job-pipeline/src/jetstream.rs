//! The NATS JetStream side of the job pipeline, defined in one place: subjects, streams, consumers, the
//! media object store and the job-status bucket, plus publishing with de-duplication and the consume loop
//! every worker and event consumer runs.
//!
//! | stream         | subjects                                   | retention                  | consumers (durable, pull, explicit ack) |
//! |----------------|--------------------------------------------|----------------------------|------------------------------------------|
//! | `JOBS_<SVC>`   | `jobs.<svc>.requested` (one per [`Service`]) | work queue, [`WORK_QUEUE_MAX_AGE`] | `<svc>-workers`                |
//! | `JOB_EVENTS`   | `jobs.progress`, `jobs.completed`, `jobs.failed`, `jobs.delivered`, `jobs.undelivered` | limits ([`EVENTS_TTL`]) | `billing-settlement`, `gateway-delivery` |
//!
//! The work queues come from the operation catalog ([`Service::ALL`]): `JOBS_IMAGING` on
//! `jobs.imaging.requested`, `JOBS_SPEECH` on `jobs.speech.requested`, and so on for each new worker service.
//!
//! Buckets: object store `media` (`in/<job_id>`, `out/<job_id>`; at most [`MEDIA_MAX_BYTES`], each object at
//! most [`MEDIA_TTL`]; deleted once the job is settled) and key-value `job-status` (one [`JobStatus`] per job
//! id; [`MEDIA_TTL`]).
//!
//! Everything is created idempotently at start-up by whichever service comes first, with configurations
//! that nats-server 2.9 (Debian's) accepts as well as 2.10+.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer, kv, object_store, stream};
use bytes::Bytes;
use futures::StreamExt;
use mediabot_proto::Service;
use mediabot_proto::jobs::v1::{JobState, JobStatus};
use prost::Message as _;
use service_runtime::telemetry;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// NATS subjects of job events. Work-queue subjects come from [`Service::requested_subject`].
pub mod subjects {
    /// [`JobProgress`](mediabot_proto::jobs::v1::JobProgress) events (worker → gateway).
    pub const PROGRESS: &str = "jobs.progress";
    /// [`JobCompleted`](mediabot_proto::jobs::v1::JobCompleted) events (worker → gateway).
    pub const COMPLETED: &str = "jobs.completed";
    /// [`JobFailed`](mediabot_proto::jobs::v1::JobFailed) events (worker → gateway, billing releases).
    pub const FAILED: &str = "jobs.failed";
    /// [`JobDelivered`](mediabot_proto::jobs::v1::JobDelivered) events (gateway → billing captures).
    pub const DELIVERED: &str = "jobs.delivered";
    /// [`JobUndelivered`](mediabot_proto::jobs::v1::JobUndelivered) events (gateway → billing releases).
    pub const UNDELIVERED: &str = "jobs.undelivered";
    /// Every subject of the events stream.
    pub const ALL_EVENTS: [&str; 5] = [PROGRESS, COMPLETED, FAILED, DELIVERED, UNDELIVERED];
}

/// The `Nats-Msg-Id` of a job's message: `<job_id>.<event>` (`requested`, `completed`, `failed`,
/// `delivered`, `undelivered`, `progress.<percent>`), so JetStream stores each once.
pub fn message_id(job_id: &str, event: &str) -> String {
    format!("{job_id}.{event}")
}

/// Stream of job events (progress, completed, failed, delivered, undelivered).
pub const EVENTS_STREAM: &str = "JOB_EVENTS";
/// Durable consumer of billing on [`EVENTS_STREAM`] (settles holds).
pub const BILLING_SETTLEMENT: &str = "billing-settlement";
/// Durable consumer of the gateway on [`EVENTS_STREAM`] (delivers results to chats).
pub const GATEWAY_DELIVERY: &str = "gateway-delivery";
/// Object-store bucket for job inputs and results.
pub const MEDIA_BUCKET: &str = "media";
/// Key-value bucket holding each job's [`JobStatus`].
pub const JOB_STATUS_BUCKET: &str = "job-status";
/// Key-value bucket of cancel requests (key: job id, value: when the user asked, milliseconds since the
/// epoch); a worker running or about to run the job watches it ([`crate::worker`]).
pub const JOB_CANCELS_BUCKET: &str = "job-cancels";

/// Longest an input or result stays in the media bucket (it is deleted as soon as its job is settled), and a
/// status in the job-status bucket.
pub const MEDIA_TTL: Duration = Duration::from_secs(24 * 3600);
/// Most bytes the media bucket holds (4 GiB); a put beyond it is refused, and the gateway tells the user to
/// try later (nothing charged).
pub const MEDIA_MAX_BYTES: i64 = 4 << 30;
/// Longest a job waits in a work queue: one no worker took within this is dropped; its hold lapses and is
/// released by billing's sweeper.
pub const WORK_QUEUE_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// How long job events are kept for consumers that were down.
pub const EVENTS_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// JetStream de-duplication window for `Nats-Msg-Id`.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);
/// At most this many jobs wait in each work queue; publishing more fails (RESOURCE_EXHAUSTED).
pub const MAX_QUEUED_JOBS: i64 = 10_000;

/// The object key of a job's input.
pub fn input_key(job_id: &str) -> String {
    format!("in/{job_id}")
}

/// The object key of a job's result.
pub fn output_key(job_id: &str) -> String {
    format!("out/{job_id}")
}

/// Errors talking to NATS.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Connecting to the server failed.
    #[error("connecting to NATS: {0}")]
    Connect(#[from] async_nats::ConnectError),
    /// Creating or updating a stream failed.
    #[error("setting up stream {stream}: {source}")]
    Stream {
        /// Stream name.
        stream: &'static str,
        /// Cause.
        source: async_nats::error::Error<jetstream::context::CreateStreamErrorKind>,
    },
    /// Creating or finding a consumer failed.
    #[error("setting up consumer {consumer}: {source}")]
    Consumer {
        /// Consumer name.
        consumer: &'static str,
        /// Cause.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Creating or opening a bucket failed.
    #[error("setting up bucket {bucket}: {source}")]
    Bucket {
        /// Bucket name.
        bucket: &'static str,
        /// Cause.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Publishing failed, or the server did not acknowledge.
    #[error("publishing to {subject}: {source}")]
    Publish {
        /// Subject.
        subject: String,
        /// Cause.
        source: async_nats::error::Error<jetstream::context::PublishErrorKind>,
    },
    /// Reading, writing or deleting an object in the media bucket failed.
    #[error("media bucket, {key}: {source}")]
    Media {
        /// Object key.
        key: String,
        /// Cause.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Reading from or writing to the job-status bucket failed.
    #[error("job-status bucket: {0}")]
    Status(Box<dyn std::error::Error + Send + Sync>),
}

/// How many times [`Pipeline::setup`] runs when JetStream requests time out.
pub const SETUP_ATTEMPTS: u32 = 5;

impl Error {
    /// True when a JetStream request got no answer in time (the server is slow, not refusing): the error
    /// itself or an error in its `source()` chain says "timed out" (async-nats's text for its `TimedOut`
    /// kinds, e.g. "jetstream request timed out").
    pub fn is_timeout(&self) -> bool {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(error) = next {
            if error.to_string().contains("timed out") {
                return true;
            }
            next = error.source();
        }
        false
    }

    /// True when a work queue refused a publish because it holds [`MAX_QUEUED_JOBS`] already.
    pub fn is_queue_full(&self) -> bool {
        match self {
            Error::Publish { source, .. } => {
                let text = source.to_string();
                text.contains("maximum messages exceeded") || text.contains("10077")
            }
            _ => false,
        }
    }
}

/// Connects to NATS as `client_name`, retrying in the background if the server is not up yet.
pub async fn connect(url: &str, client_name: &str) -> Result<async_nats::Client, Error> {
    let client = async_nats::ConnectOptions::new()
        .name(client_name)
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await?;
    Ok(client)
}

/// The JetStream resources of the pipeline, created (or updated) idempotently.
#[derive(Clone)]
pub struct Pipeline {
    /// JetStream context.
    pub jetstream: jetstream::Context,
    /// The `media` object store.
    pub media: object_store::ObjectStore,
    /// The `job-status` key-value bucket.
    pub job_status: kv::Store,
    /// The `job-cancels` key-value bucket.
    pub job_cancels: kv::Store,
}

impl Pipeline {
    /// Creates or updates every stream and bucket of the pipeline. Safe to call from every service at once.
    ///
    /// Every step is idempotent, so when the server does not answer a JetStream API request within the
    /// connection's request timeout (10 s by default; creating file-backed streams waits on disk syncs,
    /// which a busy disk can stretch past that), the whole setup runs again, up to
    /// [`SETUP_ATTEMPTS`] times; other errors are returned at once.
    pub async fn setup(client: async_nats::Client) -> Result<Self, Error> {
        let js = jetstream::new(client);
        let mut attempt = 1;
        loop {
            match Self::setup_once(js.clone()).await {
                Err(error) if attempt < SETUP_ATTEMPTS && error.is_timeout() => {
                    tracing::warn!(%error, attempt, "JetStream did not answer in time; setting up again");
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    async fn setup_once(js: jetstream::Context) -> Result<Self, Error> {
        for service in Service::ALL {
            create_or_update_stream(
                &js,
                service.stream(),
                stream::Config {
                    name: service.stream().to_string(),
                    subjects: vec![service.requested_subject().to_string()],
                    retention: stream::RetentionPolicy::WorkQueue,
                    max_messages: MAX_QUEUED_JOBS,
                    max_age: WORK_QUEUE_MAX_AGE,
                    discard: stream::DiscardPolicy::New,
                    duplicate_window: DUPLICATE_WINDOW,
                    storage: stream::StorageType::File,
                    ..Default::default()
                },
            )
            .await?;
        }
        create_or_update_stream(
            &js,
            EVENTS_STREAM,
            stream::Config {
                name: EVENTS_STREAM.to_string(),
                subjects: subjects::ALL_EVENTS.iter().map(|s| s.to_string()).collect(),
                retention: stream::RetentionPolicy::Limits,
                max_age: EVENTS_TTL,
                duplicate_window: DUPLICATE_WINDOW,
                storage: stream::StorageType::File,
                ..Default::default()
            },
        )
        .await?;
        let media = media_bucket(&js).await?;
        let job_status = key_value_bucket(
            &js,
            JOB_STATUS_BUCKET,
            "status of each job by job id",
            MEDIA_TTL,
        )
        .await?;
        let job_cancels = key_value_bucket(
            &js,
            JOB_CANCELS_BUCKET,
            "cancel requests of jobs by job id",
            MEDIA_TTL,
        )
        .await?;
        Ok(Self {
            jetstream: js,
            media,
            job_status,
            job_cancels,
        })
    }

    /// Creates a durable pull consumer with explicit acks on `stream_name`, or updates the existing one to
    /// this configuration (so a changed `ack_wait` or `max_deliver` takes effect on restart).
    ///
    /// `ack_wait` is how long a delivered message may go unacknowledged before it is redelivered; the
    /// [`consume`] loop extends it with progress acks while a handler runs. After `max_deliver` deliveries
    /// JetStream stops delivering a message; the job worker ([`crate::worker`]) therefore asks for more
    /// deliveries than it runs a job, and turns the extra ones into a `JobFailed` (`WORKER_LOST`).
    pub async fn durable_consumer(
        &self,
        stream_name: &str,
        durable: &'static str,
        filter_subject: Option<&str>,
        ack_wait: Duration,
        max_deliver: i64,
    ) -> Result<consumer::PullConsumer, Error> {
        let consumer_error = |e: Box<dyn std::error::Error + Send + Sync>| Error::Consumer {
            consumer: durable,
            source: e,
        };
        let stream = self
            .jetstream
            .get_stream(stream_name)
            .await
            .map_err(|e| consumer_error(Box::new(e)))?;
        let existing = stream.consumer_info(durable).await.ok().and_then(|info| {
            <consumer::pull::Config as consumer::FromConsumer>::try_from_consumer_config(
                info.config,
            )
            .ok()
        });
        let config = match existing {
            // An existing consumer keeps its filter (nats-server 2.9 cannot change it) and takes the new
            // ack wait and delivery limit.
            Some(existing) => consumer::pull::Config {
                ack_wait,
                max_deliver,
                ..existing
            },
            None => consumer::pull::Config {
                durable_name: Some(durable.to_string()),
                filter_subject: filter_subject.unwrap_or_default().to_string(),
                ack_policy: consumer::AckPolicy::Explicit,
                deliver_policy: consumer::DeliverPolicy::All,
                ack_wait,
                max_deliver,
                ..Default::default()
            },
        };
        // A create with the name of an existing durable updates it when only updatable fields differ.
        stream
            .create_consumer(config)
            .await
            .map_err(|e| consumer_error(Box::new(e)))
    }

    /// Publishes `message` (protobuf-encoded) with `Nats-Msg-Id: msg_id` and the current trace context,
    /// and waits for the stream's acknowledgement. A duplicate id within [`DUPLICATE_WINDOW`] is accepted
    /// and stored once.
    pub async fn publish<M: prost::Message>(
        &self,
        subject: &str,
        msg_id: &str,
        message: &M,
    ) -> Result<jetstream::publish::PublishAck, Error> {
        let mut headers = async_nats::HeaderMap::new();
        telemetry::inject_nats_headers(&mut headers);
        let publish = jetstream::message::PublishMessage::build()
            .payload(Bytes::from(message.encode_to_vec()))
            .headers(headers)
            .message_id(msg_id);
        let publish_error = |source| Error::Publish {
            subject: subject.to_string(),
            source,
        };
        let ack = self
            .jetstream
            .send_publish(subject.to_string(), publish)
            .await
            .map_err(publish_error)?
            .await
            .map_err(publish_error)?;
        Ok(ack)
    }

    /// Number of jobs waiting or running in a work-queue stream.
    pub async fn queue_depth(&self, stream_name: &str) -> Result<u64, Error> {
        let info = self
            .jetstream
            .get_stream(stream_name)
            .await
            .map_err(|e| Error::Status(Box::new(e)))?
            .get_info()
            .await
            .map_err(|e| Error::Status(Box::new(e)))?;
        Ok(info.state.messages)
    }

    /// Stores `status` under its job id only if the job has no status yet (a key-value `create`), so a
    /// resubmitted job is never moved back from RUNNING or a final state. Returns `false` when a status
    /// was there already (nothing written).
    pub async fn create_status(&self, status: &JobStatus) -> Result<bool, Error> {
        match self
            .job_status
            .create(
                status_key(&status.job_id),
                Bytes::from(status.encode_to_vec()),
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(Error::Status(Box::new(e))),
        }
    }

    /// Asks for `job_id` to be cancelled: the worker running it stops it (a handler that watches its stop
    /// token returns early; one that does not finishes first), and a worker about to run it fails it
    /// without running it; either way as `CANCELLED`. Idempotent. Errors: [`Error::Status`] when NATS
    /// fails.
    pub async fn request_cancel(&self, job_id: &str) -> Result<(), Error> {
        let now = Bytes::from(crate::now_unix_ms().to_string());
        self.job_cancels
            .put(status_key(job_id), now)
            .await
            .map_err(|e| Error::Status(Box::new(e)))?;
        Ok(())
    }

    /// Whether a cancel of `job_id` was asked for. Errors: [`Error::Status`] when NATS fails.
    pub async fn cancel_requested(&self, job_id: &str) -> Result<bool, Error> {
        let entry = self
            .job_cancels
            .get(status_key(job_id))
            .await
            .map_err(|e| Error::Status(Box::new(e)))?;
        Ok(entry.is_some())
    }

    /// Removes a job's status (used when a submit that created it could not queue the job).
    pub async fn delete_status(&self, job_id: &str) -> Result<(), Error> {
        self.job_status
            .delete(status_key(job_id))
            .await
            .map_err(|e| Error::Status(Box::new(e)))
    }

    /// Retention: deletes a settled job's input (`in/<job_id>`) and result (`out/<job_id>`) from the media
    /// bucket. Call it once the job is settled — its result delivered, found undeliverable, or its
    /// failure told to the user. Objects that are already gone (never stored, expired, deleted by an
    /// earlier call) are fine, so it is idempotent. Errors: [`Error::Media`] when NATS fails.
    pub async fn discard_media(&self, job_id: &str) -> Result<(), Error> {
        for key in [input_key(job_id), output_key(job_id)] {
            match self.media.delete(&key).await {
                Ok(()) => {}
                Err(e) if e.kind() == object_store::DeleteErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Error::Media {
                        key,
                        source: Box::new(e),
                    });
                }
            }
        }
        Ok(())
    }

    /// Stores a job's status under its job id.
    pub async fn put_status(&self, status: &JobStatus) -> Result<(), Error> {
        self.job_status
            .put(
                status_key(&status.job_id),
                Bytes::from(status.encode_to_vec()),
            )
            .await
            .map_err(|e| Error::Status(Box::new(e)))?;
        Ok(())
    }

    /// For a redelivered job request: if the job already has a final status (COMPLETED or FAILED), publishes
    /// its recorded outcome event again — de-duplicated by message id, so consumers see it at most once —
    /// and returns `true`; the worker must then not run the job again. `false` means the job has to run.
    ///
    /// This covers a worker that died after recording the outcome but before publishing it or acking.
    pub async fn republish_recorded_outcome(&self, job_id: &str) -> Result<bool, Error> {
        let Some(status) = self.get_status(job_id).await? else {
            return Ok(false);
        };
        if status.state == JobState::Completed as i32
            && let Some(completed) = &status.completed
        {
            self.publish(
                subjects::COMPLETED,
                &message_id(job_id, "completed"),
                completed,
            )
            .await?;
            return Ok(true);
        }
        if status.state == JobState::Failed as i32
            && let Some(failed) = &status.failed
        {
            self.publish(subjects::FAILED, &message_id(job_id, "failed"), failed)
                .await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Changes the stored status of `job_id` with `change` only while it is in `state`, by a compare-and-set
    /// on the entry's revision: a status that moved on meanwhile (a worker's RUNNING over QUEUED, an outcome
    /// over RUNNING) is never overwritten by an older view. Returns whether the change was written
    /// (`false`: no status, another state, `change` declined, or the entry changed under it).
    /// Errors: [`Error::Status`] when NATS fails.
    pub async fn amend_status(
        &self,
        job_id: &str,
        state: JobState,
        change: impl FnOnce(&mut JobStatus) -> bool,
    ) -> Result<bool, Error> {
        let key = status_key(job_id);
        let entry = self
            .job_status
            .entry(key.as_str())
            .await
            .map_err(|e| Error::Status(Box::new(e)))?;
        let Some(entry) = entry.filter(|e| e.operation == kv::Operation::Put) else {
            return Ok(false);
        };
        let mut status = JobStatus::decode(entry.value).map_err(|e| Error::Status(Box::new(e)))?;
        if status.state != state as i32 || !change(&mut status) {
            return Ok(false);
        }
        match self
            .job_status
            .update(key, Bytes::from(status.encode_to_vec()), entry.revision)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Ok(false),
            Err(e) => Err(Error::Status(Box::new(e))),
        }
    }

    /// Jobs ahead of the job request stored at `sequence` in the work-queue stream `stream_name` (its
    /// [`JobStatus::queue_sequence`]): the stream's messages below that sequence, waiting or running (a
    /// work queue deletes a message once its job is acked). 0 when it is next, or already taken.
    /// Errors: [`Error::Status`] when NATS fails.
    pub async fn queue_position(&self, stream_name: &str, sequence: u64) -> Result<u64, Error> {
        let status_error = |e: Box<dyn std::error::Error + Send + Sync>| Error::Status(e);
        let stream = self
            .jetstream
            .get_stream_no_info(stream_name)
            .await
            .map_err(|e| status_error(Box::new(e)))?;
        let info = stream
            .info_builder()
            .with_deleted(true)
            .fetch()
            .await
            .map_err(|e| status_error(Box::new(e)))?
            .info;
        let first = info.state.first_sequence;
        if sequence <= first {
            return Ok(0);
        }
        // Messages acked out of order leave gaps below `sequence`; those are not ahead any more.
        let gaps = info
            .state
            .deleted
            .unwrap_or_default()
            .iter()
            .filter(|&&d| d >= first && d < sequence)
            .count() as u64;
        Ok((sequence - first).saturating_sub(gaps))
    }

    /// Reads a job's status; `None` if the id is unknown or expired.
    pub async fn get_status(&self, job_id: &str) -> Result<Option<JobStatus>, Error> {
        let bytes = self
            .job_status
            .get(status_key(job_id))
            .await
            .map_err(|e| Error::Status(Box::new(e)))?;
        bytes
            .map(|b| JobStatus::decode(b).map_err(|e| Error::Status(Box::new(e))))
            .transpose()
    }
}

fn status_key(job_id: &str) -> String {
    // Key-value keys allow [-/_=.a-zA-Z0-9]; job ids are UUIDs, so they fit as they are.
    job_id.to_string()
}

/// Opens the `media` object store, creating it with [`MEDIA_MAX_BYTES`] and [`MEDIA_TTL`] when it does not
/// exist; a bucket created before the byte limit existed gets it added to its stream (`OBJ_media`), so the
/// store cannot fill the server's disk.
async fn media_bucket(js: &jetstream::Context) -> Result<object_store::ObjectStore, Error> {
    let bucket_error = |e: Box<dyn std::error::Error + Send + Sync>| Error::Bucket {
        bucket: MEDIA_BUCKET,
        source: e,
    };
    let store = match js.get_object_store(MEDIA_BUCKET).await {
        Ok(store) => store,
        Err(_) => js
            .create_object_store(object_store::Config {
                bucket: MEDIA_BUCKET.to_string(),
                description: Some("job inputs (in/<job_id>) and results (out/<job_id>)".into()),
                max_age: MEDIA_TTL,
                max_bytes: MEDIA_MAX_BYTES,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| bucket_error(Box::new(e)))?,
    };
    let stream_name = format!("OBJ_{MEDIA_BUCKET}");
    let mut config = js
        .get_stream(&stream_name)
        .await
        .map_err(|e| bucket_error(Box::new(e)))?
        .get_info()
        .await
        .map_err(|e| bucket_error(Box::new(e)))?
        .config;
    if config.max_bytes <= 0 {
        config.max_bytes = MEDIA_MAX_BYTES;
        js.update_stream(config)
            .await
            .map_err(|e| bucket_error(Box::new(e)))?;
        tracing::info!(
            max_bytes = MEDIA_MAX_BYTES,
            "media bucket given its byte limit"
        );
    }
    Ok(store)
}

/// Creates (or updates) a key-value bucket keeping one value per key for `max_age`, and opens it.
///
/// The bucket's stream is created directly rather than with `Context::create_key_value`, which in
/// async-nats 0.51 first reads the account info (`$JS.API.INFO`) and cannot parse nats-server 2.9's
/// answer. The stream settings are those `create_key_value` would send.
pub async fn key_value_bucket(
    js: &jetstream::Context,
    bucket: &'static str,
    description: &str,
    max_age: Duration,
) -> Result<kv::Store, Error> {
    let bucket_error =
        |e: Box<dyn std::error::Error + Send + Sync>| Error::Bucket { bucket, source: e };
    js.create_or_update_stream(stream::Config {
        name: format!("KV_{bucket}"),
        description: Some(description.to_string()),
        subjects: vec![format!("$KV.{bucket}.>")],
        max_messages_per_subject: 1,
        max_age,
        storage: stream::StorageType::File,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: stream::DiscardPolicy::New,
        num_replicas: 1,
        ..Default::default()
    })
    .await
    .map_err(|e| bucket_error(Box::new(e)))?;
    js.get_key_value(bucket)
        .await
        .map_err(|e| bucket_error(Box::new(e)))
}

async fn create_or_update_stream(
    js: &jetstream::Context,
    name: &'static str,
    config: stream::Config,
) -> Result<(), Error> {
    js.create_or_update_stream(config)
        .await
        .map(|_| ())
        .map_err(|source| Error::Stream {
            stream: name,
            source,
        })
}

/// What to do with a message once its handler has finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Done (including "done with a failure that was reported"): acknowledge.
    Ack,
    /// A passing problem (a dependency down): redeliver after the delay.
    Retry(Duration),
    /// Never deliverable (undecodable): terminate without redelivery.
    Term,
}

/// A delivered message and how many times it has been delivered (1 on the first delivery).
pub struct Delivery {
    /// The message; its payload is a protobuf-encoded job or event.
    pub message: jetstream::Message,
    /// Delivery count, from the message metadata.
    pub attempt: i64,
}

/// Runs `handler` on messages from `consumer`, at most `concurrency` at a time, until `shutdown` fires;
/// then waits for running handlers to finish. While a handler runs, the message's ack deadline is pushed
/// back every `ack_wait / 3` (a progress ack), so long jobs are not redelivered while alive; a process that
/// dies leaves its messages unacknowledged and JetStream redelivers them after `ack_wait`.
///
/// Each handler runs in a span that continues the trace carried in the message headers. The consumer's
/// pending and unacknowledged messages are sampled into gauges meanwhile ([`crate::metrics`]).
pub async fn consume<H, Fut>(
    consumer: consumer::PullConsumer,
    concurrency: usize,
    ack_wait: Duration,
    shutdown: CancellationToken,
    handler: H,
) where
    H: Fn(Delivery) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Disposition> + Send + 'static,
{
    let handler = Arc::new(handler);
    let sampling = tokio::spawn(crate::metrics::sample_consumer(
        consumer.clone(),
        shutdown.clone(),
    ));
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut running = JoinSet::new();
    let heartbeat = (ack_wait / 3).max(Duration::from_millis(200));
    'pull: loop {
        while running.try_join_next().is_some() {}
        let first = tokio::select! {
            _ = shutdown.cancelled() => break 'pull,
            permit = permits.clone().acquire_owned() => match permit { Ok(p) => p, Err(_) => break 'pull },
        };
        let mut held = vec![first];
        while let Ok(permit) = permits.clone().try_acquire_owned() {
            held.push(permit);
        }
        let batch = consumer
            .batch()
            .max_messages(held.len())
            .expires(Duration::from_secs(5))
            .messages()
            .await;
        let mut batch = match batch {
            Ok(batch) => batch,
            Err(error) => {
                tracing::warn!(%error, "pulling messages failed; retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => break 'pull,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue 'pull,
                }
            }
        };
        loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => break 'pull,
                next = batch.next() => next,
            };
            let message = match next {
                None => break,
                Some(Ok(message)) => message,
                Some(Err(error)) => {
                    tracing::debug!(%error, "pull batch ended with an error");
                    break;
                }
            };
            let Some(permit) = held.pop() else { break };
            let handler = handler.clone();
            running.spawn(async move {
                let _permit = permit;
                let attempt = message.info().map(|i| i.delivered).unwrap_or(1);
                let span = tracing::info_span!("job_message", subject = %message.subject, attempt);
                telemetry::set_parent_from_nats_headers(&span, message.headers.as_ref());
                let acker = message.clone();
                let work =
                    tracing::Instrument::instrument(handler(Delivery { message, attempt }), span);
                tokio::pin!(work);
                let mut ticker = tokio::time::interval(heartbeat);
                ticker.tick().await;
                let disposition = loop {
                    tokio::select! {
                        d = &mut work => break d,
                        _ = ticker.tick() => {
                            if let Err(error) = acker.ack_with(AckKind::Progress).await {
                                tracing::debug!(%error, "progress ack failed");
                            }
                        }
                    }
                };
                let ack = match disposition {
                    Disposition::Ack => acker.double_ack().await,
                    Disposition::Retry(delay) => acker.ack_with(AckKind::Nak(Some(delay))).await,
                    Disposition::Term => acker.ack_with(AckKind::Term).await,
                };
                if let Err(error) = ack {
                    // Not fatal: the message is redelivered and handlers are idempotent.
                    tracing::warn!(%error, ?disposition, "acknowledging a message failed");
                }
            });
        }
    }
    sampling.abort();
    while running.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_nats::jetstream::context::CreateStreamErrorKind;

    #[test]
    fn only_requests_without_an_answer_count_as_timeouts() {
        let stream_error = |kind| Error::Stream {
            stream: "JOBS_SPEECH",
            source: async_nats::error::Error::new(kind),
        };
        assert!(stream_error(CreateStreamErrorKind::TimedOut).is_timeout());
        assert!(!stream_error(CreateStreamErrorKind::JetStreamUnavailable).is_timeout());
        assert!(!stream_error(CreateStreamErrorKind::InvalidStreamName).is_timeout());
        let bucket_error = Error::Bucket {
            bucket: MEDIA_BUCKET,
            source: Box::new(async_nats::error::Error::new(
                CreateStreamErrorKind::TimedOut,
            )),
        };
        assert!(bucket_error.is_timeout());
    }
}
