//! Errors of both faces of the sandbox: Bot API errors in Telegram's own shape and wording (client libraries
//! match on the description text), and control API errors as a plain JSON reason.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// A Bot API error, answered as `{"ok":false,"error_code":..,"description":..,"parameters":{..}}` with the
/// HTTP status equal to `error_code`, as Telegram does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {description}")]
pub struct ApiError {
    /// HTTP status and `error_code`.
    pub status: StatusCode,
    /// Telegram's description text, e.g. `Bad Request: message is too long`.
    pub description: String,
    /// Seconds to wait before retrying (`parameters.retry_after`), for 429.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// A 400 whose description is `Bad Request: <text>`.
    pub fn bad_request(text: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::BAD_REQUEST, format!("Bad Request: {text}"))
    }

    /// An error with any status and the exact description given.
    pub fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Self {
            status,
            description: description.into(),
            retry_after: None,
        }
    }

    /// 401 for a token the sandbox does not accept.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized")
    }

    /// 404 for an unknown method or file.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not Found")
    }

    /// 409, e.g. getUpdates while a webhook is set.
    pub fn conflict(text: &str) -> Self {
        Self::new(StatusCode::CONFLICT, format!("Conflict: {text}"))
    }

    /// 413 for an upload over the bot upload limit.
    pub fn too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large")
    }

    /// 429 with `parameters.retry_after` in seconds.
    pub fn too_many_requests(retry_after: u64) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            description: format!("Too Many Requests: retry after {retry_after}"),
            retry_after: Some(retry_after),
        }
    }

    /// The JSON body Telegram sends for this error.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "ok": false,
            "error_code": self.status.as_u16(),
            "description": self.description,
        });
        if let Some(retry_after) = self.retry_after {
            body["parameters"] = json!({ "retry_after": retry_after });
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// An error of the control API: `{"ok":false,"error":"<reason>"}` with a 4xx status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {reason}")]
pub struct ControlError {
    /// HTTP status (400 for a bad request, 404 for something that does not exist).
    pub status: StatusCode,
    /// What was wrong, for a person to read.
    pub reason: String,
}

impl ControlError {
    /// 400 with a reason.
    pub fn bad_request(reason: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            reason: reason.into(),
        }
    }

    /// 404 with a reason.
    pub fn not_found(reason: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            reason: reason.into(),
        }
    }
}

impl From<ApiError> for ControlError {
    fn from(err: ApiError) -> Self {
        Self {
            status: err.status,
            reason: err.description,
        }
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "ok": false, "error": self.reason })),
        )
            .into_response()
    }
}
