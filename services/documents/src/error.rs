//! Every extraction error mapped to what happens to the job, in one place: the user's file (corrupt,
//! encrypted, unsupported, binary, too large, without text) fails at once with its reason, so nothing is
//! charged; a Tesseract failure is ours and internal. The service's gRPC surface is the job pipeline's
//! Jobs service, whose status codes are mapped in `job_pipeline::error`.

use job_pipeline::JobError;
use mediabot_proto::jobs::v1::FailureReason;

use crate::extract::ExtractError;

impl From<ExtractError> for JobError {
    fn from(error: ExtractError) -> Self {
        match error.reason() {
            FailureReason::Internal => JobError::Internal(error.to_string()),
            reason => JobError::input(reason, error.to_string()),
        }
    }
}
