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

use crate::access::Access;
use crate::auth::Caller;
use crate::problem::rename_fields;
use crate::{layers, ApiState, HttpConfig, Problem};

/// One route of the API: method, path template, and what a request needs ([`Access`]).
#[derive(Debug, Clone)]
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path template (`{name}` is one segment).
    pub path: &'static str,
    /// The role a request needs, checked for every route in one place (the caller extractor).
    pub access: Access,
}

const fn route(method: Method, path: &'static str, access: Access) -> Route {
    Route { method, path, access }
}

/// Every route the API serves, with the access each needs. The router is built from this
/// table, `GET /openapi.json` documents exactly these operations, and every request to a
/// route that is not [`Access::Public`] is checked against its access (tests check all three).
pub const ROUTES: &[Route] = &[
    route(Method::POST, "/payments", Access::Write),
    route(Method::GET, "/payments", Access::Read),
    route(Method::GET, "/payments/search", Access::Read),
    route(Method::GET, "/payments/suggestions", Access::Read),
    route(Method::GET, "/payments/statistics", Access::Read),
    route(Method::GET, "/payments/trends", Access::Read),
    route(Method::GET, "/payments/{id}", Access::Read),
    route(Method::POST, "/payments/{id}/process", Access::Write),
    route(Method::POST, "/payments/{id}/fail", Access::Write),
    route(Method::POST, "/payments/{id}/refund", Access::Write),
    route(Method::GET, "/payments/{id}/history", Access::Read),
    route(Method::GET, "/payments/{id}/replay", Access::Read),
    route(Method::GET, "/events/search", Access::Read),
    route(Method::GET, "/events/timeline/{correlationId}", Access::Read),
    route(Method::GET, "/events/statistics", Access::Analytics),
    route(Method::GET, "/events/trends", Access::Analytics),
    route(Method::GET, "/events/heatmap", Access::Analytics),
    route(Method::GET, "/events/correlations/{correlationId}", Access::Read),
    route(Method::GET, "/events/{eventId}", Access::Read),
    route(Method::GET, "/healthz", Access::Public),
    route(Method::GET, "/readyz", Access::Public),
    route(Method::GET, "/metrics", Access::Public),
    route(Method::GET, "/openapi.json", Access::Public),
];

/// The routes that answer without a bearer token (the [`Access::Public`] ones of [`ROUTES`]).
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
        ("GET", "/events/{eventId}") => get(events::by_id),
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
///     query_cache: None,
/// };
/// let app: axum::Router = router(state, HttpConfig::default());
/// ```
pub fn router(state: ApiState, config: HttpConfig) -> Router {
    let mut routes = Router::new();
    for Route { method, path, .. } in ROUTES {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_routes_are_the_tables_public_ones() {
        let public: Vec<&str> = ROUTES
            .iter()
            .filter(|route| route.access == Access::Public)
            .map(|route| route.path)
            .collect();
        assert_eq!(public, PUBLIC_ROUTES);
    }

    #[test]
    fn every_route_and_dashboard_chart_has_an_access() {
        for route in ROUTES {
            assert_eq!(
                Access::of(&route.method, route.path),
                Some(route.access),
                "{}",
                route.path
            );
        }
        assert_eq!(Access::of(&Method::HEAD, "/payments"), Some(Access::Read));
        assert_eq!(
            Access::of(&Method::GET, "/dashboard/charts/heatmap.svg"),
            Some(Access::Read)
        );
        assert_eq!(Access::of(&Method::GET, "/dashboard"), Some(Access::Public));
        assert_eq!(Access::of(&Method::DELETE, "/payments"), None);
    }
}
