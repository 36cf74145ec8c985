//! Every domain error → `tonic::Status` mapping of the billing service, in one place.
//!
//! | error | code |
//! |---|---|
//! | bad request field (job id not a UUID, operation missing or with bad parameters), no price for the operation, capture above the hold | INVALID_ARGUMENT (+ BadRequest) |
//! | not enough money | FAILED_PRECONDITION (+ ErrorInfo `INSUFFICIENT_FUNDS` with `price_minor`, `available_minor`, `shortfall_minor`, `currency`, and a PreconditionFailure) |
//! | capture of a released/expired hold, release of a captured one | FAILED_PRECONDITION (+ ErrorInfo `HOLD_SETTLED`, `state`) |
//! | unknown job id | NOT_FOUND |
//! | job id / idempotency key reused with other content | ALREADY_EXISTS |
//! | database down, connection lost, pool timed out, busy (see [`is_unavailable`]) | UNAVAILABLE (logged) |
//! | anything else | INTERNAL, opaque (logged) |

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::domain::InvalidInput;
use crate::ledger;

/// The `domain` of every `google.rpc.ErrorInfo` this service returns.
pub const ERROR_DOMAIN: &str = "billing.mediabot";

impl From<InvalidInput> for Status {
    fn from(error: InvalidInput) -> Self {
        Status::with_error_details(
            Code::InvalidArgument,
            error.to_string(),
            ErrorDetails::with_bad_request_violation(error.field, error.reason),
        )
    }
}

impl From<ledger::Error> for Status {
    fn from(error: ledger::Error) -> Self {
        use ledger::Error as E;
        let message = error.to_string();
        match error {
            E::NoPrice { .. } => Status::with_error_details(
                Code::InvalidArgument,
                message.clone(),
                ErrorDetails::with_bad_request_violation("operation", message),
            ),
            E::CaptureExceedsHold { .. } => Status::with_error_details(
                Code::InvalidArgument,
                message.clone(),
                ErrorDetails::with_bad_request_violation("amount_minor", message),
            ),
            E::InsufficientFunds {
                price_minor,
                available_minor,
                currency,
            } => {
                let metadata = HashMap::from([
                    ("price_minor".to_string(), price_minor.to_string()),
                    ("available_minor".to_string(), available_minor.to_string()),
                    (
                        "shortfall_minor".to_string(),
                        (price_minor - available_minor).max(0).to_string(),
                    ),
                    ("currency".to_string(), currency),
                ]);
                let mut details =
                    ErrorDetails::with_error_info("INSUFFICIENT_FUNDS", ERROR_DOMAIN, metadata);
                details.add_precondition_failure_violation(
                    "INSUFFICIENT_FUNDS",
                    "account",
                    message.clone(),
                );
                Status::with_error_details(Code::FailedPrecondition, message, details)
            }
            E::HoldSettled { state, .. } => {
                let metadata = HashMap::from([("state".to_string(), state.to_string())]);
                Status::with_error_details(
                    Code::FailedPrecondition,
                    message,
                    ErrorDetails::with_error_info("HOLD_SETTLED", ERROR_DOMAIN, metadata),
                )
            }
            E::HoldNotFound { .. } => Status::not_found(message),
            E::HoldConflict { .. } | E::CaptureConflict { .. } | E::TopUpConflict { .. } => {
                Status::already_exists(message)
            }
            E::Database(ref source) if is_unavailable(source) => {
                tracing::error!(%error, "database unavailable");
                Status::unavailable("the billing database is unavailable; retry later")
            }
            E::Database(_) | E::Inconsistent(_) => {
                tracing::error!(%error, "internal error");
                Status::internal("internal error")
            }
        }
    }
}

/// True for failures that go away by themselves: the connection is lost or cannot be made (I/O, a
/// broken protocol stream, the pool timing out or closing), the database is busy or shutting down.
///
/// Codes: SQLite `SQLITE_BUSY` (5) and `SQLITE_LOCKED` (6); PostgreSQL class 08 (connection exception),
/// class 57P (operator intervention: `57P01` admin shutdown after `pg_terminate_backend`, `57P03` cannot
/// connect now), `53300` too many connections, and `55000` object not in prerequisite state, which is
/// what a database with `ALLOW_CONNECTIONS false` answers to a new connection.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => true,
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or_default();
            matches!(code, "5" | "6" | "53300" | "55000")
                || code.starts_with("08")
                || code.starts_with("57P")
        }
        _ => false,
    }
}
