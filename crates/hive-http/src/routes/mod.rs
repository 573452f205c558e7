//! The route table, and the router built from it.

mod commands;
mod events;
mod ops;
mod payments;
mod subscriptions;

pub use subscriptions::{FILTER_MISMATCH, NOT_IN_FLIGHT};

use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::{Json, Router};
use hive_application::Query;
use hive_domain::Capability;
use serde::Serialize;
use serde_json::Value;

use crate::access::Access;
use crate::auth::Caller;
use crate::openapi::operations as doc;
use crate::openapi::subscriptions as feed_doc;
use crate::problem::rename_fields;
use crate::{layers, ApiState, HttpConfig, Problem};

/// A route's handler for a method: `|method| on(method, handler)`.
pub type Endpoint = fn(MethodFilter) -> MethodRouter<RouteState>;

/// One route: method, path template, what a request needs ([`Access`]) and its handler.
#[derive(Debug, Clone)]
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path template (`{name}` is one segment).
    pub path: &'static str,
    /// The role a request needs, checked for every route in one place (the [`Caller`]
    /// extractor reads it from the matched route's [`RouteState`]).
    pub access: Access,
    /// The handler, served for [`Route::method`] (and `HEAD` for `GET`).
    pub endpoint: Endpoint,
    /// The route's OpenAPI operation without `x-hive-role` (which the document takes from
    /// [`Route::access`]); `None` for a route that is not an API operation (a dashboard's).
    pub operation: Option<fn() -> Value>,
    /// The optional event-store capability the route's query needs: without it the route
    /// answers `501 capability_unsupported`.
    pub needs: Option<Capability>,
}

impl Route {
    /// The route `method path`, needing `access`, served by `endpoint`, not an API operation
    /// (not in the OpenAPI document).
    pub const fn new(method: Method, path: &'static str, access: Access, endpoint: Endpoint) -> Self {
        Self {
            method,
            path,
            access,
            endpoint,
            operation: None,
            needs: None,
        }
    }

    /// An API operation: the route `method path`, needing `access`, served by `endpoint`,
    /// documented in the OpenAPI document by `operation`.
    pub const fn api(
        method: Method,
        path: &'static str,
        access: Access,
        endpoint: Endpoint,
        operation: fn() -> Value,
    ) -> Self {
        Self {
            method,
            path,
            access,
            endpoint,
            operation: Some(operation),
            needs: None,
        }
    }

    /// This route, needing the optional event-store `capability`.
    pub const fn needing(mut self, capability: Capability) -> Self {
        self.needs = Some(capability);
        self
    }
}

/// The state of one route's handler: the API's state and the route's [`Access`], so that the
/// access check reads the matched route's own entry instead of looking it up per request.
#[derive(Debug, Clone)]
pub struct RouteState {
    api: Arc<ApiState>,
    access: Access,
}

impl RouteState {
    /// The API's state.
    pub fn api(&self) -> &ApiState {
        &self.api
    }

    /// What a request to this route needs.
    pub fn access(&self) -> Access {
        self.access
    }
}

impl FromRef<RouteState> for Arc<ApiState> {
    fn from_ref(state: &RouteState) -> Self {
        Arc::clone(&state.api)
    }
}

/// Every route the API serves, with the access each needs, its handler and its OpenAPI
/// operation. The router is
/// built from this table, `GET /openapi.json` documents exactly these operations, every request
/// to a route that is not [`Access::Public`] is checked against its access, and the metrics
/// label a request with the template axum matched (tests check all four).
#[rustfmt::skip]
pub const ROUTES: &[Route] = &[
    Route::api(Method::POST, "/payments", Access::Write, |m| on(m, commands::create), doc::create_payment),
    Route::api(Method::GET, "/payments", Access::Read, |m| on(m, payments::list), doc::list_payments),
    Route::api(Method::GET, "/payments/search", Access::Read, |m| on(m, payments::search), doc::search_payments),
    Route::api(Method::GET, "/payments/suggestions", Access::Read, |m| on(m, payments::suggestions), doc::suggest_payments),
    Route::api(Method::GET, "/payments/statistics", Access::Read, |m| on(m, payments::statistics), doc::payment_statistics),
    Route::api(Method::GET, "/payments/trends", Access::Read, |m| on(m, payments::trends), doc::payment_trends),
    Route::api(Method::GET, "/payments/{id}", Access::Read, |m| on(m, payments::by_id), doc::get_payment),
    Route::api(Method::POST, "/payments/{id}/process", Access::Write, |m| on(m, commands::process), doc::process_payment),
    Route::api(Method::POST, "/payments/{id}/fail", Access::Write, |m| on(m, commands::fail), doc::fail_payment),
    Route::api(Method::POST, "/payments/{id}/refund", Access::Write, |m| on(m, commands::refund), doc::refund_payment),
    Route::api(Method::GET, "/payments/{id}/history", Access::Read, |m| on(m, payments::history), doc::payment_history),
    Route::api(Method::GET, "/payments/{id}/replay", Access::Read, |m| on(m, payments::replay), doc::replay_payment),
    Route::api(Method::GET, "/events/search", Access::Read, |m| on(m, events::search), doc::search_events).needing(Capability::Search),
    Route::api(Method::GET, "/events/timeline/{correlationId}", Access::Read, |m| on(m, events::timeline), doc::event_timeline).needing(Capability::Search),
    Route::api(Method::GET, "/events/statistics", Access::Analytics, |m| on(m, events::statistics), doc::event_statistics).needing(Capability::Analytics),
    Route::api(Method::GET, "/events/trends", Access::Analytics, |m| on(m, events::trends), doc::event_trends).needing(Capability::Analytics),
    Route::api(Method::GET, "/events/heatmap", Access::Analytics, |m| on(m, events::heatmap), doc::event_heatmap).needing(Capability::Analytics),
    Route::api(Method::GET, "/events/correlations/{correlationId}", Access::Read, |m| on(m, events::correlations), doc::event_correlations).needing(Capability::Search),
    Route::api(Method::GET, "/events/{eventId}", Access::Read, |m| on(m, events::by_id), doc::get_event).needing(Capability::Lookup),
    Route::api(Method::GET, "/subscriptions/{group}/events", Access::Analytics, |m| on(m, subscriptions::events), feed_doc::subscription_events),
    Route::api(Method::GET, "/subscriptions/{group}", Access::Analytics, |m| on(m, subscriptions::checkpoint), feed_doc::subscription_checkpoint),
    Route::api(Method::POST, "/subscriptions/{group}/ack", Access::Analytics, |m| on(m, subscriptions::ack), feed_doc::subscription_ack),
    Route::api(Method::POST, "/subscriptions/{group}/nack", Access::Analytics, |m| on(m, subscriptions::nack), feed_doc::subscription_nack),
    Route::api(Method::GET, "/subscriptions/{group}/parked", Access::Analytics, |m| on(m, subscriptions::parked), feed_doc::subscription_parked),
    Route::api(Method::POST, "/subscriptions/{group}/parked/replay", Access::Analytics, |m| on(m, subscriptions::replay), feed_doc::subscription_replay),
    Route::api(Method::POST, "/subscriptions/{group}/parked/skip", Access::Analytics, |m| on(m, subscriptions::skip), feed_doc::subscription_skip),
    Route::api(Method::GET, "/healthz", Access::Public, |m| on(m, ops::healthz), doc::healthz),
    Route::api(Method::GET, "/readyz", Access::Public, |m| on(m, ops::readyz), doc::readyz),
    Route::api(Method::GET, "/metrics", Access::Public, |m| on(m, ops::metrics), doc::metrics),
    Route::api(Method::GET, "/openapi.json", Access::Public, |m| on(m, ops::openapi), doc::openapi),
];

/// The routes that answer without a bearer token (the [`Access::Public`] ones of [`ROUTES`]).
pub const PUBLIC_ROUTES: &[&str] = &["/healthz", "/readyz", "/metrics", "/openapi.json"];

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
///     subscriptions: None,
/// };
/// let app: axum::Router = router(state, HttpConfig::default());
/// ```
pub fn router(state: ApiState, config: HttpConfig) -> Router {
    router_with(state, config, &[])
}

/// [`router`] with `extra` routes beside [`ROUTES`] (for example a dashboard's), served behind
/// the same layers and access check; they are not API operations (not in the OpenAPI document).
pub fn router_with(state: ApiState, config: HttpConfig, extra: &'static [Route]) -> Router {
    let metrics = state.metrics.clone();
    let api = Arc::new(state);
    let mut routes = Router::new();
    for route in ROUTES.iter().chain(extra) {
        let Ok(filter) = MethodFilter::try_from(route.method.clone()) else {
            tracing::error!(method = %route.method, path = route.path, "a route of the table has an unroutable method");
            continue;
        };
        let state = RouteState {
            api: Arc::clone(&api),
            access: route.access,
        };
        routes = routes.route(route.path, (route.endpoint)(filter).with_state(state));
    }
    let routes = routes.fallback(ops::route_not_found);
    layers::apply(routes, config, metrics)
}

/// Sends `query` as `caller`, renaming the fields of a validation error to the HTTP names.
async fn ask<Q>(
    state: &ApiState,
    caller: Caller,
    query: Q,
    renames: &[(&str, &str)],
) -> Result<Json<Q::Output>, Problem>
where
    Q: Query,
    Q::Output: Serialize,
{
    state
        .queries
        .dispatch(query, caller.into_context())
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
    fn every_route_has_a_routable_method_and_one_entry() {
        let mut seen = std::collections::HashSet::new();
        for route in ROUTES {
            assert!(MethodFilter::try_from(route.method.clone()).is_ok(), "{}", route.path);
            assert!(
                seen.insert((route.method.clone(), route.path)),
                "{} {}",
                route.method,
                route.path
            );
        }
    }
}
