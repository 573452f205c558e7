//! Health, readiness, metrics and the OpenAPI document (no token needed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use axum::http::StatusCode;
use common::{Options, TestApp, TOKEN_A};
use hive_http::{Readiness, ReadinessCheck, ROUTES};
use serde_json::{json, Value};

struct Check(&'static str, Readiness);

#[async_trait]
impl ReadinessCheck for Check {
    fn name(&self) -> &str {
        self.0
    }
    async fn check(&self) -> Readiness {
        self.1.clone()
    }
}

/// A check that knows what answers it.
struct Named;

#[async_trait]
impl ReadinessCheck for Named {
    fn name(&self) -> &str {
        "search"
    }
    async fn check(&self) -> Readiness {
        Readiness::Up
    }
    fn backend(&self) -> Option<String> {
        Some("opensearch 2.19.6".into())
    }
}

struct Panicking;

#[async_trait]
impl ReadinessCheck for Panicking {
    fn name(&self) -> &str {
        "buggy"
    }
    async fn check(&self) -> Readiness {
        panic!("a bug in a readiness check")
    }
}

struct Hanging;

#[async_trait]
impl ReadinessCheck for Hanging {
    fn name(&self) -> &str {
        "hanging"
    }
    async fn check(&self) -> Readiness {
        futures::future::pending().await
    }
}

fn with_checks(checks: Vec<Arc<dyn ReadinessCheck>>) -> TestApp {
    TestApp::with(Options {
        readiness: checks,
        ..Options::default()
    })
}

#[tokio::test]
async fn healthz_answers_without_a_token() {
    let reply = TestApp::new().get("", "/healthz").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"status": "ok"}));
}

#[tokio::test]
async fn readyz_is_ready_degraded_or_a_503_listing_the_checks() {
    let up: Arc<dyn ReadinessCheck> = Arc::new(Check("store", Readiness::Up));
    let ready = with_checks(vec![up.clone()]).get("", "/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(
        ready.body,
        json!({"status": "ready", "checks": {"store": {"status": "up", "detail": null}}})
    );

    let slow: Arc<dyn ReadinessCheck> = Arc::new(Check("cache", Readiness::Degraded("l2 down".into())));
    let degraded = with_checks(vec![up.clone(), slow.clone()]).get("", "/readyz").await;
    assert_eq!(degraded.status, StatusCode::OK);
    assert_eq!(degraded.body["status"], "degraded");
    assert_eq!(
        degraded.body["checks"]["cache"],
        json!({"status": "degraded", "detail": "l2 down"})
    );

    let down: Arc<dyn ReadinessCheck> = Arc::new(Check("index", Readiness::Down("refused".into())));
    let reply = with_checks(vec![up, slow, down]).get("", "/readyz").await;
    assert_eq!(reply.problem(503), "not_ready");
    assert_eq!(
        reply.body["checks"]["index"],
        json!({"status": "down", "detail": "refused"})
    );
    assert_eq!(reply.body["checks"]["store"]["status"], "up");
    assert!(reply.body["detail"].as_str().unwrap().contains("index"));
}

#[tokio::test]
async fn a_check_that_knows_its_backend_names_it() {
    let reply = with_checks(vec![Arc::new(Named)]).get("", "/readyz").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body["checks"]["search"],
        json!({"status": "up", "detail": null, "backend": "opensearch 2.19.6"})
    );
}

#[tokio::test(start_paused = true)]
async fn a_check_that_never_answers_is_down() {
    let reply = with_checks(vec![Arc::new(Hanging)]).get("", "/readyz").await;
    assert_eq!(reply.problem(503), "not_ready");
    assert_eq!(reply.body["checks"]["hanging"]["status"], "down");
}

#[tokio::test]
async fn a_panic_is_a_500_problem() {
    let reply = with_checks(vec![Arc::new(Panicking)]).get("", "/readyz").await;
    assert_eq!(reply.problem(500), "internal");
    assert!(!reply.text.contains("a bug in"), "the panic message stays in the logs");
}

#[tokio::test]
async fn metrics_count_requests_by_route_method_and_status_and_commands_by_outcome() {
    let app = TestApp::new();
    app.create(TOKEN_A, "m-1", "1", "EUR", "x").await;
    app.get(TOKEN_A, "/payments/m-1").await;
    app.get(TOKEN_A, "/payments/m-2").await;
    app.get(TOKEN_A, "/nowhere").await;
    app.post(TOKEN_A, "/payments/m-1/refund", json!({"amount": "1"})).await;
    app.metrics.set_projection_lag("payment-read-model", 7);
    app.metrics.record_cache("l1", true);
    app.metrics.record_retry();
    let reply = app.get("", "/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.content_type().starts_with("application/openmetrics-text"));
    let text = &reply.text;
    for expected in [
        r#"hive_http_requests_total{method="POST",route="/payments",status="201"} 1"#,
        r#"hive_http_requests_total{method="GET",route="/payments/{id}",status="200"} 1"#,
        r#"hive_http_requests_total{method="GET",route="/payments/{id}",status="404"} 1"#,
        r#"hive_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"hive_http_request_duration_seconds_count{method="GET",route="/payments/{id}",status="200"} 1"#,
        r#"hive_commands_total{command="CreatePayment",outcome="ok"} 1"#,
        r#"hive_commands_total{command="RefundPayment",outcome="payment_not_refundable"} 1"#,
        r#"hive_projection_lag{projection="payment-read-model"} 7"#,
        r#"hive_cache_requests_total{level="l1",result="hit"} 1"#,
        "hive_command_retries_total 1",
        "hive_concurrency_conflicts_total 0",
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
    assert!(!text.contains("m-1"), "no payment id in a label");
}

#[tokio::test]
async fn two_apps_have_separate_metrics() {
    let (one, two) = (TestApp::new(), TestApp::new());
    one.get("", "/healthz").await;
    assert!(one.metrics.render().contains(r#"route="/healthz""#));
    assert!(!two.metrics.render().contains(r#"route="/healthz""#));
}

fn documented(document: &Value) -> BTreeSet<(String, String)> {
    let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in methods.iter().filter(|m| item.get(**m).is_some()) {
            operations.insert((method.to_uppercase(), path.clone()));
        }
    }
    operations
}

#[tokio::test]
async fn the_openapi_document_is_valid_and_documents_exactly_the_routes() {
    let app = TestApp::new();
    let reply = app.get("", "/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type(), "application/json");
    let parsed: openapiv3::OpenAPI = serde_json::from_value(reply.body.clone()).expect("a valid OpenAPI 3.0 document");
    assert!(parsed
        .components
        .as_ref()
        .unwrap()
        .security_schemes
        .contains_key("bearer"));
    assert!(parsed.components.as_ref().unwrap().schemas.contains_key("Problem"));
    assert_eq!(reply.body, hive_http::openapi_document());

    let routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect();
    assert_eq!(documented(&reply.body), routes);
    let from_parser: BTreeSet<(String, String)> = parsed
        .paths
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_item().unwrap();
            item.iter()
                .map(move |(method, _)| (method.to_uppercase(), path.clone()))
        })
        .collect();
    assert_eq!(from_parser, routes);

    // Every $ref resolves.
    let text = reply.body.to_string();
    for reference in text.split("\"$ref\":\"#/").skip(1) {
        let pointer = reference.split('"').next().unwrap();
        assert!(
            reply.body.pointer(&format!("/{pointer}")).is_some(),
            "dangling $ref {pointer}"
        );
    }
}

#[tokio::test]
async fn every_route_of_the_table_is_served() {
    let app = TestApp::new();
    for hive_http::Route { method, path, .. } in ROUTES {
        let uri = example_uri(path);
        let request = common::request(method.clone(), &uri, TOKEN_A, None);
        let reply = app.send(request).await;
        assert!(
            ![StatusCode::METHOD_NOT_ALLOWED].contains(&reply.status) && reply.body["code"] != "route_not_found",
            "{method} {path}: {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn public_routes_need_no_token_and_the_others_do() {
    let app = TestApp::new();
    for hive_http::Route { method, path, .. } in ROUTES {
        let uri = example_uri(path);
        let reply = app.send(common::request(method.clone(), &uri, "", None)).await;
        let public = hive_http::PUBLIC_ROUTES.contains(path);
        assert_eq!(
            reply.status == StatusCode::UNAUTHORIZED,
            !public,
            "{method} {path}: {}",
            reply.text
        );
    }
}

/// A concrete URI of a route template.
fn example_uri(template: &str) -> String {
    template
        .replace("{id}", "p-1")
        .replace("{correlationId}", "c-1")
        .replace("{eventId}", "01a206d7-1b23-721f-93d4-d0eea2d35293")
}
