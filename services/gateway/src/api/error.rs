//! Errors of the HTTP API in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, with the
//! status codes OpenAI's client libraries act on: 401 `invalid_api_key`, 400 `invalid_request_error`,
//! 413 for a file over the limit, 429 `insufficient_quota` (with `x-should-retry: false`, so the official
//! clients do not retry it), 404 for an unknown job, 503 when a backend is down, 500 otherwise. Every
//! mapping from a domain failure to a status lives here.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use mediabot_proto::jobs::v1::FailureReason;
use serde_json::json;

/// A request the API refuses or could not serve.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// OpenAI's `type`: `invalid_request_error`, `insufficient_quota`, `server_error`.
    pub kind: &'static str,
    /// What went wrong, in English, for the developer.
    pub message: String,
    /// The request parameter at fault, if one is.
    pub param: Option<&'static str>,
    /// A stable machine-readable code (`invalid_api_key`, `insufficient_quota`, `corrupt_audio`, ...).
    pub code: Option<&'static str>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            param: None,
            code: None,
        }
    }

    fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    /// 401: no `Authorization: Bearer …` header, or a key billing does not know (or revoked).
    pub fn invalid_api_key(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_request_error", message)
            .code("invalid_api_key")
    }

    /// 400: a missing or bad parameter.
    pub fn invalid_param(param: &'static str, message: impl Into<String>) -> Self {
        Self {
            param: Some(param),
            ..Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
        }
    }

    /// 413: the file (or the whole body) is over the limit.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self {
            param: Some("file"),
            ..Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                message,
            )
        }
        .code("file_too_large")
    }

    /// 429: the account cannot pay for the request.
    pub fn insufficient_quota(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "insufficient_quota", message)
            .code("insufficient_quota")
    }

    /// 404: no such job for this key.
    pub fn job_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("no job {id:?} for this API key"),
        )
        .code("job_not_found")
    }

    /// 503: a backend (billing, speech, NATS) is down or speech is not set up; nothing was charged.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "server_error", message).code("unavailable")
    }

    /// 500: our fault; the details are in the gateway's log.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the server had an error processing the request; nothing was charged",
        )
    }

    /// 504: a synchronous request outlived its wait; the job goes on and is fetched by its id.
    pub fn still_running(job_id: &str) -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "server_error",
            format!("the transcription is still running; fetch it with GET /v1/jobs/{job_id}"),
        )
        .code("still_running")
    }

    /// A failed job, as a client error where the file is at fault (the hold was released: no charge).
    pub fn job_failed(reason: FailureReason, max_audio_secs: u32) -> Self {
        let bad_file = |code: &'static str, message: String| Self {
            param: Some("file"),
            ..Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message).code(code)
        };
        match reason {
            FailureReason::CorruptInput => bad_file(
                "corrupt_audio",
                "the file could not be decoded as audio (corrupt, truncated or empty); nothing was charged"
                    .into(),
            ),
            FailureReason::UnsupportedFormat => bad_file(
                "unsupported_format",
                "unsupported file format; send OGG/Opus, MP3, M4A/AAC, WAV, FLAC, Vorbis, MP4/MOV, MKV/WebM; \
                 nothing was charged"
                    .into(),
            ),
            FailureReason::NoSpeech => bad_file(
                "no_speech",
                "no speech was found in the audio; nothing was charged".into(),
            ),
            FailureReason::TooLarge => bad_file(
                "audio_too_long",
                format!(
                    "the audio is longer than this request may transcribe (at most {} min, and no longer \
                     than the balance pays for); nothing was charged",
                    max_audio_secs / 60
                ),
            ),
            // Reasons of the documents and generation services: a transcription never fails with them.
            FailureReason::Unspecified
            | FailureReason::InputMissing
            | FailureReason::Internal
            | FailureReason::WorkerLost
            | FailureReason::NoText
            | FailureReason::Encrypted
            | FailureReason::Rejected
            | FailureReason::ProviderFailed
            | FailureReason::Cancelled => Self::internal(),
        }
    }

    /// The body, `{"error": {...}}`.
    pub fn body(&self) -> serde_json::Value {
        json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            // No money does not come back by retrying; OpenAI's clients honour this header.
            response
                .headers_mut()
                .insert("x-should-retry", HeaderValue::from_static("false"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_openai_shape() {
        let body = ApiError::invalid_api_key("bad key").body();
        assert_eq!(body["error"]["code"], "invalid_api_key");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert!(body["error"]["param"].is_null());
        let quota = ApiError::insufficient_quota("no money").into_response();
        assert_eq!(quota.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            quota.headers().get("x-should-retry").map(|v| v.as_bytes()),
            Some(&b"false"[..])
        );
        let corrupt = ApiError::job_failed(FailureReason::CorruptInput, 3600);
        assert_eq!(corrupt.status, StatusCode::BAD_REQUEST);
        assert_eq!(corrupt.param, Some("file"));
    }
}
