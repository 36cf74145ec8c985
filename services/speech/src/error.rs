//! Every domain error → `tonic::Status` mapping of the speech API, in one place. Client mistakes get a
//! specific code and a message that helps fix the call; internal failures are logged here with their
//! detail and returned as an opaque `INTERNAL` or `UNAVAILABLE`.

use tonic::Status;

use crate::audio::AudioError;
use crate::model::UnknownLanguage;
use crate::transcriber::TranscribeError;

/// What went wrong handling a gRPC call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A malformed field (`INVALID_ARGUMENT`).
    #[error("{field}: {reason}")]
    InvalidField {
        /// The request field, as named in the .proto.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// No model is configured (`FAILED_PRECONDITION`).
    #[error("no whisper model is configured on this speech server (set WHISPER_MODEL or --model)")]
    NoModel,
    /// The input object is not in the media bucket (`NOT_FOUND`).
    #[error("input object {0:?} not found in the media bucket")]
    InputNotFound(String),
    /// No status for this job id (`NOT_FOUND`).
    #[error("job {0} not found")]
    JobNotFound(String),
    /// The work queue is full (`RESOURCE_EXHAUSTED`).
    #[error("the speech queue is full; try again later")]
    QueueFull,
    /// The inline audio could not be decoded (`INVALID_ARGUMENT`).
    #[error("audio: {0}")]
    Audio(#[from] AudioError),
    /// The language is unknown (`INVALID_ARGUMENT`).
    #[error(transparent)]
    Language(#[from] UnknownLanguage),
    /// NATS is unreachable or failing (`UNAVAILABLE`).
    #[error("NATS: {0}")]
    Nats(String),
    /// Transcription failed (`INTERNAL`, or `UNAVAILABLE` while shutting down).
    #[error(transparent)]
    Transcribe(#[from] TranscribeError),
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        match &error {
            ApiError::InvalidField { .. } | ApiError::Audio(_) | ApiError::Language(_) => {
                Status::invalid_argument(error.to_string())
            }
            ApiError::NoModel => Status::failed_precondition(error.to_string()),
            ApiError::InputNotFound(_) | ApiError::JobNotFound(_) => {
                Status::not_found(error.to_string())
            }
            ApiError::QueueFull => Status::resource_exhausted(error.to_string()),
            ApiError::Nats(detail) => {
                tracing::error!(%detail, "NATS call failed");
                Status::unavailable("the job queue is unavailable")
            }
            ApiError::Transcribe(TranscribeError::NoAudio) => {
                Status::invalid_argument(error.to_string())
            }
            ApiError::Transcribe(TranscribeError::Aborted) => {
                Status::unavailable("the server is shutting down")
            }
            ApiError::Transcribe(other) => {
                tracing::error!(error = %other, "transcription failed");
                Status::internal("internal error")
            }
        }
    }
}
