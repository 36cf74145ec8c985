//! Every error of the Jobs gRPC surface mapped to a `tonic::Status`, in one place (for every worker
//! service that mounts [`crate::grpc`]).
//!
//! | error | code |
//! |---|---|
//! | job id not a UUID, operation missing/invalid/run by another service, empty `input_key` (set for an operation without input), no context, chat or user | INVALID_ARGUMENT (+ BadRequest naming the field) |
//! | no input object, unknown or expired job id | NOT_FOUND |
//! | the operation is not available on this installation (no speech model) | FAILED_PRECONDITION |
//! | the work queue is full | RESOURCE_EXHAUSTED |
//! | NATS down or failing | UNAVAILABLE, opaque (logged) |

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::submit::{StatusError, SubmitError};

fn invalid_argument(field: &str, message: String) -> Status {
    Status::with_error_details(
        Code::InvalidArgument,
        message.clone(),
        ErrorDetails::with_bad_request_violation(field, message),
    )
}

impl From<SubmitError> for Status {
    fn from(error: SubmitError) -> Self {
        let message = error.to_string();
        match error {
            SubmitError::JobId(_) => invalid_argument("job_id", message),
            SubmitError::Operation(_) | SubmitError::WrongService { .. } => {
                invalid_argument("operation", message)
            }
            SubmitError::Field { field, .. } => invalid_argument(field, message),
            SubmitError::InputMissing { .. } => Status::not_found(message),
            SubmitError::NotAvailable(_) => Status::failed_precondition(message),
            SubmitError::QueueFull(_) => Status::resource_exhausted(message),
            SubmitError::Nats(cause) => {
                tracing::error!(%cause, "submitting a job failed");
                Status::unavailable("the job queue is unavailable")
            }
        }
    }
}

impl From<StatusError> for Status {
    fn from(error: StatusError) -> Self {
        let message = error.to_string();
        match error {
            StatusError::JobId(_) => invalid_argument("job_id", message),
            StatusError::NotFound(_) => Status::not_found(message),
            StatusError::Nats(cause) => {
                tracing::error!(%cause, "reading a job status failed");
                Status::unavailable("the job-status store is unavailable")
            }
        }
    }
}
