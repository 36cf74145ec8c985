//! How a generation job ends when it has no result, in one place (docs/architecture.md, "Failure classes
//! in a worker"):
//!
//! | cause | job |
//! | --- | --- |
//! | the provider refused what the user asked (content policy) | FAILED `REJECTED`, the provider's words in `provider_message` |
//! | every model of the chain failed, the one model of an edit, retouch or face swap failed, the job's deadline passed, or the LLM failed for good | FAILED `PROVIDER_FAILED` at once (the service has retried already; the detail lists each model's failure) |
//! | one of the user's pictures is corrupt, of a format not read here (HEIC), or too large | FAILED `CORRUPT_INPUT`, `UNSUPPORTED_FORMAT`, `TOO_LARGE`, before any provider is asked |
//! | the service is shutting down | transient: the job is redelivered (its request was cancelled at the provider) |
//! | the provider-slots bucket failed (NATS) | transient: redelivered with back-off |
//! | an alias the model list lacks, a job of another service, an input object the gateway should not have sent (not an `InputParts`, a wrong number of pictures) | FAILED `INTERNAL` (a configuration mismatch or a bug) |
//!
//! The service's gRPC surface is the job pipeline's Jobs service, whose status codes are mapped in
//! `job_pipeline::error`.

use std::time::Duration;

use job_pipeline::JobError;
use mediabot_proto::jobs::v1::FailureReason;

use crate::inputs::PartError;
use crate::models::UnknownModel;

/// One model of the chain and why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFailure {
    /// The model's alias.
    pub model: String,
    /// What went wrong, in English.
    pub reason: String,
}

/// Why a generation job produced no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerationError {
    /// The job named a model the list does not have.
    #[error(transparent)]
    UnknownModel(#[from] UnknownModel),
    /// The job is not one of this service's operations.
    #[error("not a generation operation: {0}")]
    NotOurs(String),
    /// The job's input or parameters are not what the gateway should send (a bug there): an input object
    /// that is not an `InputParts`, a wrong number of pictures, an unknown format.
    #[error("a job the gateway should not have sent: {0}")]
    BadJob(String),
    /// One of the user's pictures cannot be sent (corrupt, unsupported, too large).
    #[error(transparent)]
    Input(#[from] PartError),
    /// The provider refused what the user asked.
    #[error("{model}: {status}: {message}")]
    Rejected {
        /// The model that refused.
        model: String,
        /// Where the refusal came from (the HTTP status).
        status: String,
        /// The provider's words.
        message: String,
    },
    /// Every model tried failed.
    #[error("every model failed: {}", list(.0))]
    AllFailed(Vec<ModelFailure>),
    /// The one model of an edit, a retouch or a face swap failed (they have no chain to fall back on).
    #[error("{}: {}", .0.model, .0.reason)]
    Failed(ModelFailure),
    /// The job's deadline passed.
    #[error("timed out after {} s{}", .after.as_secs(), earlier(.failures))]
    TimedOut {
        /// The deadline.
        after: Duration,
        /// The models that failed before.
        failures: Vec<ModelFailure>,
    },
    /// The LLM failed for good (`prompt.write`).
    #[error("the LLM failed: {0}")]
    Llm(String),
    /// The job's stop token fired: the service is shutting down (the job is left for redelivery) or the
    /// user cancelled it (it fails as CANCELLED); the worker tells which.
    #[error("stopped (shutdown or the user's cancel); the request at Fal was cancelled")]
    Stopped,
    /// NATS failed (the provider-slots bucket).
    #[error("{0}")]
    Nats(String),
    /// A bug: a task crashed.
    #[error("{0}")]
    Crashed(String),
}

fn list(failures: &[ModelFailure]) -> String {
    failures
        .iter()
        .map(|f| format!("{}: {}", f.model, f.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

fn earlier(failures: &[ModelFailure]) -> String {
    if failures.is_empty() {
        String::new()
    } else {
        format!(" (before: {})", list(failures))
    }
}

impl From<GenerationError> for JobError {
    fn from(error: GenerationError) -> Self {
        let detail = error.to_string();
        match error {
            GenerationError::UnknownModel(_)
            | GenerationError::NotOurs(_)
            | GenerationError::BadJob(_)
            | GenerationError::Crashed(_) => JobError::Internal(detail),
            GenerationError::Input(error) => match error.error.reason() {
                FailureReason::Internal => JobError::Internal(detail),
                reason => JobError::input(reason, detail),
            },
            GenerationError::Rejected { message, .. } => JobError::Rejected {
                provider_message: message,
                detail,
            },
            GenerationError::AllFailed(_)
            | GenerationError::Failed(_)
            | GenerationError::TimedOut { .. }
            | GenerationError::Llm(_) => JobError::input(FailureReason::ProviderFailed, detail),
            GenerationError::Stopped | GenerationError::Nats(_) => JobError::Transient(detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::InputError;

    #[test]
    fn classes() {
        let failures = vec![
            ModelFailure {
                model: "pro".into(),
                reason: "the request completed with 500".into(),
            },
            ModelFailure {
                model: "flash".into(),
                reason: "the result has no images".into(),
            },
        ];
        let all = JobError::from(GenerationError::AllFailed(failures.clone()));
        assert_eq!(
            all,
            JobError::input(
                FailureReason::ProviderFailed,
                "every model failed: pro: the request completed with 500; flash: the result has no images"
            )
        );
        let timed_out = JobError::from(GenerationError::TimedOut {
            after: Duration::from_secs(300),
            failures: failures[..1].to_vec(),
        });
        assert!(
            matches!(&timed_out, JobError::Input { reason: FailureReason::ProviderFailed, detail }
                if detail == "timed out after 300 s (before: pro: the request completed with 500)"),
            "{timed_out:?}"
        );
        let rejected = JobError::from(GenerationError::Rejected {
            model: "pro".into(),
            status: "result answered 422".into(),
            message: "The prompt was rejected".into(),
        });
        assert!(
            matches!(rejected, JobError::Rejected { provider_message, .. } if provider_message == "The prompt was rejected")
        );
        assert!(matches!(
            JobError::from(GenerationError::UnknownModel(UnknownModel("x".into()))),
            JobError::Internal(_)
        ));
        assert!(matches!(
            JobError::from(GenerationError::Stopped),
            JobError::Transient(_)
        ));
        let one = JobError::from(GenerationError::Failed(failures[0].clone()));
        assert_eq!(
            one,
            JobError::input(
                FailureReason::ProviderFailed,
                "pro: the request completed with 500"
            )
        );
        let corrupt = JobError::from(GenerationError::Input(PartError {
            number: 2,
            count: 3,
            error: InputError::Corrupt("truncated".into()),
        }));
        assert_eq!(
            corrupt,
            JobError::input(
                FailureReason::CorruptInput,
                "picture 2 of 3: not a readable picture: truncated"
            )
        );
        assert!(matches!(
            JobError::from(GenerationError::BadJob("3 pictures".into())),
            JobError::Internal(_)
        ));
    }
}
