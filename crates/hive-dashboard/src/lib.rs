#![doc = include_str!("../README.md")]

mod assets;
mod charts;
mod render;

use axum::http::Method;
use axum::routing::on;
use hive_domain::Capability;
use hive_http::{Access, Route};

/// The dashboard's routes, for [`hive_http::router_with`]: the page and its assets are public,
/// the charts need `reader` ([`Access::Read`]). They are not API operations: they are not in
/// [`hive_http::ROUTES`] nor in the OpenAPI document.
pub const ROUTES: &[Route] = &[
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
    })
    .needing(Capability::Analytics),
];
