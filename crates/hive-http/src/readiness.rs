//! Readiness: whether the backends the API needs answer (`GET /readyz`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::Problem;

/// The state of one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Working.
    Up,
    /// Working, but not as it should (e.g. a cache down while the store answers): still ready.
    Degraded(String),
    /// Not working: the service is not ready.
    Down(String),
}

impl Readiness {
    fn status(&self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Degraded(_) => "degraded",
            Self::Down(_) => "down",
        }
    }

    fn detail(&self) -> Option<&str> {
        match self {
            Self::Up => None,
            Self::Degraded(detail) | Self::Down(detail) => Some(detail),
        }
    }
}

/// One check run by `GET /readyz` (a store, an index, a cache…), implemented by the
/// composition root over its adapters.
///
/// ```
/// use async_trait::async_trait;
/// use hive_http::{Readiness, ReadinessCheck};
///
/// struct AlwaysUp;
///
/// #[async_trait]
/// impl ReadinessCheck for AlwaysUp {
///     fn name(&self) -> &str {
///         "always-up"
///     }
///     async fn check(&self) -> Readiness {
///         Readiness::Up
///     }
/// }
/// ```
#[async_trait]
pub trait ReadinessCheck: Send + Sync {
    /// The key of this check in the answer.
    fn name(&self) -> &str;
    /// Probes the backend.
    async fn check(&self) -> Readiness;
    /// What answers (product and version, e.g. `opensearch 2.19.6`), listed as `backend` in
    /// the answer; `None` (the default) leaves it out.
    fn backend(&self) -> Option<String> {
        None
    }
}

/// Longest time one check may take before it counts as down.
pub const READINESS_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs every check concurrently (each bounded by [`READINESS_CHECK_TIMEOUT`]): `200 {"status": "ready" | "degraded", "checks": {...}}` when
/// none is down, else a `503` problem (code `not_ready`) that lists the same checks.
pub(crate) async fn report(checks: &[Arc<dyn ReadinessCheck>]) -> Response {
    let results = futures::future::join_all(checks.iter().map(|check| async move {
        let outcome = tokio::time::timeout(READINESS_CHECK_TIMEOUT, check.check())
            .await
            .unwrap_or_else(|_| Readiness::Down(format!("no answer within {READINESS_CHECK_TIMEOUT:?}")));
        (check.name().to_owned(), outcome, check.backend())
    }))
    .await;
    let down: Vec<&str> = results
        .iter()
        .filter(|(_, outcome, _)| matches!(outcome, Readiness::Down(_)))
        .map(|(name, _, _)| name.as_str())
        .collect();
    let degraded = results.iter().any(|(_, o, _)| matches!(o, Readiness::Degraded(_)));
    let listed: BTreeMap<&str, Value> = results
        .iter()
        .map(|(name, outcome, backend)| {
            let mut entry = json!({ "status": outcome.status(), "detail": outcome.detail() });
            if let Some(backend) = backend {
                entry["backend"] = json!(backend);
            }
            (name.as_str(), entry)
        })
        .collect();
    if !down.is_empty() {
        let detail = format!("not ready: {} down", down.join(", "));
        let problem = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", detail).with("checks", json!(listed));
        return problem.into_response();
    }
    let status = if degraded { "degraded" } else { "ready" };
    Json(json!({ "status": status, "checks": listed })).into_response()
}
