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
use axum::routing::on;

use crate::{Access, Route};

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

/// The dashboard's routes for the router: the page and its assets are public, the charts
/// need `reader` ([`Access::Read`]).
pub(crate) const ROUTES: &[Route] = &[
    Route::new(Method::GET, "/dashboard", Access::Public, |m| on(m, assets::page)),
    Route::new(Method::GET, "/dashboard/dashboard.js", Access::Public, |m| {
        on(m, assets::script)
    }),
    Route::new(Method::GET, "/dashboard/dashboard.css", Access::Public, |m| {
        on(m, assets::style)
    }),
    Route::new(Method::GET, "/dashboard/charts/trends.svg", Access::Read, |m| {
        on(m, charts::trends)
    }),
    Route::new(Method::GET, "/dashboard/charts/statistics.svg", Access::Read, |m| {
        on(m, charts::statistics)
    }),
    Route::new(Method::GET, "/dashboard/charts/heatmap.svg", Access::Read, |m| {
        on(m, charts::heatmap)
    }),
];
