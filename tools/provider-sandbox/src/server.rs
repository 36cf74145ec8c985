//! HTTP routing. Fal's submit path is the whole model id, of any depth (`/fal-ai/flux/dev`), so submits are
//! taken by the fallback; the request endpoints have a fixed shape (`/{owner}/{app}/requests/{id}…`) and
//! are routed normally, as are chat completions, files, the control API and `/healthz`.

use std::{sync::Arc, time::Instant};

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderMap, Method, Uri},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post, put},
};

use crate::{chat, control, error::FalError, fal, state::Shared};

/// Largest request body: edits carry up to four images as `data:` URIs.
const MAX_BODY: usize = 100 * 1024 * 1024;

/// The sandbox's HTTP service.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/chat/completions", post(chat::completions))
        .route("/files/{name}", get(fal::file))
        .route("/{owner}/{app}/requests/{id}", get(fal::result))
        .route("/{owner}/{app}/requests/{id}/status", get(fal::status))
        .route("/{owner}/{app}/requests/{id}/cancel", put(fal::cancel))
        .route(
            "/sandbox/faults",
            post(control::add_fault)
                .get(control::faults)
                .delete(control::clear_faults),
        )
        .route("/sandbox/reset", post(control::reset))
        .route("/sandbox/stats", get(control::stats))
        .fallback(fallback)
        .layer(middleware::from_fn(log_request))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}

/// Fal submits (`POST /{model id}`); anything else is 404.
async fn fallback(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method == Method::POST {
        return fal::submit(shared, uri.path(), &headers, &body).await;
    }
    FalError::not_found("Not Found").into_response()
}

/// Logs every request at debug level: method, path, status, milliseconds.
async fn log_request(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::debug!(
        %method,
        %path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "http request"
    );
    response
}
