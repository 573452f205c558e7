//! Operations routes (no token): health, readiness, metrics, the OpenAPI document; and the
//! answer to an unknown route.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::{openapi, readiness, ApiState, Problem};

/// `GET /healthz`: the process is up.
pub(super) async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: every readiness check.
pub(super) async fn readyz(State(state): State<Arc<ApiState>>) -> Response {
    readiness::report(&state.readiness).await
}

/// `GET /metrics`: Prometheus text.
pub(super) async fn metrics(State(state): State<Arc<ApiState>>) -> Response {
    state.metrics.observe(&state);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// `GET /openapi.json`.
pub(super) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], openapi::document_json()).into_response()
}

/// Any path no route matches.
pub(super) async fn route_not_found() -> Problem {
    Problem::for_status(StatusCode::NOT_FOUND)
}
