//! Fal's queue API (`queue.fal.run`), as its public docs describe it: submit with
//! `POST /{model id}` and `Authorization: Key <key>`, then poll `GET /{owner}/{app}/requests/{id}/status`,
//! read `GET /{owner}/{app}/requests/{id}`, cancel with `PUT /{owner}/{app}/requests/{id}/cancel`. The
//! request URLs use only the model id's first two segments (owner and app), as Fal's do; a URL with the
//! subpath finds nothing. Generated images are served at `GET /files/{name}`.
//!
//! Cancelling follows Fal's documented behaviour: a queued request is taken out of the queue and never
//! runs, a running one is told to stop (here it always does). Either way the request ends as `COMPLETED`
//! with `error: "Request was cancelled"` and `error_type: "request_cancelled"`, and its result endpoint
//! answers 400 `{"detail":"Request was cancelled"}`, so a client polling it ends its loop.

pub mod input;
mod work;

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header::AUTHORIZATION, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    client::FaultKind,
    error::{FalError, FieldError},
    state::{CancelAnswer, NewRequest, Outcome, Phase, Shared, app_of, log_json},
};

/// Path segments that are not Fal model owners.
const RESERVED: [&str; 4] = ["sandbox", "v1", "files", "healthz"];

/// The key of a Fal call. Errors: 401 without `Authorization: Key <key>` or with a key not configured.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<String, FalError> {
    let header = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| {
            FalError::unauthorized("Missing authorization header: send 'Authorization: Key <key>'")
        })?;
    let key = header
        .strip_prefix("Key ")
        .ok_or_else(|| FalError::unauthorized("Authorization header must be 'Key <key>'"))?
        .trim();
    if shared.settings.fal_keys.iter().any(|known| known == key) {
        Ok(key.to_owned())
    } else {
        Err(FalError::unauthorized("Invalid key"))
    }
}

/// The URLs of request `id` of app `owner/app`.
fn urls(shared: &Shared, app: &str, id: Uuid) -> (String, String, String) {
    let response = format!("{}/{app}/requests/{id}", shared.settings.public_url);
    (
        format!("{response}/status"),
        format!("{response}/cancel"),
        response,
    )
}

/// `POST /{model id}`: validates the body, applies faults and the per-key cap, queues the request.
/// Answers 200 `{"request_id","response_url","status_url","cancel_url","queue_position"}`; 401, 422 (not
/// JSON, bad fields), 429 (cap or fault), 500 (fault).
pub async fn submit(
    shared: Arc<Shared>,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let model = path.trim_matches('/');
    let segments: Vec<&str> = model.split('/').collect();
    if segments.len() < 2
        || segments.iter().any(|segment| segment.is_empty())
        || RESERVED.contains(&segments[0])
    {
        return FalError::not_found("Not Found").into_response();
    }
    match queue(&shared, model, headers, body) {
        Ok(answer) => Json(answer).into_response(),
        Err(err) => {
            tracing::debug!(%model, status = %err.status, "submit refused");
            err.into_response()
        }
    }
}

fn queue(
    shared: &Arc<Shared>,
    model: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Value, FalError> {
    let key = authorize(shared, headers)?;
    let refused = |err: FalError| {
        shared.lock().count_refused(model);
        err
    };
    let input: Value = serde_json::from_slice(body).map_err(|err| {
        refused(FalError::validation(vec![FieldError::new(
            None,
            "json_invalid",
            format!("JSON decode error: {err}"),
        )]))
    })?;
    let job =
        input::parse(model, &input).map_err(|errors| refused(FalError::validation(errors)))?;

    let id = Uuid::new_v4();
    let cancel = shared.shutdown.child_token();
    let (fault, position) = {
        let mut state = shared.lock();
        let fault = state.take_fault(model);
        match fault.as_ref().map(|fault| fault.kind) {
            Some(FaultKind::RateLimit) => {
                state.count_429(model);
                return Err(FalError::detail(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Rate limit exceeded (provider-sandbox fault)",
                ));
            }
            Some(FaultKind::ServerError) => {
                state.count_refused(model);
                return Err(FalError::retryable_server_error(
                    "Internal server error (provider-sandbox fault)",
                ));
            }
            _ => {}
        }
        let request = NewRequest {
            model: model.to_owned(),
            key,
            input,
            cancel: cancel.clone(),
        };
        let position = state
            .submit(id, request, shared.settings.max_concurrent_per_key)
            .map_err(|_| {
                FalError::detail(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many concurrent requests for this key",
                )
            })?;
        (fault, position)
    };
    tracing::debug!(%id, %model, job = job.name(), fault = ?fault.as_ref().map(|f| f.kind), "request queued");
    tokio::spawn(work::run(
        Arc::clone(shared),
        id,
        model.to_owned(),
        job,
        fault,
        cancel,
    ));
    let app = app_of(model);
    let (status_url, cancel_url, response_url) = urls(shared, app, id);
    Ok(json!({
        "request_id": id.to_string(),
        "response_url": response_url,
        "status_url": status_url,
        "cancel_url": cancel_url,
        "queue_position": position,
    }))
}

/// Path parameters of the request endpoints.
type RequestPath = Path<(String, String, String)>;

fn find_id(id: &str) -> Result<Uuid, FalError> {
    Uuid::parse_str(id).map_err(|_| FalError::not_found("Request not found"))
}

/// `GET /{owner}/{app}/requests/{id}/status[?logs=1]`: `IN_QUEUE` with `queue_position`, `IN_PROGRESS`,
/// or `COMPLETED` (with `error` and `error_type` when it ended with an error). 401; 404 for an unknown id.
pub async fn status(
    State(shared): State<Arc<Shared>>,
    Path((owner, app, id)): RequestPath,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<Value>, FalError> {
    authorize(&shared, &headers)?;
    let id = find_id(&id)?;
    let app = format!("{owner}/{app}");
    let with_logs = query
        .get("logs")
        .is_some_and(|value| value == "1" || value == "true");
    let state = shared.lock();
    let request = state
        .request(&app, id)
        .ok_or_else(|| FalError::not_found("Request not found"))?;
    let (status_url, cancel_url, response_url) = urls(&shared, &app, id);
    let mut body = json!({
        "request_id": id.to_string(),
        "response_url": response_url,
        "status_url": status_url,
        "cancel_url": cancel_url,
    });
    let logs = || -> Value {
        if with_logs {
            request.logs.iter().map(log_json).collect()
        } else {
            Value::Null
        }
    };
    match &request.phase {
        Phase::InQueue => {
            body["status"] = json!("IN_QUEUE");
            body["queue_position"] = json!(state.queued_before(&request.key, request.seq));
        }
        Phase::InProgress => {
            body["status"] = json!("IN_PROGRESS");
            body["logs"] = logs();
        }
        Phase::Completed(outcome) => {
            body["status"] = json!("COMPLETED");
            body["logs"] = logs();
            match outcome {
                Outcome::Result(_) => {}
                Outcome::Failed {
                    message,
                    error_type,
                    ..
                } => {
                    body["error"] = json!(message);
                    body["error_type"] = json!(error_type);
                }
                Outcome::Cancelled => {
                    body["error"] = json!("Request was cancelled");
                    body["error_type"] = json!("request_cancelled");
                }
            }
        }
    }
    Ok(Json(body))
}

/// `GET /{owner}/{app}/requests/{id}`: the model's result once completed; 400 `{"detail":"Request is
/// still in progress"}` before; the error's own status and body for a request that failed; 401; 404.
pub async fn result(
    State(shared): State<Arc<Shared>>,
    Path((owner, app, id)): RequestPath,
    headers: HeaderMap,
) -> Result<Json<Value>, FalError> {
    authorize(&shared, &headers)?;
    let id = find_id(&id)?;
    let state = shared.lock();
    let request = state
        .request(&format!("{owner}/{app}"), id)
        .ok_or_else(|| FalError::not_found("Request not found"))?;
    match &request.phase {
        Phase::InQueue | Phase::InProgress => Err(FalError::detail(
            StatusCode::BAD_REQUEST,
            "Request is still in progress",
        )),
        Phase::Completed(Outcome::Result(result)) => Ok(Json(result.clone())),
        Phase::Completed(Outcome::Failed { error, .. }) => Err(error.clone()),
        Phase::Completed(Outcome::Cancelled) => Err(FalError::detail(
            StatusCode::BAD_REQUEST,
            "Request was cancelled",
        )),
    }
}

/// `PUT /{owner}/{app}/requests/{id}/cancel`: 202 `{"status":"CANCELLATION_REQUESTED"}` for a queued or
/// running request, 400 `{"status":"ALREADY_COMPLETED"}`, 404 `{"status":"NOT_FOUND"}`; 401.
pub async fn cancel(
    State(shared): State<Arc<Shared>>,
    Path((owner, app, id)): RequestPath,
    headers: HeaderMap,
) -> Result<Response, FalError> {
    authorize(&shared, &headers)?;
    let answer = match Uuid::parse_str(&id) {
        Ok(id) => shared.lock().cancel(&format!("{owner}/{app}"), id),
        Err(_) => CancelAnswer::NotFound,
    };
    tracing::debug!(%id, ?answer, "cancel");
    let (status, text) = match answer {
        CancelAnswer::Cancelled => (StatusCode::ACCEPTED, "CANCELLATION_REQUESTED"),
        CancelAnswer::AlreadyCompleted => (StatusCode::BAD_REQUEST, "ALREADY_COMPLETED"),
        CancelAnswer::NotFound => (StatusCode::NOT_FOUND, "NOT_FOUND"),
    };
    Ok((status, Json(json!({ "status": text }))).into_response())
}

/// `GET /files/{name}`: a generated image with its MIME type; 404 `{"detail":"Not Found"}`. No key needed,
/// as with Fal's CDN URLs.
pub async fn file(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    match shared.lock().file(&name) {
        Some(file) => ([(CONTENT_TYPE, file.content_type)], file.bytes).into_response(),
        None => FalError::not_found("Not Found").into_response(),
    }
}
