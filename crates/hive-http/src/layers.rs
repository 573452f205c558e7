//! The tower layers around every route: correlation id, tracing, metrics, problem bodies for
//! every error, panics caught, request timeout and body limit.

use std::any::Any;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::problem::is_problem;
use crate::{correlation, metrics, HttpConfig, Metrics, Problem};

/// Wraps every route of `router` (and its fallback) in the layers, outermost first:
/// correlation id → tracing → metrics → problem bodies → catch panic → timeout → body limit.
///
/// The layers are one stack added with one `Router::layer`, so they run after axum matched the
/// route (the metrics read its [`axum::extract::MatchedPath`]) and each route is wrapped once:
/// axum clones a route's boxed service per request at every `layer` call, which costs one
/// allocation per call and request (docs/performance.md, P8).
pub(crate) fn apply(router: Router, config: HttpConfig, metrics: Metrics) -> Router {
    // `map_response(into_response)` after each layer that changes the response body type, so
    // that every layer sees axum's `Response`.
    let layers = ServiceBuilder::new()
        .layer(middleware::from_fn(correlation::correlate))
        .map_response(IntoResponse::into_response)
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn_with_state(metrics, metrics::track))
        .layer(middleware::from_fn(problems_only))
        .map_response(IntoResponse::into_response)
        .layer(CatchPanicLayer::custom(panic_problem))
        .map_response(IntoResponse::into_response)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout,
        ))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .map_response(IntoResponse::into_response)
        .layer(RequestBodyLimitLayer::new(config.body_limit));
    router.layer(layers)
}

/// Middleware: an error response without a problem body (from axum's router or a tower-http
/// layer: `404`, `405`, `408`, `413`, `503` timeout…) gets one, keeping its other headers.
async fn problems_only(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(&response) {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    let problem = Problem::for_status(status).into_response();
    let (problem_parts, body) = problem.into_parts();
    parts.status = problem_parts.status;
    parts.headers.extend(problem_parts.headers);
    Response::from_parts(parts, body)
}

/// The answer to a handler that panicked: a `500` problem (the panic is logged, not shown).
fn panic_problem(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("<non-string panic payload>");
    tracing::error!(panic = message, "a request handler panicked");
    Problem::internal().into_response()
}
