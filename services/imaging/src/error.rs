//! Every image error mapped to what happens to the job, in one place: the user's input (corrupt,
//! unsupported, too large) fails at once with its reason; a failure of our own code (resampling, encoding)
//! is internal. Imaging has no other error surface: its gRPC service is the job pipeline's Jobs service,
//! whose status codes are mapped in `job_pipeline::error`.

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
