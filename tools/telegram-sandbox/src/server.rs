//! HTTP routing: the control API under `/sandbox/`, and everything else read as Telegram reads it:
//! `/bot<token>/<method>` for Bot API calls and `/file/bot<token>/<file_path>` for downloads. Paths are matched
//! by hand because the token is glued to the `bot` prefix inside one path segment.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Request, State},
    http::header::CONTENT_TYPE,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use percent_encoding::percent_decode_str;
use serde_json::json;

use crate::{
    bot_api::{self, MAX_DOWNLOAD},
    control,
    error::ApiError,
    params::Params,
    state::Shared,
    web,
};

/// Largest request body: big enough for a user document over the 20 MB getFile limit and a bot upload up to
/// the 50 MB limit (which is then answered with 413 by the Bot API itself).
const MAX_BODY: usize = 100 * 1024 * 1024;

/// The sandbox's HTTP service.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(web::index))
        .route("/app.js", get(web::app_js))
        .route("/style.css", get(web::style_css))
        .route(
            "/sandbox/chats/{chat_id}/messages",
            post(control::send_message).get(control::history),
        )
        .route(
            "/sandbox/chats/{chat_id}/callback",
            post(control::press_button),
        )
        .route("/sandbox/chats/{chat_id}/commands", get(control::commands))
        .route("/sandbox/chats/{chat_id}/keyboard", get(control::keyboard))
        .route("/sandbox/chats/{chat_id}/replay", post(control::replay))
        .route("/sandbox/files/{file_id}", get(control::file))
        .route("/sandbox/bots", get(control::bots))
        .route(
            "/sandbox/faults",
            post(control::add_fault).delete(control::clear_faults),
        )
        .route(
            "/sandbox/privacy",
            get(control::privacy)
                .put(control::set_privacy)
                .post(control::set_privacy),
        )
        .route(
            "/sandbox/flood-control",
            get(control::flood_control).put(control::set_flood_control),
        )
        .fallback(telegram)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}

fn decode(raw: &str) -> String {
    percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

async fn telegram(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if let Some(rest) = path.strip_prefix("/file/bot") {
        return download(&shared, rest).unwrap_or_else(IntoResponse::into_response);
    }
    let Some((token, method)) = path
        .strip_prefix("/bot")
        .and_then(|rest| rest.split_once('/'))
    else {
        return ApiError::not_found().into_response();
    };
    let token = decode(token);
    if method.is_empty() || method.contains('/') {
        return ApiError::not_found().into_response();
    }
    if let Err(err) = shared.authorize(&token) {
        return err.into_response();
    }
    let method = method.to_owned();
    let params = match Params::from_request(req).await {
        Ok(params) => params,
        Err(err) => return err.into_response(),
    };
    let chat_id = params.chat_id().ok();
    match bot_api::call(&shared, &token, &method, params).await {
        Ok(result) => {
            tracing::debug!(%method, "bot api call");
            Json(json!({ "ok": true, "result": result })).into_response()
        }
        Err(err) => {
            tracing::info!(%method, error = %err.description, "bot api call refused");
            if let Some(chat_id) = chat_id {
                bot_api::record_error(&shared, &token, chat_id, &method, &err);
            }
            err.into_response()
        }
    }
}

fn download(shared: &Shared, rest: &str) -> Result<Response, ApiError> {
    let (token, file_path) = rest.split_once('/').ok_or_else(ApiError::not_found)?;
    shared.authorize(&decode(token))?;
    let file = shared
        .lock()
        .file_by_path(&decode(file_path))
        .ok_or_else(ApiError::not_found)?;
    if file.bytes.len() > MAX_DOWNLOAD {
        return Err(ApiError::bad_request("file is too big"));
    }
    Ok(([(CONTENT_TYPE, file.mime_type.clone())], file.bytes.clone()).into_response())
}
