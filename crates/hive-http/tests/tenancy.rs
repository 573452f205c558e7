//! Organization A never sees organization B's payments or events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TestApp, ORG_B, TOKEN_A, TOKEN_B};
use serde_json::{json, Value};

/// Org B creates and processes `b-1` under correlation `shared-corr`; org A creates `a-1`
/// under the same correlation id.
async fn two_tenants() -> TestApp {
    let app = TestApp::new();
    for (token, id) in [(TOKEN_B, "b-1"), (TOKEN_A, "a-1")] {
        let body = json!({"paymentId": id, "amount": "10", "currency": "EUR", "description": "Secret hosting", "tags": ["secret"]});
        let request = Request::builder()
            .method(Method::POST)
            .uri("/payments")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .header("x-correlation-id", "shared-corr")
            .body(Body::from(body.to_string()))
            .unwrap();
        assert_eq!(app.send(request).await.status, StatusCode::CREATED);
    }
    let processed = app.post(TOKEN_B, "/payments/b-1/process", Value::Null).await;
    assert_eq!(processed.status, StatusCode::OK);
    app
}

fn ids(items: &Value, key: &str) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[key].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn another_organizations_payment_is_404() {
    let app = two_tenants().await;
    for uri in [
        "/payments/b-1",
        "/payments/b-1/history",
        "/payments/b-1/replay",
        "/payments/b-1/replay?version=1",
    ] {
        assert_eq!(app.get(TOKEN_A, uri).await.problem(404), "payment_not_found", "{uri}");
        assert_eq!(app.get(TOKEN_B, uri).await.status, StatusCode::OK, "{uri}");
    }
}

#[tokio::test]
async fn another_organizations_payment_cannot_be_changed() {
    let app = two_tenants().await;
    let fail = app.post(TOKEN_A, "/payments/b-1/fail", json!({"error": "x"})).await;
    assert_eq!(fail.problem(404), "payment_not_found");
    let refund = app.post(TOKEN_A, "/payments/b-1/refund", json!({"amount": "1"})).await;
    assert_eq!(refund.problem(404), "payment_not_found");
    let taken = app
        .post(
            TOKEN_A,
            "/payments",
            json!({"paymentId": "b-1", "amount": "1", "currency": "EUR", "description": "x"}),
        )
        .await;
    assert!(taken.status.is_client_error(), "{}", taken.text);
    let payment = app.get(TOKEN_B, "/payments/b-1").await;
    assert_eq!(payment.body["status"], "completed");
    assert_eq!(payment.body["organizationId"], ORG_B);
    assert_eq!(payment.body["refundAmount"], Value::Null);
}

#[tokio::test]
async fn lists_searches_and_suggestions_only_show_the_callers_payments() {
    let app = two_tenants().await;
    let list = app.get(TOKEN_A, "/payments").await;
    assert_eq!(ids(&list.body["items"], "paymentId"), ["a-1"]);
    assert_eq!(list.body["total"], 1);
    let search = app.get(TOKEN_A, "/payments/search?q=secret").await;
    assert_eq!(ids(&search.body["items"], "paymentId"), ["a-1"]);
    let completed = app.get(TOKEN_A, "/payments/search?status=completed").await;
    assert_eq!(completed.body["total"], 0);
    let suggestions = app.get(TOKEN_A, "/payments/suggestions?q=sec").await;
    assert_eq!(
        suggestions.body["items"],
        json!([{"text": "Secret hosting", "score": 1.0}])
    );
}

#[tokio::test]
async fn statistics_and_trends_only_count_the_callers_payments() {
    let app = two_tenants().await;
    let stats = app.get(TOKEN_A, "/payments/statistics").await;
    assert_eq!(
        stats.body["byStatus"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["pending"]
    );
    assert_eq!(stats.body["byStatus"]["pending"]["EUR"]["count"], 1);
    let trends = app.get(TOKEN_A, "/payments/trends").await;
    assert_eq!(trends.body["daily"][0]["count"], 1);
    let events = app.get(TOKEN_A, "/events/statistics").await;
    assert_eq!(events.body["total"], 1);
    assert_eq!(events.body["byOrganization"], json!({"org-a": 1}));
    let heatmap = app.get(TOKEN_A, "/events/heatmap").await;
    assert_eq!(heatmap.body["cells"][0]["count"], 1);
    let trend = app.get(TOKEN_A, "/events/trends").await;
    assert_eq!(trend.body["items"][0]["count"], 1);
}

#[tokio::test]
async fn event_look_ups_only_show_the_callers_events() {
    let app = two_tenants().await;
    let search = app.get(TOKEN_A, "/events/search?q=secret").await;
    assert_eq!(ids(&search.body["items"], "aggregateId"), ["a-1"]);
    let all = app.get(TOKEN_A, "/events/search").await;
    assert_eq!(all.body["total"], 1);
    let timeline = app.get(TOKEN_A, "/events/timeline/shared-corr").await;
    assert_eq!(ids(&timeline.body["items"], "aggregateId"), ["a-1"]);
    let correlations = app.get(TOKEN_A, "/events/correlations/shared-corr").await;
    assert_eq!(ids(&correlations.body["items"], "aggregateId"), ["a-1"]);
    let theirs = app.get(TOKEN_B, "/events/timeline/shared-corr").await;
    assert_eq!(
        ids(&theirs.body["items"], "aggregateId"),
        ["b-1"],
        "the process had its own correlation id"
    );
}
