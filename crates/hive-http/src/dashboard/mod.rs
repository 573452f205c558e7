//! `GET /dashboard`: a page for one organization's payments and events, with charts.
//!
//! The page, its script and stylesheet are public and embedded in the binary. The script asks
//! for an API token once (kept in the browser's session or local storage), sends it as
//! `Authorization: Bearer` to the JSON API (search, suggestions, statistics, timeline) and to
//! the chart routes, which render SVG on the server and authenticate like the API. A refused
//! token brings the token form back.

mod assets;
mod charts;
mod render;

use axum::http::Method;
use axum::routing::get;
use axum::Router;

use crate::{Access, ApiState};

/// The dashboard's routes, as (path, what it serves). They are not API operations, so they
/// are not in [`crate::ROUTES`] nor in the OpenAPI document.
pub const DASHBOARD_ROUTES: &[(&str, &str)] = &[
    ("/dashboard", "the page (public)"),
    ("/dashboard/dashboard.js", "its script (public)"),
    ("/dashboard/dashboard.css", "its stylesheet (public)"),
    ("/dashboard/charts/trends.svg", "payments and amount per day (token)"),
    (
        "/dashboard/charts/statistics.svg",
        "payments by status × currency (token)",
    ),
    ("/dashboard/charts/heatmap.svg", "events by hour × day of week (token)"),
];

/// The access of a dashboard route: the charts need `reader` ([`Access::Read`]), the page and
/// its assets are public; `None` for a path that is not the dashboard's.
pub(crate) fn access_of(method: &Method, path: &str) -> Option<Access> {
    if method != Method::GET || !DASHBOARD_ROUTES.iter().any(|(route, _)| *route == path) {
        return None;
    }
    Some(match path.starts_with("/dashboard/charts/") {
        true => Access::Read,
        false => Access::Public,
    })
}

/// The dashboard's router (merged into the API's router, behind the same layers).
pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/dashboard", get(assets::page))
        .route("/dashboard/dashboard.js", get(assets::script))
        .route("/dashboard/dashboard.css", get(assets::style))
        .route("/dashboard/charts/trends.svg", get(charts::trends))
        .route("/dashboard/charts/statistics.svg", get(charts::statistics))
        .route("/dashboard/charts/heatmap.svg", get(charts::heatmap))
}
