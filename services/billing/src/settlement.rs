//! Settles holds from job outcomes — money follows delivery. A durable JetStream consumer
//! ([`BILLING_SETTLEMENT`] on [`EVENTS_STREAM`], all subjects) captures the hold on `jobs.delivered` (the
//! gateway got the result into the chat) — the whole hold, or, when the event carries the length of audio
//! actually transcribed, the price of that length and never more than the hold (the rest is released;
//! the hold was placed for the length the message claimed, or the longest accepted) — and releases it on `jobs.failed` and
//! `jobs.undelivered`; `jobs.completed` (the worker finished, nothing delivered yet) and `jobs.progress`
//! are acknowledged and ignored.
//!
//! Events may arrive twice and out of order, so every outcome is idempotent: a second `delivered` finds
//! the hold captured and acks; a `failed`/`undelivered` after a `delivered` finds it captured and only
//! logs (the result reached the chat, the charge stands); a `delivered` after a release or expiry only
//! logs (not charged); an unknown job id is logged and acked. Database trouble is retried with a growing
//! delay; the ledger's own exactly-once rules make a redelivery harmless.
//!
//! NATS need not be up when billing starts: money calls work without it, and this task keeps trying to
//! set up the stream and consumer until NATS answers, then marks the gRPC service SERVING and publishes
//! the consumer to the [`Backlog`], which the sweeper asks before it expires anything.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::PullConsumer};
use job_pipeline::jetstream::{
    BILLING_SETTLEMENT, Delivery, Disposition, EVENTS_STREAM, Pipeline, consume, subjects,
};
use mediabot_proto::jobs::v1::{JobDelivered, JobFailed, JobUndelivered, Operation};
use prost::Message as _;
use service_runtime::grpc::HealthReporter;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::domain::{HoldOutcome, HoldState, JobId};
use crate::ledger::{self, Ledger};

/// How long a delivered event may stay unacknowledged before JetStream redelivers it.
const ACK_WAIT: Duration = Duration::from_secs(30);
/// Events settled at once.
const CONCURRENCY: usize = 8;
/// Redeliver without limit: dropping an outcome would leave a hold to the sweeper (a free job, or a
/// charge for a failed one never released early). Database outages are bounded by operators.
const MAX_DELIVER: i64 = -1;
/// Longest wait for NATS to describe the consumer.
const INFO_TIMEOUT: Duration = Duration::from_secs(5);

/// Outcome events not yet settled, as NATS counts them for the settlement consumer: what the sweeper
/// asks before it expires holds (a hold whose outcome is still waiting in the stream must be settled by
/// that outcome, not expired). Cheap to clone; the settlement task fills it in once its consumer exists.
#[derive(Debug, Clone)]
pub struct Backlog {
    consumer: Arc<watch::Sender<Option<PullConsumer>>>,
}

/// The settlement consumer's place in the events stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Stream sequence of the last event published so far (delivered or waiting to be).
    pub published: u64,
    /// Stream sequence up to which every event is settled and acknowledged (the ack floor).
    pub settled: u64,
}

/// Why the [`Backlog`] cannot be known.
#[derive(Debug, thiserror::Error)]
pub enum BacklogError {
    /// The settlement consumer is not set up yet (NATS not reached since start).
    #[error("the settlement consumer is not set up yet (NATS not reached)")]
    NotReady,
    /// NATS did not describe the consumer.
    #[error("asking NATS about consumer {BILLING_SETTLEMENT}: {0}")]
    Info(#[source] jetstream::context::ConsumerInfoError),
    /// NATS did not answer in time.
    #[error("NATS did not describe consumer {BILLING_SETTLEMENT} within {INFO_TIMEOUT:?}")]
    Timeout,
}

impl Backlog {
    /// A backlog with no consumer yet ([`position`](Self::position) fails until
    /// [`run`] has set the consumer up).
    pub fn new() -> Self {
        let (consumer, _) = watch::channel(None);
        Self {
            consumer: Arc::new(consumer),
        }
    }

    /// Where the settlement consumer stands, asked of NATS now. Errors: [`BacklogError`] when that cannot
    /// be known.
    pub async fn position(&self) -> Result<Position, BacklogError> {
        let consumer = self
            .consumer
            .borrow()
            .clone()
            .ok_or(BacklogError::NotReady)?;
        let info = tokio::time::timeout(INFO_TIMEOUT, consumer.get_info())
            .await
            .map_err(|_| BacklogError::Timeout)?
            .map_err(BacklogError::Info)?;
        Ok(Position {
            published: info.delivered.stream_sequence + info.num_pending,
            settled: info.ack_floor.stream_sequence,
        })
    }

    fn set(&self, consumer: PullConsumer) {
        self.consumer.send_replace(Some(consumer));
    }
}

impl Default for Backlog {
    fn default() -> Self {
        Self::new()
    }
}

/// Connects to NATS (waiting for it if needed), creates the consumer, reports the gRPC service SERVING,
/// hands the consumer to `backlog`, and settles events until `shutdown`.
pub async fn run(
    nats_url: String,
    ledger: Ledger,
    health: HealthReporter,
    backlog: Backlog,
    shutdown: CancellationToken,
) {
    let client = match job_pipeline::jetstream::connect(&nats_url, "billing").await {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "cannot connect to NATS; holds are settled only by gRPC (and never expired)");
            return;
        }
    };
    let mut delay = Duration::from_millis(500);
    let consumer = loop {
        let setup = async {
            let pipeline = Pipeline::setup(client.clone()).await?;
            pipeline
                .durable_consumer(
                    EVENTS_STREAM,
                    BILLING_SETTLEMENT,
                    None,
                    ACK_WAIT,
                    MAX_DELIVER,
                )
                .await
        };
        let result = tokio::select! {
            _ = shutdown.cancelled() => return,
            result = setup => result,
        };
        match result {
            Ok(consumer) => break consumer,
            Err(error) => {
                tracing::warn!(
                    %error,
                    retry_in_ms = delay.as_millis() as u64,
                    "NATS not ready: settlement waits (gRPC keeps serving; health stays NOT_SERVING)"
                );
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    };
    backlog.set(consumer.clone());
    health.set_serving::<crate::grpc::Server>().await;
    tracing::info!(
        consumer = BILLING_SETTLEMENT,
        stream = EVENTS_STREAM,
        "settlement consumer ready; SERVING"
    );
    consume(
        consumer,
        CONCURRENCY,
        ACK_WAIT,
        shutdown,
        move |delivery: Delivery| {
            let ledger = ledger.clone();
            async move { settle(&ledger, &delivery.message, delivery.attempt).await }
        },
    )
    .await;
    tracing::info!("settlement consumer stopped");
}

/// Which way an event settles a hold.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// The result reached the chat: capture (the price of `audio_duration_ms` of `operation` when that is
    /// known, else the whole hold).
    Delivered {
        operation: Option<Operation>,
        audio_duration_ms: u64,
    },
    /// The job failed: release.
    Failed,
    /// The result could not be delivered: release.
    Undelivered,
}

/// Settles the hold of one event and says what to do with the message.
async fn settle(ledger: &Ledger, message: &jetstream::Message, attempt: i64) -> Disposition {
    let decoded = match message.subject.as_str() {
        subjects::DELIVERED => JobDelivered::decode(message.payload.clone()).map(|e| {
            let outcome = Outcome::Delivered {
                operation: e.operation,
                audio_duration_ms: e.audio_duration_ms,
            };
            (outcome, e.job_id)
        }),
        subjects::FAILED => {
            JobFailed::decode(message.payload.clone()).map(|e| (Outcome::Failed, e.job_id))
        }
        subjects::UNDELIVERED => JobUndelivered::decode(message.payload.clone())
            .map(|e| (Outcome::Undelivered, e.job_id)),
        // Completion alone charges nothing (the gateway reports delivery); progress and anything else
        // on the stream is not billing's business.
        _ => return Disposition::Ack,
    };
    let (outcome, job_id) = match decoded {
        Ok(decoded) => decoded,
        Err(error) => {
            tracing::error!(subject = %message.subject, %error, "undecodable job event; dropped");
            return Disposition::Term;
        }
    };
    let span = tracing::info_span!("settle", job_id = %job_id, ?outcome, attempt);
    settle_job(ledger, outcome, &job_id, attempt)
        .instrument(span)
        .await
}

/// Captures a delivered job: the price of the transcribed length when the event says it
/// (`audio_duration_ms` > 0) and the price list prices the operation, but never more than the hold (a
/// recording longer than its message claimed costs what was held); the whole hold otherwise.
async fn capture_delivered(
    ledger: &Ledger,
    job: &JobId,
    operation: Option<&Operation>,
    audio_duration_ms: u64,
) -> ledger::Result<HoldOutcome> {
    let actual = operation
        .filter(|_| audio_duration_ms > 0)
        .and_then(|operation| ledger.prices().price_of(operation, audio_duration_ms))
        .map(|(amount, _)| amount);
    match ledger.capture(job, actual).await {
        Err(ledger::Error::CaptureExceedsHold {
            requested_minor,
            held_minor,
            ..
        }) => {
            tracing::info!(
                requested_minor,
                held_minor,
                "the transcribed audio costs more than was held; capturing the hold"
            );
            ledger.capture(job, None).await
        }
        other => other,
    }
}

async fn settle_job(ledger: &Ledger, outcome: Outcome, job_id: &str, attempt: i64) -> Disposition {
    let Ok(job) = JobId::parse(job_id) else {
        tracing::warn!("event with an invalid job id; dropped");
        return Disposition::Term;
    };
    let result = match &outcome {
        Outcome::Delivered {
            operation,
            audio_duration_ms,
        } => capture_delivered(ledger, &job, operation.as_ref(), *audio_duration_ms).await,
        Outcome::Failed | Outcome::Undelivered => ledger.release(&job).await,
    };
    match result {
        Ok(settled) => {
            tracing::debug!(state = %settled.hold.state, "hold settled from event");
            Disposition::Ack
        }
        Err(ledger::Error::HoldNotFound { .. }) => {
            tracing::warn!("event for a job without a hold; nothing to settle");
            Disposition::Ack
        }
        Err(ledger::Error::HoldSettled { state, .. }) => {
            match (outcome, state) {
                (Outcome::Failed | Outcome::Undelivered, HoldState::Captured) => {
                    tracing::warn!(
                        "job reported failed or undelivered after its delivery was captured (out-of-order events); the capture stands"
                    )
                }
                _ => {
                    tracing::warn!(%state, "job delivered but its hold was already returned; not charged")
                }
            }
            Disposition::Ack
        }
        Err(ledger::Error::Database(error)) => {
            let delay = Duration::from_secs(u64::try_from(attempt.clamp(1, 30)).unwrap_or(30));
            tracing::warn!(%error, retry_in_s = delay.as_secs(), "database error while settling; will retry");
            Disposition::Retry(delay)
        }
        Err(error) => {
            tracing::error!(%error, "cannot settle hold; event dropped");
            Disposition::Term
        }
    }
}
