//! Every image error mapped to what happens to the job, in one place: the user's input (corrupt,
//! unsupported, too large) fails at once with its reason; a failure of our own code (resampling, encoding)
//! is internal. On imaging's own gRPC service (`Describe`) the user's input is INVALID_ARGUMENT and the
//! rest INTERNAL; the job pipeline's Jobs service maps its status codes in `job_pipeline::error`.

use job_pipeline::JobError;
use mediabot_proto::jobs::v1::FailureReason;

use crate::pipeline::ImageError;

impl From<ImageError> for JobError {
    fn from(error: ImageError) -> Self {
        match error.reason() {
            FailureReason::Internal => JobError::Internal(error.to_string()),
            reason => JobError::input(reason, error.to_string()),
        }
    }
}

impl From<ImageError> for tonic::Status {
    fn from(error: ImageError) -> Self {
        match error.reason() {
            FailureReason::Internal => tonic::Status::internal(error.to_string()),
            _ => tonic::Status::invalid_argument(error.to_string()),
        }
    }
}
