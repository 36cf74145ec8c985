//! Every error the sandbox answers with, in the shape of the API it came through: Fal's
//! `{"detail": "<text>"}` or `{"detail": [{"loc","msg","type"}]}` (FastAPI's validation shape), OpenAI's
//! `{"error": {"message","type","param","code"}}`, and the control API's `{"error": "<reason>"}`.

use axum::{
    Json,
    http::{HeaderName, HeaderValue, StatusCode, header::RETRY_AFTER},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::{Value, json};

/// The header by which Fal tells a client a failed request may be retried.
pub const FAL_RETRYABLE: HeaderName = HeaderName::from_static("x-fal-retryable");

/// One entry of a Fal (FastAPI) validation error: `{"loc":["body",<field>],"msg":..,"type":..}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Where: `["body"]` for the whole body, `["body", "<field>"]` for a field.
    pub loc: Vec<String>,
    /// For a person.
    pub msg: String,
    /// Machine-readable: `missing`, `string_type`, `value_error`, `content_policy_violation`, ...
    #[serde(rename = "type")]
    pub kind: String,
}

impl FieldError {
    /// An error of body field `field` (`None`: the whole body).
    pub fn new(field: Option<&str>, kind: &str, msg: impl Into<String>) -> Self {
        let mut loc = vec!["body".to_owned()];
        loc.extend(field.map(str::to_owned));
        Self {
            loc,
            msg: msg.into(),
            kind: kind.to_owned(),
        }
    }

    /// A required field that is absent or null: `{"msg":"field required","type":"missing"}`.
    pub fn missing(field: &str) -> Self {
        Self::new(Some(field), "missing", "field required")
    }
}

/// A Fal API error: the status and the JSON body, plus `X-Fal-Retryable: true` when `retryable`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status}: {body}")]
pub struct FalError {
    /// HTTP status.
    pub status: StatusCode,
    /// `{"detail": ...}`.
    pub body: Value,
    /// Whether to send `X-Fal-Retryable: true`.
    pub retryable: bool,
}

impl FalError {
    /// An error whose body is `{"detail": "<text>"}`.
    pub fn detail(status: StatusCode, text: &str) -> Self {
        Self {
            status,
            body: json!({ "detail": text }),
            retryable: false,
        }
    }

    /// 422 with a list of field errors.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({ "detail": errors }),
            retryable: false,
        }
    }

    /// 401: no `Authorization: Key …` header, or a key the sandbox does not accept.
    pub fn unauthorized(text: &str) -> Self {
        Self::detail(StatusCode::UNAUTHORIZED, text)
    }

    /// 404 for an unknown request id or path.
    pub fn not_found(text: &str) -> Self {
        Self::detail(StatusCode::NOT_FOUND, text)
    }

    /// 500 that a client may retry.
    pub fn retryable_server_error(text: &str) -> Self {
        Self {
            retryable: true,
            ..Self::detail(StatusCode::INTERNAL_SERVER_ERROR, text)
        }
    }
}

impl IntoResponse for FalError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if self.retryable {
            response
                .headers_mut()
                .insert(FAL_RETRYABLE, HeaderValue::from_static("true"));
        }
        response
    }
}

/// An OpenAI API error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct OpenAiError {
    /// HTTP status.
    pub status: StatusCode,
    /// OpenAI's `type`: `invalid_request_error`, `requests`, `server_error`.
    pub kind: &'static str,
    /// For the developer.
    pub message: String,
    /// The request parameter at fault, if one is.
    pub param: Option<&'static str>,
    /// Machine-readable code: `invalid_api_key`, `rate_limit_exceeded`, ...
    pub code: Option<&'static str>,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
}

impl OpenAiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            param: None,
            code: None,
            retry_after: None,
        }
    }

    /// 401 with code `invalid_api_key`.
    pub fn invalid_api_key(message: impl Into<String>) -> Self {
        Self {
            code: Some("invalid_api_key"),
            ..Self::new(StatusCode::UNAUTHORIZED, "invalid_request_error", message)
        }
    }

    /// 400 about a parameter (`None`: the body as a whole).
    pub fn invalid_request(param: Option<&'static str>, message: impl Into<String>) -> Self {
        Self {
            param,
            ..Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
        }
    }

    /// 429 `rate_limit_exceeded` with `Retry-After: 1`.
    pub fn rate_limited() -> Self {
        Self {
            code: Some("rate_limit_exceeded"),
            retry_after: Some(1),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "requests",
                "Rate limit reached for requests (provider-sandbox fault). Please try again in 1s.",
            )
        }
    }

    /// 500 `server_error`.
    pub fn server_error() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "The server had an error while processing your request. Sorry about that! \
             (provider-sandbox fault)",
        )
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A control API error: `{"error": "<reason>"}` with status 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ControlError(pub String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, Json(json!({ "error": self.0 }))).into_response()
    }
}
