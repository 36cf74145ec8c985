//! Every error mapping of the speech service, in one place:
//!
//! - the inline `Speech/Transcribe` call: [`ApiError`] → `tonic::Status`. Client mistakes get a specific
//!   code and a message that helps fix the call; internal failures are logged here with their detail and
//!   returned as an opaque `INTERNAL` or `UNAVAILABLE`;
//! - transcription jobs: audio and whisper errors → [`JobError`] (the user's input fails at once with its
//!   reason; a whisper failure is transient and retried). The Jobs gRPC service's codes are mapped in
//!   `job_pipeline::error`.

use job_pipeline::JobError;
use mediabot_proto::jobs::v1::FailureReason;
use tonic::Status;

use crate::audio::AudioError;
use crate::model::UnknownLanguage;
use crate::transcriber::TranscribeError;

/// What went wrong handling a `Transcribe` call.
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
    #[error("{NO_MODEL}")]
    NoModel,
    /// The inline audio could not be decoded (`INVALID_ARGUMENT`).
    #[error("audio: {0}")]
    Audio(#[from] AudioError),
    /// The language is unknown (`INVALID_ARGUMENT`).
    #[error(transparent)]
    Language(#[from] UnknownLanguage),
    /// Transcription failed (`INTERNAL`, or `UNAVAILABLE` while shutting down).
    #[error(transparent)]
    Transcribe(#[from] TranscribeError),
}

/// Why transcription is unavailable without a model, and how to fix it: the answer to `Transcribe` and to
/// `Jobs/SubmitJob` (FAILED_PRECONDITION).
pub const NO_MODEL: &str =
    "no whisper model is configured on this speech server (set WHISPER_MODEL or --model)";

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        match &error {
            ApiError::InvalidField { .. } | ApiError::Audio(_) | ApiError::Language(_) => {
                Status::invalid_argument(error.to_string())
            }
            ApiError::NoModel => Status::failed_precondition(error.to_string()),
            ApiError::Transcribe(TranscribeError::NoAudio | TranscribeError::NoSpeech) => {
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

impl From<AudioError> for JobError {
    fn from(error: AudioError) -> Self {
        let reason = match error {
            AudioError::Corrupt(_) => FailureReason::CorruptInput,
            AudioError::Unsupported(_) => FailureReason::UnsupportedFormat,
            AudioError::TooLong { .. } => FailureReason::TooLarge,
            AudioError::NoAudioTrack { .. } => FailureReason::NoSpeech,
        };
        JobError::input(reason, error.to_string())
    }
}

impl From<TranscribeError> for JobError {
    fn from(error: TranscribeError) -> Self {
        match error {
            TranscribeError::NoAudio => {
                JobError::input(FailureReason::CorruptInput, error.to_string())
            }
            TranscribeError::NoSpeech => {
                JobError::input(FailureReason::NoSpeech, error.to_string())
            }
            // Aborted by shutdown: the pipeline leaves the job for redelivery. whisper or thread
            // failures may pass (memory pressure); retried, then INTERNAL on the last run.
            TranscribeError::Aborted | TranscribeError::Whisper(_) | TranscribeError::Thread(_) => {
                JobError::Transient(error.to_string())
            }
        }
    }
}
