//! How a generation job ends when it has no result, in one place (docs/architecture.md, "Failure classes
//! in a worker"):
//!
//! | cause | job |
//! | --- | --- |
//! | the provider refused what the user asked (content policy) | FAILED `REJECTED`, the provider's words in `provider_message` |
//! | every model of the chain failed, or the job's deadline passed, or the LLM failed for good | FAILED `PROVIDER_FAILED` at once (the service has retried already; the detail lists each model's failure) |
//! | the service is shutting down | transient: the job is redelivered (its request was cancelled at the provider) |
//! | the provider-slots bucket failed (NATS) | transient: redelivered with back-off |
//! | an alias the model list lacks, a job of another service | FAILED `INTERNAL` (a configuration mismatch or a bug) |
//!
//! The service's gRPC surface is the job pipeline's Jobs service, whose status codes are mapped in
//! `job_pipeline::error`.

use std::time::Duration;

use job_pipeline::JobError;
use mediabot_proto::jobs::v1::FailureReason;

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
    /// The service is shutting down.
    #[error("stopped by shutdown; the job is left for redelivery")]
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
            | GenerationError::Crashed(_) => JobError::Internal(detail),
            GenerationError::Rejected { message, .. } => JobError::Rejected {
                provider_message: message,
                detail,
            },
            GenerationError::AllFailed(_)
            | GenerationError::TimedOut { .. }
            | GenerationError::Llm(_) => JobError::input(FailureReason::ProviderFailed, detail),
            GenerationError::Stopped | GenerationError::Nats(_) => JobError::Transient(detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
