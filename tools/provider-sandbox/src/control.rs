//! The control API for tests and people, under `/sandbox/`: inject and clear faults, reset, read the
//! statistics. Bodies and answers are the types of [`crate::client`]; errors are `{"error": "<reason>"}`
//! with status 400.

use std::sync::Arc;

use axum::{
    Json,
    extract::{State, rejection::JsonRejection},
};
use serde_json::{Value, json};

use crate::{
    client::{ActiveFault, Fault, Stats},
    error::ControlError,
    state::Shared,
};

/// `POST /sandbox/faults` with a [`Fault`]: answers `{"id": n}`; 400 for a body that is not a fault.
pub async fn add_fault(
    State(shared): State<Arc<Shared>>,
    body: Result<Json<Fault>, JsonRejection>,
) -> Result<Json<Value>, ControlError> {
    let Json(fault) = body.map_err(|err| ControlError(err.body_text()))?;
    tracing::info!(target = %fault.target, kind = ?fault.kind, count = ?fault.count, "fault injected");
    let id = shared.lock().add_fault(fault)?;
    Ok(Json(json!({ "id": id })))
}

/// `GET /sandbox/faults`: the active faults, oldest first.
pub async fn faults(State(shared): State<Arc<Shared>>) -> Json<Vec<ActiveFault>> {
    Json(shared.lock().faults())
}

/// `DELETE /sandbox/faults`: answers `{"cleared": n}`.
pub async fn clear_faults(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let cleared = shared.lock().clear_faults();
    Json(json!({ "cleared": cleared }))
}

/// `POST /sandbox/reset`: clears faults, requests, files and stats; answers `{}`.
pub async fn reset(State(shared): State<Arc<Shared>>) -> Json<Value> {
    shared.lock().reset();
    tracing::info!("sandbox reset");
    Json(json!({}))
}

/// `GET /sandbox/stats`: [`Stats`].
pub async fn stats(State(shared): State<Arc<Shared>>) -> Json<Stats> {
    Json(shared.lock().stats())
}
