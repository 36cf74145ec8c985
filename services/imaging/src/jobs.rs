//! Accepting image jobs: validated domain types for a submission ([`JobId`], [`NewImageJob`]) and the
//! [`JobQueue`] that checks the input object, records the job as QUEUED and publishes it to the imaging
//! work queue; plus reading a job's status back. The gRPC handlers only convert and call these.

use std::fmt;

use async_nats::jetstream::object_store::InfoErrorKind;
use mediabot_proto::jobs::v1::{
    ImageJobRequest, ImageOperation, JobContext, JobKind, JobState, JobStatus,
};
use service_runtime::jetstream::{self, IMAGING_STREAM, Pipeline, subjects};
use tracing::instrument;

/// A job id: a UUID in its canonical hyphenated lower-case form (it is also a NATS key and object name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobId(String);

impl JobId {
    /// Parses any UUID spelling and keeps the canonical one. Errors: [`ValidationError`] on `job_id`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        uuid::Uuid::parse_str(raw.trim())
            .map(|id| JobId(id.hyphenated().to_string()))
            .map_err(|_| ValidationError::new("job_id", "must be a UUID"))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A request field that failed validation (INVALID_ARGUMENT).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// Proto field name.
    pub field: &'static str,
    /// What is wrong, in English.
    pub message: &'static str,
}

impl ValidationError {
    /// A violation of `field`.
    pub fn new(field: &'static str, message: &'static str) -> Self {
        Self { field, message }
    }
}

/// A validated image job, ready to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewImageJob {
    /// The job id.
    pub job_id: JobId,
    /// What to do (only `UPSCALE_2X` exists).
    pub operation: ImageOperation,
    /// Object-store key of the input in the `media` bucket.
    pub input_key: String,
    /// Declared MIME type, may be empty (content sniffing wins).
    pub mime_type: String,
    /// Original file name, may be empty.
    pub file_name: String,
    /// Where the result goes; has a chat id and a user id.
    pub context: JobContext,
}

impl NewImageJob {
    /// Validates the parts of a submission. Errors: the first field that is wrong.
    pub fn parse(
        job_id: &str,
        operation: i32,
        input_key: String,
        mime_type: String,
        file_name: String,
        context: Option<JobContext>,
    ) -> Result<Self, ValidationError> {
        let job_id = JobId::parse(job_id)?;
        let operation = match ImageOperation::try_from(operation) {
            Ok(ImageOperation::Upscale2x) => ImageOperation::Upscale2x,
            _ => {
                return Err(ValidationError::new(
                    "operation",
                    "must be IMAGE_OPERATION_UPSCALE_2X",
                ));
            }
        };
        if input_key.trim().is_empty() {
            return Err(ValidationError::new("input_key", "must not be empty"));
        }
        let context = context.ok_or(ValidationError::new("context", "is required"))?;
        if context.chat_id == 0 {
            return Err(ValidationError::new("context.chat_id", "must be set"));
        }
        if context.user_id == 0 {
            return Err(ValidationError::new("context.user_id", "must be set"));
        }
        Ok(Self {
            job_id,
            operation,
            input_key,
            mime_type,
            file_name,
            context,
        })
    }
}

/// A job accepted into the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The job id (canonical form).
    pub job_id: JobId,
    /// Jobs waiting or running ahead of it when it was queued.
    pub queue_position: u64,
}

/// Why a submission was not queued.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The input object is not in the media bucket (NOT_FOUND).
    #[error("input object {key} not found")]
    InputMissing {
        /// The key looked up.
        key: String,
    },
    /// The key is not a valid object name (INVALID_ARGUMENT).
    #[error("input_key {key:?} is not a valid object name")]
    InvalidKey {
        /// The key given.
        key: String,
    },
    /// The work queue holds its maximum already (RESOURCE_EXHAUSTED).
    #[error("the imaging queue is full")]
    QueueFull,
    /// NATS did not answer (UNAVAILABLE).
    #[error("NATS: {0}")]
    Unavailable(String),
}

/// Why a status could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// Unknown or expired id (NOT_FOUND).
    #[error("job {0} not found")]
    NotFound(JobId),
    /// NATS did not answer (UNAVAILABLE).
    #[error("NATS: {0}")]
    Unavailable(#[source] jetstream::Error),
}

/// Queues image jobs and reports their status, over the shared JetStream [`Pipeline`].
#[derive(Clone)]
pub struct JobQueue {
    pipeline: Pipeline,
}

impl JobQueue {
    /// Wraps the pipeline.
    pub fn new(pipeline: Pipeline) -> Self {
        Self { pipeline }
    }

    /// Checks that the input exists, records the job as QUEUED and publishes it to
    /// `jobs.imaging.requested` with message id `<job_id>.requested`.
    ///
    /// Idempotent: resubmitting an id JetStream has seen within its de-duplication window stores it once,
    /// and an id whose job already runs or finished is answered without queueing it again.
    #[instrument(skip(self, job), fields(job_id = %job.job_id, user_id = job.context.user_id))]
    pub async fn submit(&self, job: NewImageJob) -> Result<Submitted, SubmitError> {
        let key = job.input_key.clone();
        match self.pipeline.media.info(&key).await {
            Ok(info) if !info.deleted => {}
            Ok(_) => return Err(SubmitError::InputMissing { key }),
            Err(e) => {
                return Err(match e.kind() {
                    InfoErrorKind::NotFound => SubmitError::InputMissing { key },
                    InfoErrorKind::InvalidName => SubmitError::InvalidKey { key },
                    InfoErrorKind::TimedOut | InfoErrorKind::Other => {
                        SubmitError::Unavailable(e.to_string())
                    }
                });
            }
        }
        let existing = self
            .pipeline
            .get_status(job.job_id.as_str())
            .await
            .map_err(|e| SubmitError::Unavailable(e.to_string()))?;
        if let Some(status) = &existing
            && status.state != JobState::Queued as i32
        {
            tracing::info!(
                state = status.state,
                "job already past the queue; not queueing it again"
            );
            return Ok(Submitted {
                job_id: job.job_id,
                queue_position: 0,
            });
        }
        // Asked before publishing: if NATS fails here nothing has been queued, so the caller may safely
        // release the user's hold.
        let ahead = self
            .pipeline
            .queue_depth(IMAGING_STREAM)
            .await
            .map_err(|e| SubmitError::Unavailable(e.to_string()))?;
        let now = service_runtime::now_unix_ms();
        self.pipeline
            .put_status(&JobStatus {
                job_id: job.job_id.to_string(),
                kind: JobKind::Image as i32,
                state: JobState::Queued as i32,
                completed: None,
                failed: None,
                updated_at_unix_ms: now,
            })
            .await
            .map_err(|e| SubmitError::Unavailable(e.to_string()))?;
        let request = ImageJobRequest {
            job_id: job.job_id.to_string(),
            operation: job.operation as i32,
            input_key: job.input_key,
            mime_type: job.mime_type,
            file_name: job.file_name,
            context: Some(job.context),
            submitted_at_unix_ms: now,
        };
        let msg_id = format!("{}.requested", job.job_id);
        match self
            .pipeline
            .publish(subjects::IMAGING_REQUESTED, &msg_id, &request)
            .await
        {
            Ok(ack) => {
                tracing::info!(ahead, duplicate = ack.duplicate, "image job queued");
                Ok(Submitted {
                    job_id: job.job_id,
                    queue_position: ahead,
                })
            }
            Err(e) => {
                if existing.is_none() {
                    // The job was never queued: a QUEUED status would be a lie until it expires.
                    if let Err(error) = self.pipeline.job_status.delete(job.job_id.as_str()).await {
                        tracing::warn!(%error, "could not remove the status of a job that was not queued");
                    }
                }
                if e.is_queue_full() {
                    Err(SubmitError::QueueFull)
                } else {
                    Err(SubmitError::Unavailable(e.to_string()))
                }
            }
        }
    }

    /// The job's current status. Errors: [`StatusError::NotFound`] for an unknown or expired id.
    #[instrument(skip(self), fields(job_id = %job_id))]
    pub async fn status(&self, job_id: JobId) -> Result<JobStatus, StatusError> {
        match self.pipeline.get_status(job_id.as_str()).await {
            Ok(Some(status)) => Ok(status),
            Ok(None) => Err(StatusError::NotFound(job_id)),
            Err(e) => Err(StatusError::Unavailable(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Option<JobContext> {
        Some(JobContext {
            chat_id: 1,
            user_id: 2,
            ..Default::default()
        })
    }

    #[test]
    fn canonical_job_id() {
        let id = JobId::parse("6F9619FF-8B86-D011-B42D-00C04FC964FF").map(|id| id.to_string());
        assert_eq!(id, Ok("6f9619ff-8b86-d011-b42d-00c04fc964ff".to_string()));
        assert_eq!(
            JobId::parse("nope").map(|_| ()),
            Err(ValidationError::new("job_id", "must be a UUID"))
        );
    }

    #[test]
    fn validates_fields() {
        let id = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
        let op = ImageOperation::Upscale2x as i32;
        let parse = |op, key: &str, ctx| {
            NewImageJob::parse(id, op, key.into(), String::new(), String::new(), ctx)
        };
        assert!(parse(op, "in/x", context()).is_ok());
        assert_eq!(
            parse(0, "in/x", context()).map(|_| ()).map_err(|e| e.field),
            Err("operation")
        );
        assert_eq!(
            parse(op, " ", context()).map(|_| ()).map_err(|e| e.field),
            Err("input_key")
        );
        assert_eq!(
            parse(op, "in/x", None).map(|_| ()).map_err(|e| e.field),
            Err("context")
        );
        let no_chat = Some(JobContext {
            user_id: 2,
            ..Default::default()
        });
        assert_eq!(
            parse(op, "in/x", no_chat).map(|_| ()).map_err(|e| e.field),
            Err("context.chat_id")
        );
    }
}
