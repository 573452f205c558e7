//! The route table, and the router built from it.

mod commands;
mod events;
mod ops;
mod payments;

use axum::http::Method;
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use hive_application::Query;
use serde::Serialize;

use crate::auth::Caller;
use crate::problem::rename_fields;
use crate::{layers, ApiState, HttpConfig, Problem};

/// Every route the API serves, as (method, path template). The router is built from this table
/// and `GET /openapi.json` documents exactly these operations (a test checks both).
pub const ROUTES: &[(Method, &str)] = &[
    (Method::POST, "/payments"),
    (Method::GET, "/payments"),
    (Method::GET, "/payments/search"),
    (Method::GET, "/payments/suggestions"),
    (Method::GET, "/payments/statistics"),
    (Method::GET, "/payments/trends"),
    (Method::GET, "/payments/{id}"),
    (Method::POST, "/payments/{id}/process"),
    (Method::POST, "/payments/{id}/fail"),
    (Method::POST, "/payments/{id}/refund"),
    (Method::GET, "/payments/{id}/history"),
    (Method::GET, "/payments/{id}/replay"),
    (Method::GET, "/events/search"),
    (Method::GET, "/events/timeline/{correlationId}"),
    (Method::GET, "/events/statistics"),
    (Method::GET, "/events/trends"),
    (Method::GET, "/events/heatmap"),
    (Method::GET, "/events/correlations/{correlationId}"),
    (Method::GET, "/healthz"),
    (Method::GET, "/readyz"),
    (Method::GET, "/metrics"),
    (Method::GET, "/openapi.json"),
];

/// The routes that answer without a bearer token.
pub const PUBLIC_ROUTES: &[&str] = &["/healthz", "/readyz", "/metrics", "/openapi.json"];

/// The handler of one entry of [`ROUTES`].
fn endpoint(method: &Method, path: &str) -> Option<MethodRouter<ApiState>> {
    let endpoint = match (method.as_str(), path) {
        ("POST", "/payments") => post(commands::create),
        ("GET", "/payments") => get(payments::list),
        ("GET", "/payments/search") => get(payments::search),
        ("GET", "/payments/suggestions") => get(payments::suggestions),
        ("GET", "/payments/statistics") => get(payments::statistics),
        ("GET", "/payments/trends") => get(payments::trends),
        ("GET", "/payments/{id}") => get(payments::by_id),
        ("POST", "/payments/{id}/process") => post(commands::process),
        ("POST", "/payments/{id}/fail") => post(commands::fail),
        ("POST", "/payments/{id}/refund") => post(commands::refund),
        ("GET", "/payments/{id}/history") => get(payments::history),
        ("GET", "/payments/{id}/replay") => get(payments::replay),
        ("GET", "/events/search") => get(events::search),
        ("GET", "/events/timeline/{correlationId}") => get(events::timeline),
        ("GET", "/events/statistics") => get(events::statistics),
        ("GET", "/events/trends") => get(events::trends),
        ("GET", "/events/heatmap") => get(events::heatmap),
        ("GET", "/events/correlations/{correlationId}") => get(events::correlations),
        ("GET", "/healthz") => get(ops::healthz),
        ("GET", "/readyz") => get(ops::readyz),
        ("GET", "/metrics") => get(ops::metrics),
        ("GET", "/openapi.json") => get(ops::openapi),
        _ => return None,
    };
    Some(endpoint)
}

/// The API: every route of [`ROUTES`] over `state`'s buses, behind the layers (correlation id,
/// tracing, metrics, problem+json errors, panic catching, `config`'s timeout and body limit).
///
/// ```
/// use hive_application::{CommandBus, QueryBus};
/// use hive_http::{router, ApiState, HttpConfig, Metrics, TokenRegistry};
///
/// let state = ApiState {
///     commands: CommandBus::builder().build(),
///     queries: QueryBus::builder().build(),
///     tokens: TokenRegistry::new(vec![]),
///     readiness: vec![],
///     metrics: Metrics::new(),
/// };
/// let app: axum::Router = router(state, HttpConfig::default());
/// ```
pub fn router(state: ApiState, config: HttpConfig) -> Router {
    let mut routes = Router::new();
    for (method, path) in ROUTES {
        match endpoint(method, path) {
            Some(endpoint) => routes = routes.route(path, endpoint),
            None => tracing::error!(%method, path, "a route of the table has no handler"),
        }
    }
    let metrics = state.metrics.clone();
    let routes = routes.merge(crate::dashboard::routes());
    let routes = routes.fallback(ops::route_not_found).with_state(state);
    layers::apply(routes, config, metrics)
}

/// Sends `query` as `caller`, renaming the fields of a validation error to the HTTP names.
async fn ask<Q>(
    state: &ApiState,
    caller: &Caller,
    query: Q,
    renames: &[(&str, &str)],
) -> Result<Json<Q::Output>, Problem>
where
    Q: Query,
    Q::Output: Serialize,
{
    state
        .queries
        .dispatch(query, caller.context())
        .await
        .map(Json)
        .map_err(|error| Problem::from(rename_fields(error, renames)))
}
