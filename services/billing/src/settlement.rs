//! Settles holds from job outcomes: a durable JetStream consumer ([`BILLING_SETTLEMENT`] on
//! [`EVENTS_STREAM`], all subjects) captures the whole hold on `jobs.completed` and releases it on
//! `jobs.failed`; `jobs.progress` messages are acknowledged and ignored.
//!
//! Events may arrive twice and out of order, so every outcome is idempotent: a second `completed` finds
//! the hold captured and acks; a `failed` after a `completed` finds it captured and only logs (the work
//! was delivered, the charge stands); an unknown job id is logged and acked. Database trouble is retried
//! with a growing delay; the ledger's own exactly-once rules make a redelivery harmless.
//!
//! NATS need not be up when billing starts: money calls work without it, and this task keeps trying to
//! set up the stream and consumer until NATS answers, then marks the gRPC service SERVING.

use std::time::Duration;

use async_nats::jetstream;
use mediabot_proto::jobs::v1::{JobCompleted, JobFailed};
use prost::Message as _;
use service_runtime::grpc::HealthReporter;
use service_runtime::jetstream::{
    BILLING_SETTLEMENT, Delivery, Disposition, EVENTS_STREAM, Pipeline, consume, subjects,
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::domain::{HoldState, JobId};
use crate::ledger::{self, Ledger};

/// How long a delivered event may stay unacknowledged before JetStream redelivers it.
const ACK_WAIT: Duration = Duration::from_secs(30);
/// Events settled at once.
const CONCURRENCY: usize = 8;
/// Redeliver without limit: dropping an outcome would leave a hold to the sweeper (a free job, or a
/// charge for a failed one never released early). Database outages are bounded by operators.
const MAX_DELIVER: i64 = -1;

/// Connects to NATS (waiting for it if needed), creates the consumer, reports the gRPC service SERVING,
/// and settles events until `shutdown`.
pub async fn run(
    nats_url: String,
    ledger: Ledger,
    health: HealthReporter,
    shutdown: CancellationToken,
) {
    let client = match service_runtime::jetstream::connect(&nats_url, "billing").await {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "cannot connect to NATS; holds are settled only by gRPC and the sweeper");
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Completed,
    Failed,
}

/// Settles the hold of one event and says what to do with the message.
async fn settle(ledger: &Ledger, message: &jetstream::Message, attempt: i64) -> Disposition {
    let (outcome, job_id) = match message.subject.as_str() {
        subjects::COMPLETED => match JobCompleted::decode(message.payload.clone()) {
            Ok(event) => (Outcome::Completed, event.job_id),
            Err(error) => return undecodable(message, error),
        },
        subjects::FAILED => match JobFailed::decode(message.payload.clone()) {
            Ok(event) => (Outcome::Failed, event.job_id),
            Err(error) => return undecodable(message, error),
        },
        // Progress and anything else on the stream is not billing's business.
        _ => return Disposition::Ack,
    };
    let span = tracing::info_span!("settle", job_id = %job_id, ?outcome, attempt);
    settle_job(ledger, outcome, &job_id, attempt)
        .instrument(span)
        .await
}

async fn settle_job(ledger: &Ledger, outcome: Outcome, job_id: &str, attempt: i64) -> Disposition {
    let Ok(job) = JobId::parse(job_id) else {
        tracing::warn!("event with an invalid job id; dropped");
        return Disposition::Term;
    };
    let result = match outcome {
        Outcome::Completed => ledger.capture(&job, None).await,
        Outcome::Failed => ledger.release(&job).await,
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
                (Outcome::Failed, HoldState::Captured) => {
                    tracing::warn!(
                        "job failed after it was captured (out-of-order events); the capture stands"
                    )
                }
                _ => {
                    tracing::warn!(%state, "job completed but its hold was already returned; not charged")
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

fn undecodable(message: &jetstream::Message, error: prost::DecodeError) -> Disposition {
    tracing::error!(subject = %message.subject, %error, "undecodable job event; dropped");
    Disposition::Term
}
