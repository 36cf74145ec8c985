//! The job pipeline's Prometheus metrics, recorded once here for every worker service and every event
//! consumer (names and labels: docs/architecture.md, "Metrics"):
//!
//! - `mediabot_jobs_total{service, operation, outcome}`: runs of jobs by how they ended ([`JobOutcome`]);
//! - `mediabot_job_queue_wait_seconds{service, operation}`: from submit to the first run starting;
//! - `mediabot_job_run_seconds{service, operation, outcome}`: one run, from taking the job to its outcome;
//! - `mediabot_job_end_to_end_seconds{service, operation, outcome}`: from submit to the final outcome
//!   being recorded (completed or failed);
//! - `mediabot_consumer_pending_messages{stream, consumer}` and
//!   `mediabot_consumer_ack_pending_messages{stream, consumer}`: JetStream's consumer info, sampled every
//!   [`CONSUMER_SAMPLE_INTERVAL`] while [`consume`](crate::jetstream::consume) runs — for a work queue,
//!   the jobs waiting for a worker (queue depth) and the jobs being worked on; for an event consumer,
//!   its lag.
//!
//! `operation` is the catalog's stable id (`image.upscale`), never a job id, so the number of series
//! stays fixed.

use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use mediabot_proto::Service;
use mediabot_proto::jobs::v1::JobRequest;
use tokio_util::sync::CancellationToken;

use crate::now_unix_ms;

/// How often a running consumer's info (pending and unacknowledged messages) is sampled.
pub const CONSUMER_SAMPLE_INTERVAL: Duration = Duration::from_secs(5);

/// How one run of a job ended: the `outcome` label of the job metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    /// `completed`: the result is stored and `JobCompleted` published.
    Completed,
    /// `failed_input`: the user's input can never work (corrupt, unsupported, too large, gone).
    FailedInput,
    /// `failed_internal`: a bug, or a passing problem on the last run.
    FailedInternal,
    /// `worker_lost`: every run died (killed, out of memory); given up without running it again.
    WorkerLost,
    /// `retried`: a passing problem; the job is redelivered after a back-off.
    Retried,
    /// `interrupted`: stopped by shutdown; left for redelivery.
    Interrupted,
    /// `cancelled`: the user cancelled it (before it ran or while it ran).
    Cancelled,
}

impl JobOutcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Completed => "completed",
            JobOutcome::FailedInput => "failed_input",
            JobOutcome::FailedInternal => "failed_internal",
            JobOutcome::WorkerLost => "worker_lost",
            JobOutcome::Retried => "retried",
            JobOutcome::Interrupted => "interrupted",
            JobOutcome::Cancelled => "cancelled",
        }
    }

    /// True when the job is finished for good (no redelivery follows).
    pub fn is_final(self) -> bool {
        !matches!(self, JobOutcome::Retried | JobOutcome::Interrupted)
    }
}

/// The `operation` label of `job`: its catalog id, or `unknown` for a request without a valid operation.
pub fn operation_label(job: &JobRequest) -> &'static str {
    job.operation
        .as_ref()
        .and_then(|o| o.id())
        .unwrap_or("unknown")
}

/// Seconds from `since_unix_ms` to now, when `since_unix_ms` is set (not 0) and not in the future.
fn seconds_since(since_unix_ms: i64) -> Option<f64> {
    let elapsed_ms = now_unix_ms().checked_sub(since_unix_ms)?;
    (since_unix_ms > 0 && elapsed_ms >= 0).then(|| elapsed_ms as f64 / 1000.0)
}

/// Records that a run of `job` is starting; on the first delivery also its wait in the queue (since
/// `submitted_at_unix_ms`).
pub fn job_started(service: Service, job: &JobRequest, attempt: i64) {
    if attempt == 1
        && let Some(wait) = seconds_since(job.submitted_at_unix_ms)
    {
        metrics::histogram!(
            "mediabot_job_queue_wait_seconds",
            "service" => service.name(),
            "operation" => operation_label(job),
        )
        .record(wait);
    }
}

/// Records how a run of `job` ended and how long it took (`run`); for a final outcome also the time from
/// submit to now.
pub fn job_finished(service: Service, job: &JobRequest, outcome: JobOutcome, run: Duration) {
    let operation = operation_label(job);
    metrics::counter!(
        "mediabot_jobs_total",
        "service" => service.name(),
        "operation" => operation,
        "outcome" => outcome.as_str(),
    )
    .increment(1);
    metrics::histogram!(
        "mediabot_job_run_seconds",
        "service" => service.name(),
        "operation" => operation,
        "outcome" => outcome.as_str(),
    )
    .record(run.as_secs_f64());
    if outcome.is_final()
        && let Some(total) = seconds_since(job.submitted_at_unix_ms)
    {
        metrics::histogram!(
            "mediabot_job_end_to_end_seconds",
            "service" => service.name(),
            "operation" => operation,
            "outcome" => outcome.as_str(),
        )
        .record(total);
    }
}

/// Samples `consumer`'s info every [`CONSUMER_SAMPLE_INTERVAL`] (the first time at once) into the
/// consumer gauges, until `shutdown` fires. A failed sample is logged at debug level and the gauges keep
/// their last value.
pub async fn sample_consumer(consumer: PullConsumer, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(CONSUMER_SAMPLE_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let info = match tokio::time::timeout(CONSUMER_SAMPLE_INTERVAL, consumer.get_info()).await {
            Ok(Ok(info)) => info,
            Ok(Err(error)) => {
                tracing::debug!(%error, "sampling consumer info failed");
                continue;
            }
            Err(_) => {
                tracing::debug!("sampling consumer info timed out");
                continue;
            }
        };
        let labels = [
            ("stream", info.stream_name.clone()),
            ("consumer", info.name.clone()),
        ];
        metrics::gauge!("mediabot_consumer_pending_messages", &labels).set(info.num_pending as f64);
        metrics::gauge!("mediabot_consumer_ack_pending_messages", &labels)
            .set(info.num_ack_pending as f64);
    }
}
