//! The dashboard: a public page and assets with a strict CSP, and SVG charts that authenticate
//! like the API, draw the caller's organization's data and say "No data" when there is none.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../hive-http/tests/common/mod.rs"]
mod common;

use axum::http::StatusCode;
use common::{Options, TestApp, TOKEN_A, TOKEN_B};

const CHARTS: [&str; 3] = [
    "/dashboard/charts/trends.svg",
    "/dashboard/charts/statistics.svg",
    "/dashboard/charts/heatmap.svg",
];

/// The `<rect>` elements of `svg` filled with `colour` (`#RRGGBB`, as plotters writes it).
fn rects_filled(svg: &str, colour: &str) -> usize {
    let fill = format!("fill=\"{colour}\"");
    svg.split("<rect")
        .skip(1)
        .filter(|rect| rect.split('>').next().unwrap().contains(&fill))
        .count()
}

/// The text elements of `svg`, trimmed (plotters writes each on its own lines).
fn texts(svg: &str) -> Vec<&str> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| t.split_once('>')?.1.split_once("</text>"))
        .map(|(t, _)| t.trim())
        .collect()
}

fn labelled(svg: &str, label: &str) -> bool {
    texts(svg).contains(&label)
}

/// The API with the dashboard's routes, as `hive-server` serves them.
fn dashboard() -> TestApp {
    TestApp::with(Options {
        routes: hive_dashboard::ROUTES,
        ..Options::default()
    })
}

/// Org A: two completed EUR payments and a pending USD one. Org B: nothing.
async fn seeded() -> TestApp {
    let app = dashboard();
    app.completed(TOKEN_A, "pay-1", "100.00", "EUR", "Cloud hosting").await;
    app.completed(TOKEN_A, "pay-2", "50.00", "EUR", "Cloud storage").await;
    app.create(TOKEN_A, "pay-3", "20.00", "USD", "Support plan").await;
    app
}

#[tokio::test]
async fn the_page_is_public_html_with_a_strict_policy_and_no_inline_script() {
    let app = dashboard();
    let reply = app.get("", "/dashboard").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.content_type(), "text/html; charset=utf-8");
    let csp = reply.header("content-security-policy").unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("http"), "{csp}");
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    let scripts: Vec<&str> = reply.text.split("<script").skip(1).collect();
    assert_eq!(scripts.len(), 1, "one script, the embedded file");
    assert!(scripts[0].trim_start().starts_with("src=\"/dashboard/dashboard.js\""));
    assert!(!reply.text.contains(" style="), "no inline style");
    for part in [
        "id=\"token-form\"",
        "id=\"chart-trends\"",
        "id=\"chart-statistics\"",
        "id=\"chart-heatmap\"",
    ] {
        assert!(reply.text.contains(part), "the page has {part}");
    }
    for part in ["id=\"search-box\"", "id=\"suggestions\"", "id=\"timeline-form\""] {
        assert!(reply.text.contains(part), "the page has {part}");
    }
}

#[tokio::test]
async fn the_script_and_stylesheet_are_served_with_their_content_types() {
    let app = dashboard();
    let script = app.get("", "/dashboard/dashboard.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert_eq!(script.content_type(), "text/javascript; charset=utf-8");
    assert!(
        script.text.contains("Authorization: `Bearer ${bearer}`"),
        "the script sends the token"
    );
    assert!(script.text.contains("/payments/suggestions"));
    assert!(script.text.contains("/events/timeline/"));
    let style = app.get("", "/dashboard/dashboard.css").await;
    assert_eq!(style.status, StatusCode::OK);
    assert_eq!(style.content_type(), "text/css; charset=utf-8");
    assert!(style.text.contains(".chart svg"));
}

#[tokio::test]
async fn charts_need_a_valid_token() {
    let app = seeded().await;
    for chart in CHARTS {
        assert_eq!(app.get("", chart).await.problem(401), "unauthorized", "{chart}");
        assert_eq!(
            app.get("not-a-token", chart).await.problem(401),
            "unauthorized",
            "{chart}"
        );
    }
}

#[tokio::test]
async fn the_trends_chart_has_a_bar_per_day_with_payments_and_the_amount_line() {
    let app = seeded().await;
    let reply = app.get(TOKEN_A, CHARTS[0]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.content_type(), "image/svg+xml; charset=utf-8");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let svg = &reply.text;
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
    assert!(svg.contains("Payments per day"));
    assert!(!svg.contains("No data"), "{svg}");
    // All three payments are from today: one bar (the first colour of the palette).
    assert_eq!(rects_filled(svg, "#1F77B4"), 1, "{svg}");
    // EUR has the most payments, so amounts are in EUR; one point per day of the range.
    assert!(svg.contains("Amount per day (EUR)"));
    assert!(svg.matches("<circle").count() >= 30, "{svg}");
    let usd = app.get(TOKEN_A, &format!("{}?currency=USD", CHARTS[0])).await;
    assert!(usd.text.contains("Amount per day (USD)"), "{}", usd.text);
    let gbp = app.get(TOKEN_A, &format!("{}?currency=GBP", CHARTS[0])).await;
    assert!(gbp.text.contains("No data: no GBP payments"), "{}", gbp.text);
}

#[tokio::test]
async fn the_statistics_chart_stacks_each_status_by_currency() {
    let app = seeded().await;
    let reply = app.get(TOKEN_A, CHARTS[1]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.content_type(), "image/svg+xml; charset=utf-8");
    let svg = &reply.text;
    assert!(svg.contains("Payments by status and currency"));
    for label in ["completed", "pending", "failed", "EUR", "USD"] {
        assert!(labelled(svg, label), "{label} is labelled: {svg}");
    }
    // EUR (first colour): the completed bar and its legend key; USD (second): pending + key.
    assert_eq!(rects_filled(svg, "#1F77B4"), 2, "{svg}");
    assert_eq!(rects_filled(svg, "#FF7F0E"), 2, "{svg}");
}

#[tokio::test]
async fn the_heatmap_has_a_cell_per_hour_and_weekday_with_the_busy_ones_shaded() {
    let app = seeded().await;
    let reply = app.get(TOKEN_A, CHARTS[2]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let svg = &reply.text;
    assert!(svg.contains("Events by hour (UTC) and weekday"));
    for day in ["Mon", "Sun"] {
        assert!(labelled(svg, day), "{svg}");
    }
    let empty = rects_filled(svg, "#F2F2F2");
    let darkest = rects_filled(svg, "#08306B");
    // Five events just now: one or two busy cells (an hour may have turned), 168 in all.
    assert!(darkest >= 1, "{svg}");
    assert!((166..=167).contains(&empty), "{empty} empty cells: {svg}");
}

#[tokio::test]
async fn an_organization_without_data_gets_no_data_charts() {
    let app = seeded().await;
    for chart in CHARTS {
        let reply = app.get(TOKEN_B, chart).await;
        assert_eq!(reply.status, StatusCode::OK, "{chart}: {}", reply.text);
        assert!(reply.text.contains("No data: no "), "{chart}: {}", reply.text);
        assert_eq!(rects_filled(&reply.text, "#1F77B4"), 0, "{chart}");
    }
}

#[tokio::test]
async fn charts_show_only_the_callers_organization() {
    let app = seeded().await;
    app.create(TOKEN_B, "pay-b", "9.99", "GBP", "Other tenant").await;
    let a = app.get(TOKEN_A, CHARTS[1]).await.text;
    let b = app.get(TOKEN_B, CHARTS[1]).await.text;
    assert!(
        labelled(&a, "EUR") && labelled(&a, "USD") && !labelled(&a, "GBP"),
        "{a}"
    );
    assert!(
        labelled(&b, "GBP") && !labelled(&b, "EUR") && !labelled(&b, "USD"),
        "{b}"
    );
    let trends_b = app.get(TOKEN_B, CHARTS[0]).await.text;
    assert!(trends_b.contains("Amount per day (GBP)"), "{trends_b}");
    assert_eq!(rects_filled(&trends_b, "#1F77B4"), 1);
}

#[tokio::test]
async fn bad_chart_parameters_are_problems() {
    let app = seeded().await;
    let reply = app.get(TOKEN_A, &format!("{}?from=yesterday", CHARTS[0])).await;
    assert_eq!(reply.problem(400), "bad_request");
    assert_eq!(reply.fields(), ["from"]);
    let long = "?from=2020-01-01T00:00:00Z&to=2022-01-01T00:00:00Z";
    let reply = app.get(TOKEN_A, &format!("{}{long}", CHARTS[2])).await;
    assert_eq!(reply.problem(400), "bad_request");
    assert_eq!(reply.fields(), ["to"]);
    let reply = app.get(TOKEN_A, &format!("{}?currency=euro", CHARTS[0])).await;
    assert_eq!(reply.problem(400), "bad_request");
    assert_eq!(reply.fields(), ["currency"]);
    let reply = app
        .get(
            TOKEN_A,
            &format!("{}?from=2024-02-01T00:00:00Z&to=2024-01-01T00:00:00Z", CHARTS[1]),
        )
        .await;
    assert_eq!(reply.problem(400), "validation_failed");
}

#[tokio::test]
async fn charts_need_the_reader_role_and_the_page_none() {
    use common::{TOKEN_ADMIN, TOKEN_NO_ROLE, TOKEN_PLATFORM, TOKEN_READER, TOKEN_READER_PLATFORM};
    let app = seeded().await;
    for chart in CHARTS {
        for token in [TOKEN_READER, TOKEN_A, TOKEN_ADMIN, TOKEN_READER_PLATFORM] {
            assert_eq!(app.get(token, chart).await.status, StatusCode::OK, "{token} {chart}");
        }
        for token in [TOKEN_PLATFORM, TOKEN_NO_ROLE] {
            let refused = app.get(token, chart).await;
            assert_eq!(refused.problem(403), "insufficient_role", "{token} {chart}");
            assert_eq!(refused.body["requiredRole"], "reader", "{token} {chart}");
        }
    }
    for route in hive_dashboard::ROUTES
        .iter()
        .filter(|r| !r.path.starts_with("/dashboard/charts/"))
    {
        assert_eq!(app.get("", route.path).await.status, StatusCode::OK, "{}", route.path);
    }
}

#[test]
fn every_route_is_listed_in_the_api_doc_and_none_is_an_api_operation() {
    let api_doc = include_str!("../../../docs/api.md");
    for route in hive_dashboard::ROUTES {
        assert!(
            api_doc.contains(&format!("`{}`", route.path)),
            "docs/api.md does not list {}",
            route.path
        );
        assert!(
            hive_http::openapi_document()["paths"].get(route.path).is_none(),
            "{} is in the OpenAPI document",
            route.path
        );
    }
}
