//! The imaging worker: takes [`ImageJobRequest`]s from the `imaging-workers` durable consumer on the
//! `JOBS_IMAGING` work queue, runs the [`pipeline`](crate::pipeline) on a blocking thread, stores the result
//! as `out/<job_id>` and publishes the outcome; only then is the request acknowledged.
//!
//! Outcomes, per job:
//! - done: `JobStatus` COMPLETED, `JobCompleted` on `jobs.completed` (msg id `<job_id>.completed`), ack;
//! - bad input (corrupt, unsupported, too large, input gone): `JobStatus` FAILED, `JobFailed` on
//!   `jobs.failed` (msg id `<job_id>.failed`), ack;
//! - infrastructure trouble (object store, publish): redelivered after a back-off, and on the last
//!   deliveries reported as `JobFailed` INTERNAL, so the user hears about it and billing releases the hold;
//! - a message that is not an `ImageJobRequest`: terminated (it can never succeed).
//!
//! Redelivery after a crash is safe: the output key and message ids depend only on the job id, so a second
//! run overwrites the same object and its events are de-duplicated by JetStream; a job whose status is
//! already final only has its outcome event published again (in case the crash came between the two).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::object_store::GetErrorKind;
use mediabot_proto::jobs::v1::{
    FailureReason, ImageJobRequest, ImageOperation, ImageResult, JobCompleted, JobContext,
    JobFailed, JobKind, JobProgress, JobState, JobStatus, job_completed,
};
use prost::Message as _;
use service_runtime::jetstream::{Delivery, Disposition, Pipeline, output_key, subjects};
use tokio::io::AsyncReadExt;
use tracing::instrument;

use crate::pipeline::{self, Limits};

/// Worker settings.
#[derive(Debug, Clone, Copy)]
pub struct WorkerSettings {
    /// Input limits of the pipeline.
    pub limits: Limits,
    /// Deliveries of one message before JetStream drops it; the worker reports INTERNAL before that.
    pub max_deliver: i64,
}

/// Handles one job message at a time; cheap to clone into the consume loop.
#[derive(Clone)]
pub struct Worker {
    pipeline: Pipeline,
    settings: WorkerSettings,
}

/// A passing infrastructure failure: the job is retried (or reported INTERNAL on its last deliveries).
#[derive(Debug, thiserror::Error)]
pub enum TransientError {
    /// Reading the input from the object store failed (other than "not found").
    #[error("reading input {key}: {detail}")]
    ReadInput {
        /// Object key.
        key: String,
        /// Cause.
        detail: String,
    },
    /// Writing the result to the object store failed.
    #[error("writing result {key}: {detail}")]
    WriteOutput {
        /// Object key.
        key: String,
        /// Cause.
        detail: String,
    },
    /// Publishing an event or writing the job status failed.
    #[error(transparent)]
    Nats(#[from] service_runtime::jetstream::Error),
}

/// A final failure reported to the user, with its reason and an English detail for operators.
struct Failure {
    reason: FailureReason,
    detail: String,
}

impl Worker {
    /// A worker over `pipeline` (the object store and job-status bucket it writes to).
    pub fn new(pipeline: Pipeline, settings: WorkerSettings) -> Self {
        Self { pipeline, settings }
    }

    /// Handles a delivered message: runs the job and says what to do with the message.
    pub async fn handle(self: Arc<Self>, delivery: Delivery) -> Disposition {
        let request = match ImageJobRequest::decode(delivery.message.payload.clone()) {
            Ok(request) if !request.job_id.is_empty() => request,
            Ok(_) => {
                tracing::error!("image job request without a job id; terminating it");
                return Disposition::Term;
            }
            Err(error) => {
                tracing::error!(%error, "undecodable image job request; terminating it");
                return Disposition::Term;
            }
        };
        let attempt = delivery.attempt;
        match self.run(&request, attempt).await {
            Ok(()) => Disposition::Ack,
            Err(error) if attempt >= self.settings.max_deliver - 1 => {
                tracing::error!(job_id = %request.job_id, attempt, %error, "job failed on its last delivery");
                let failure = Failure {
                    reason: FailureReason::Internal,
                    detail: format!("gave up after {attempt} attempts: {error}"),
                };
                match self.fail(&request, failure).await {
                    Ok(()) => Disposition::Ack,
                    Err(error) => {
                        tracing::error!(job_id = %request.job_id, %error, "could not report the failure");
                        Disposition::Retry(backoff(attempt))
                    }
                }
            }
            Err(error) => {
                tracing::warn!(job_id = %request.job_id, attempt, %error, "job hit a passing problem; retrying");
                Disposition::Retry(backoff(attempt))
            }
        }
    }

    #[instrument(skip(self, request), fields(job_id = %request.job_id, attempt))]
    async fn run(&self, request: &ImageJobRequest, attempt: i64) -> Result<(), TransientError> {
        let started = Instant::now();
        let job_id = request.job_id.as_str();
        // A final status means an earlier delivery finished the job but may have died before its event
        // was stored or the request acked: publish the recorded outcome again (de-duplicated) and stop.
        if self.pipeline.republish_recorded_outcome(job_id).await? {
            return Ok(());
        }
        if request.operation != ImageOperation::Upscale2x as i32 {
            let detail = format!("unknown image operation {}", request.operation);
            return self
                .fail(
                    request,
                    Failure {
                        reason: FailureReason::Internal,
                        detail,
                    },
                )
                .await;
        }
        self.report_running(request).await;

        let input = match self.read_input(&request.input_key).await? {
            Some(input) => input,
            None => {
                let detail = format!(
                    "input {} is not in the media bucket (expired or never stored)",
                    request.input_key
                );
                return self
                    .fail(
                        request,
                        Failure {
                            reason: FailureReason::InputMissing,
                            detail,
                        },
                    )
                    .await;
            }
        };
        let input_bytes = input.len();
        let limits = self.settings.limits;
        let output = match tokio::task::spawn_blocking(move || {
            pipeline::upscale_2x(&input, &limits)
        })
        .await
        {
            Ok(Ok(output)) => output,
            Ok(Err(error)) => {
                tracing::info!(%error, input_bytes, "input refused");
                return self
                    .fail(
                        request,
                        Failure {
                            reason: error.reason(),
                            detail: error.to_string(),
                        },
                    )
                    .await;
            }
            Err(join_error) => {
                // A panic inside a codec is a bug that would repeat on every delivery.
                let detail = format!("image pipeline crashed: {join_error}");
                return self
                    .fail(
                        request,
                        Failure {
                            reason: FailureReason::Internal,
                            detail,
                        },
                    )
                    .await;
            }
        };

        let key = output_key(job_id);
        let size_bytes = output.bytes.len() as u64;
        self.pipeline
            .media
            .put(key.as_str(), &mut output.bytes.as_slice())
            .await
            .map_err(|e| TransientError::WriteOutput {
                key: key.clone(),
                detail: e.to_string(),
            })?;
        let processing_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let completed = JobCompleted {
            job_id: job_id.to_string(),
            kind: JobKind::Image as i32,
            context: request.context.clone(),
            result: Some(job_completed::Result::Image(ImageResult {
                output_key: key,
                mime_type: output.mime_type.to_string(),
                width_px: output.width,
                height_px: output.height,
                size_bytes,
                send_as_document: output.send_as_document,
            })),
            processing_ms,
            completed_at_unix_ms: service_runtime::now_unix_ms(),
        };
        self.pipeline
            .put_status(&JobStatus {
                job_id: job_id.to_string(),
                kind: JobKind::Image as i32,
                state: JobState::Completed as i32,
                completed: Some(completed.clone()),
                failed: None,
                updated_at_unix_ms: completed.completed_at_unix_ms,
            })
            .await?;
        self.pipeline
            .publish(
                subjects::COMPLETED,
                &format!("{job_id}.completed"),
                &completed,
            )
            .await?;
        tracing::info!(
            input_bytes,
            output_bytes = size_bytes,
            width = output.width,
            height = output.height,
            mime_type = output.mime_type,
            send_as_document = output.send_as_document,
            processing_ms,
            attempt,
            "image job completed"
        );
        Ok(())
    }

    /// Best effort: a missed RUNNING only makes the user's status message lag.
    async fn report_running(&self, request: &ImageJobRequest) {
        let job_id = request.job_id.as_str();
        let status = JobStatus {
            job_id: job_id.to_string(),
            kind: JobKind::Image as i32,
            state: JobState::Running as i32,
            completed: None,
            failed: None,
            updated_at_unix_ms: service_runtime::now_unix_ms(),
        };
        if let Err(error) = self.pipeline.put_status(&status).await {
            tracing::warn!(%error, "could not record RUNNING");
        }
        let progress = JobProgress {
            job_id: job_id.to_string(),
            kind: JobKind::Image as i32,
            state: JobState::Running as i32,
            percent: 0,
            context: request.context.clone(),
        };
        if let Err(error) = self
            .pipeline
            .publish(
                subjects::PROGRESS,
                &format!("{job_id}.progress.0"),
                &progress,
            )
            .await
        {
            tracing::warn!(%error, "could not publish progress");
        }
    }

    /// The input bytes, or `None` when the object does not exist.
    async fn read_input(&self, key: &str) -> Result<Option<Vec<u8>>, TransientError> {
        let transient = |detail: String| TransientError::ReadInput {
            key: key.to_string(),
            detail,
        };
        let mut object = match self.pipeline.media.get(key).await {
            Ok(object) => object,
            Err(e) if e.kind() == GetErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(transient(e.to_string())),
        };
        let mut bytes = Vec::with_capacity(object.info().size);
        object
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| transient(e.to_string()))?;
        Ok(Some(bytes))
    }

    /// Records and publishes a final failure.
    async fn fail(
        &self,
        request: &ImageJobRequest,
        failure: Failure,
    ) -> Result<(), TransientError> {
        let job_id = request.job_id.as_str();
        let failed = job_failed(job_id, request.context.clone(), failure);
        tracing::info!(reason = ?failed.reason(), detail = %failed.detail, "image job failed");
        self.pipeline
            .put_status(&JobStatus {
                job_id: job_id.to_string(),
                kind: JobKind::Image as i32,
                state: JobState::Failed as i32,
                completed: None,
                failed: Some(failed.clone()),
                updated_at_unix_ms: failed.failed_at_unix_ms,
            })
            .await?;
        self.pipeline
            .publish(subjects::FAILED, &format!("{job_id}.failed"), &failed)
            .await?;
        Ok(())
    }
}

fn job_failed(job_id: &str, context: Option<JobContext>, failure: Failure) -> JobFailed {
    JobFailed {
        job_id: job_id.to_string(),
        kind: JobKind::Image as i32,
        context,
        reason: failure.reason as i32,
        detail: failure.detail,
        failed_at_unix_ms: service_runtime::now_unix_ms(),
    }
}

/// 1 s, 2 s, 4 s, ... capped at 30 s: long enough for NATS to come back, short enough for a chat.
fn backoff(attempt: i64) -> Duration {
    let exponent = u32::try_from(attempt.clamp(1, 6) - 1).unwrap_or(0);
    Duration::from_secs(2u64.pow(exponent).min(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_thirty_seconds() {
        let delays: Vec<u64> = (1..=8).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
    }
}
