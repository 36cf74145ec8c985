//! Accepting jobs: the [`JobQueue`] of one worker service validates a `JobRequest` once, records it as
//! QUEUED and publishes it to the service's work queue; it also reads a job's status back. The gRPC
//! handlers ([`crate::grpc`]) only call these, and [`crate::error`] maps their errors to status codes.

use std::sync::Arc;

use async_nats::jetstream::object_store::InfoErrorKind;
use mediabot_proto::catalog::{InvalidJobId, InvalidOperation};
use mediabot_proto::jobs::v1::{JobRequest, JobState, JobStatus};
use mediabot_proto::{JobId, Service};
use tracing::instrument;

use crate::jetstream::{self, Pipeline, message_id};
use crate::now_unix_ms;

/// A job accepted into the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The job id, canonical form.
    pub job_id: JobId,
    /// Jobs waiting or running ahead of it when it was queued (0 for a job already past the queue).
    pub queue_position: u64,
}

/// Why a job was not queued.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// `job_id` is not a UUID (INVALID_ARGUMENT).
    #[error(transparent)]
    JobId(#[from] InvalidJobId),
    /// The operation is missing or a parameter is out of range (INVALID_ARGUMENT).
    #[error(transparent)]
    Operation(#[from] InvalidOperation),
    /// The operation is run by another service (INVALID_ARGUMENT).
    #[error("operation: {operation} is run by {runs_it}, not by {service}")]
    WrongService {
        /// The operation id.
        operation: &'static str,
        /// The service that runs it.
        runs_it: Service,
        /// This service.
        service: Service,
    },
    /// Another field is missing or malformed (INVALID_ARGUMENT).
    #[error("{field}: {reason}")]
    Field {
        /// The proto field, e.g. `context.chat_id`.
        field: &'static str,
        /// What is wrong, in English.
        reason: &'static str,
    },
    /// The input object is not in the media bucket (NOT_FOUND).
    #[error("input object {key} not found in the media bucket")]
    InputMissing {
        /// The key looked up.
        key: String,
    },
    /// The operation cannot run on this installation (FAILED_PRECONDITION), e.g. no speech model.
    #[error("{0}")]
    NotAvailable(Arc<str>),
    /// The work queue holds its maximum already (RESOURCE_EXHAUSTED).
    #[error("the {0} queue is full; try again later")]
    QueueFull(Service),
    /// NATS did not answer (UNAVAILABLE).
    #[error(transparent)]
    Nats(#[from] jetstream::Error),
}

/// Why a job's status could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// `job_id` is not a UUID (INVALID_ARGUMENT).
    #[error(transparent)]
    JobId(#[from] InvalidJobId),
    /// Unknown or expired id (NOT_FOUND).
    #[error("job {0} not found")]
    NotFound(JobId),
    /// NATS did not answer (UNAVAILABLE).
    #[error(transparent)]
    Nats(#[from] jetstream::Error),
}

/// The job queue of one worker service over the shared JetStream [`Pipeline`]. Cheap to clone.
#[derive(Clone)]
pub struct JobQueue {
    pipeline: Pipeline,
    service: Service,
    not_available: Option<Arc<str>>,
}

impl JobQueue {
    /// The queue of `service` (`jobs.<service>.requested`).
    pub fn new(pipeline: Pipeline, service: Service) -> Self {
        Self {
            pipeline,
            service,
            not_available: None,
        }
    }

    /// Marks the service's operations as not available on this installation: every submit answers
    /// [`SubmitError::NotAvailable`] with `reason` (which tells the operator how to fix it), and the
    /// service's health entry for the Jobs service stays NOT_SERVING ([`crate::grpc::mount`]).
    pub fn not_available(mut self, reason: impl Into<String>) -> Self {
        self.not_available = Some(Arc::from(reason.into()));
        self
    }

    /// True unless marked [`not_available`](Self::not_available).
    pub fn is_available(&self) -> bool {
        self.not_available.is_none()
    }

    /// The service whose queue this is.
    pub fn service(&self) -> Service {
        self.service
    }

    /// Validates `request` and queues it:
    ///
    /// - `job_id` must be a UUID (kept in its canonical form); `operation` valid
    ///   ([`Operation::validate`](mediabot_proto::jobs::v1::Operation::validate)) and run by this service;
    ///   `input_key` non-empty and present in the media bucket for an operation that
    ///   [takes input](mediabot_proto::jobs::v1::Operation::takes_input), empty for one that does not; `context` with `user_id` and, unless the
    ///   job comes from the HTTP API (`origin` API), `chat_id`;
    /// - the status QUEUED is written only if the job has none yet, so a resubmitted job is never moved back
    ///   from RUNNING or a final state — such a job is answered (position 0) without being queued again;
    /// - the request is published to the work queue with message id `<job_id>.requested` (JetStream keeps
    ///   one copy per id within its de-duplication window). If that fails, a status this call created is
    ///   removed again, so the caller may release the user's hold.
    ///
    /// Errors: [`SubmitError`].
    #[instrument(skip_all, fields(job_id = %request.job_id, service = %self.service))]
    pub async fn submit(&self, request: JobRequest) -> Result<Submitted, SubmitError> {
        let (job_id, mut job) = self.validate(request)?;
        if let Some(reason) = &self.not_available {
            return Err(SubmitError::NotAvailable(reason.clone()));
        }
        let key = job.input_key.clone();
        let input = if key.is_empty() {
            // An operation without an input object (validated above).
            Ok(None)
        } else {
            self.pipeline.media.info(&key).await.map(Some)
        };
        match input {
            Ok(None) => {}
            Ok(Some(info)) if !info.deleted => {}
            Ok(Some(_)) => return Err(SubmitError::InputMissing { key }),
            Err(e) => {
                return Err(match e.kind() {
                    InfoErrorKind::NotFound | InfoErrorKind::InvalidName => {
                        SubmitError::InputMissing { key }
                    }
                    InfoErrorKind::TimedOut | InfoErrorKind::Other => {
                        SubmitError::Nats(jetstream::Error::Media {
                            key,
                            source: Box::new(e),
                        })
                    }
                });
            }
        }
        if let Some(status) = self.pipeline.get_status(job_id.as_str()).await?
            && status.state != JobState::Queued as i32
        {
            tracing::info!(
                state = status.state,
                "job already past the queue; not queueing it again"
            );
            return Ok(Submitted {
                job_id,
                queue_position: 0,
            });
        }
        // Asked before publishing: if NATS fails here nothing has been queued yet.
        let ahead = self.pipeline.queue_depth(self.service.stream()).await?;
        job.submitted_at_unix_ms = now_unix_ms();
        // QUEUED before publishing: a fast worker's RUNNING must not be overwritten by it.
        let created = self
            .pipeline
            .create_status(&JobStatus {
                job_id: job.job_id.clone(),
                operation: job.operation.clone(),
                state: JobState::Queued as i32,
                completed: None,
                failed: None,
                updated_at_unix_ms: job.submitted_at_unix_ms,
                context: job.context.clone(),
                ..Default::default()
            })
            .await?;
        let published = self
            .pipeline
            .publish(
                self.service.requested_subject(),
                &message_id(job_id.as_str(), "requested"),
                &job,
            )
            .await;
        match published {
            Ok(ack) => {
                tracing::info!(ahead, duplicate = ack.duplicate, "job queued");
                // Where it waits, for `/status`'s queue position; best effort (a worker that took it
                // already has moved it past QUEUED).
                let sequence = ack.sequence;
                if let Err(error) = self
                    .pipeline
                    .amend_status(job_id.as_str(), JobState::Queued, |status| {
                        status.queue_sequence = sequence;
                        true
                    })
                    .await
                {
                    tracing::debug!(%error, "could not record the job's queue sequence");
                }
                Ok(Submitted {
                    job_id,
                    queue_position: ahead,
                })
            }
            Err(error) => {
                if created {
                    // Nothing was queued: a QUEUED status would be a lie until it expires.
                    if let Err(error) = self.pipeline.delete_status(job_id.as_str()).await {
                        tracing::warn!(%error, "could not remove the status of a job that was not queued");
                    }
                }
                if error.is_queue_full() {
                    Err(SubmitError::QueueFull(self.service))
                } else {
                    Err(SubmitError::Nats(error))
                }
            }
        }
    }

    /// A job's current status. Errors: [`StatusError::NotFound`] for an unknown or expired id.
    #[instrument(skip(self))]
    pub async fn status(&self, job_id: &str) -> Result<JobStatus, StatusError> {
        let job_id = JobId::parse(job_id)?;
        self.pipeline
            .get_status(job_id.as_str())
            .await?
            .ok_or(StatusError::NotFound(job_id))
    }

    /// Checks every field that does not need NATS; returns the job id and the request carrying it in its
    /// canonical form.
    fn validate(&self, mut request: JobRequest) -> Result<(JobId, JobRequest), SubmitError> {
        let job_id = JobId::parse(&request.job_id)?;
        request.job_id = job_id.to_string();
        let operation = request.operation.clone().unwrap_or_default();
        operation.validate()?;
        if let (Some(id), Some(runs_it)) = (operation.id(), operation.service())
            && runs_it != self.service
        {
            return Err(SubmitError::WrongService {
                operation: id,
                runs_it,
                service: self.service,
            });
        }
        if operation.takes_input() && request.input_key.trim().is_empty() {
            return Err(SubmitError::Field {
                field: "input_key",
                reason: "must not be empty",
            });
        }
        if !operation.takes_input() && !request.input_key.is_empty() {
            return Err(SubmitError::Field {
                field: "input_key",
                reason: "must be empty: this operation takes no input object",
            });
        }
        let Some(context) = &request.context else {
            return Err(SubmitError::Field {
                field: "context",
                reason: "is required",
            });
        };
        // An HTTP API job has no chat: its result stays in the job-status bucket.
        let api = context.origin == mediabot_proto::jobs::v1::JobOrigin::Api as i32;
        if context.chat_id == 0 && !api {
            return Err(SubmitError::Field {
                field: "context.chat_id",
                reason: "must be set",
            });
        }
        if context.user_id == 0 {
            return Err(SubmitError::Field {
                field: "context.user_id",
                reason: "must be set",
            });
        }
        Ok((job_id, request))
    }
}
