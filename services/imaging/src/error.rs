//! Every domain error of the gRPC surface mapped to a `tonic::Status`, in one place. Client mistakes get
//! their standard code and a message that names the field; infrastructure problems are logged here with
//! their cause and returned without it.

use tonic::Status;

use crate::jobs::{StatusError, SubmitError, ValidationError};

impl From<ValidationError> for Status {
    fn from(error: ValidationError) -> Self {
        Status::invalid_argument(error.to_string())
    }
}

impl From<SubmitError> for Status {
    fn from(error: SubmitError) -> Self {
        match error {
            SubmitError::InputMissing { .. } => Status::not_found(error.to_string()),
            SubmitError::InvalidKey { .. } => Status::invalid_argument(error.to_string()),
            SubmitError::QueueFull => {
                Status::resource_exhausted("the imaging queue is full; try again later")
            }
            SubmitError::Unavailable(cause) => {
                tracing::error!(%cause, "submitting an image job failed");
                Status::unavailable("the job queue is unavailable")
            }
        }
    }
}

impl From<StatusError> for Status {
    fn from(error: StatusError) -> Self {
        match error {
            StatusError::NotFound(_) => Status::not_found(error.to_string()),
            StatusError::Unavailable(cause) => {
                tracing::error!(%cause, "reading a job status failed");
                Status::unavailable("the job-status store is unavailable")
            }
        }
    }
}
