//! Organization A never sees organization B's payments or events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{with_cache, TestApp, ORG_A, ORG_B, TOKEN_A, TOKEN_B};
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
    let process = app.post(TOKEN_A, "/payments/b-1/process", Value::Null).await;
    assert_eq!(process.problem(404), "payment_not_found");
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

/// Sends `body` to `POST /payments` as `token` under `correlation`.
async fn create(app: &TestApp, token: &str, body: &Value, correlation: &str) -> common::Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/payments")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("x-correlation-id", correlation)
        .body(Body::from(body.to_string()))
        .unwrap();
    app.send(request).await
}

/// A and B both own a `pay-1`, each its own: every look-up, cached or not, sees the caller's
/// only, and a taken id is a `409` only within the organization that has it.
async fn the_same_payment_id_in_two_organizations(app: TestApp) {
    let ours = json!({"paymentId": "pay-1", "amount": "10.00", "currency": "EUR", "description": "Alpha hosting", "tags": ["alpha"]});
    let theirs = json!({"paymentId": "pay-1", "amount": "99.00", "currency": "USD", "description": "Beta storage", "tags": ["beta"]});
    // A asks first, so its answers are cached when B creates its own `pay-1`.
    assert_eq!(create(&app, TOKEN_A, &ours, "corr-a").await.status, StatusCode::CREATED);
    assert_eq!(app.get(TOKEN_A, "/payments/pay-1").await.body["amount"], "10.00");
    assert_eq!(
        app.get(TOKEN_B, "/payments/pay-1").await.problem(404),
        "payment_not_found"
    );
    let created = create(&app, TOKEN_B, &theirs, "corr-b").await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "another organization's id is free: {}",
        created.text
    );
    assert_eq!(created.header("location"), Some("/payments/pay-1"));
    let processed = app.post(TOKEN_B, "/payments/pay-1/process", Value::Null).await;
    assert_eq!(processed.body["status"], "completed", "{}", processed.text);

    for (token, org, amount, status, text, other) in [
        (TOKEN_A, ORG_A, "10.00", "pending", "alpha", "beta"),
        (TOKEN_B, ORG_B, "99.00", "completed", "beta", "alpha"),
    ] {
        let payment = app.get(token, "/payments/pay-1").await;
        assert_eq!(
            (payment.body["organizationId"].as_str(), payment.body["amount"].as_str()),
            (Some(org), Some(amount))
        );
        assert_eq!(payment.body["status"], status);
        let list = app.get(token, "/payments").await;
        assert_eq!(list.body["total"], 1);
        assert_eq!(list.body["items"][0]["amount"], amount);
        let found = app.get(token, &format!("/payments/search?q={text}")).await;
        assert_eq!(
            (found.body["total"].as_u64(), found.body["items"][0]["amount"].as_str()),
            (Some(1), Some(amount))
        );
        assert_eq!(
            app.get(token, &format!("/payments/search?q={other}")).await.body["total"],
            0
        );
        let suggestions = app.get(token, &format!("/payments/suggestions?q={}", &text[..3])).await;
        assert_eq!(
            suggestions.body["items"].as_array().unwrap().len(),
            1,
            "{}",
            suggestions.text
        );
        let history = app.get(token, "/payments/pay-1/history").await;
        let items = history.body["items"].as_array().unwrap();
        assert!(
            items.iter().all(|e| e["metadata"]["organizationId"] == org),
            "{}",
            history.text
        );
        assert_eq!(items[0]["data"]["amount"], amount);
        assert_eq!(items[0]["streamId"], format!("{org}/pay-1"));
        let replay = app.get(token, "/payments/pay-1/replay?version=1").await;
        assert_eq!(replay.body["payment"]["amount"], amount);
        let events = app.get(token, "/events/search?eventType=PaymentCreated").await;
        assert_eq!(events.body["total"], 1);
        assert_eq!(events.body["items"][0]["data"]["amount"], amount);
    }
    assert_eq!(
        ids(
            &app.get(TOKEN_A, "/events/timeline/corr-a").await.body["items"],
            "eventType"
        ),
        ["PaymentCreated"]
    );
    assert_eq!(
        app.get(TOKEN_A, "/events/timeline/corr-b").await.body["items"],
        json!([])
    );
    assert_eq!(
        app.get(TOKEN_B, "/events/timeline/corr-a").await.body["items"],
        json!([])
    );
    assert_eq!(
        app.get(TOKEN_B, "/events/correlations/corr-b").await.body["items"][0]["aggregateId"],
        "pay-1"
    );
    let version = app.get(TOKEN_A, "/payments/pay-1/replay?version=2").await;
    assert_eq!(
        version.problem(400),
        "validation_failed",
        "A's pay-1 has one event: {}",
        version.text
    );

    // A taken id is a conflict in its own organization only, and names nothing of the other.
    for (token, body) in [(TOKEN_A, &ours), (TOKEN_B, &theirs)] {
        let again = create(&app, token, body, "again").await;
        assert_eq!(again.problem(409), "payment_already_exists");
        let text = again.text.to_lowercase();
        let other = if token == TOKEN_A {
            ["org-b", "bob", "beta"]
        } else {
            ["org-a", "alice", "alpha"]
        };
        assert!(other.iter().all(|m| !text.contains(m)), "{}", again.text);
    }
    assert_eq!(app.get(TOKEN_A, "/payments/pay-1").await.body["version"], 1);
    assert_eq!(app.get(TOKEN_B, "/payments/pay-1").await.body["version"], 2);
}

#[tokio::test]
async fn the_same_payment_id_in_two_organizations_is_two_payments() {
    the_same_payment_id_in_two_organizations(TestApp::new()).await;
}

#[tokio::test]
async fn the_same_payment_id_in_two_organizations_is_two_payments_through_the_cache() {
    the_same_payment_id_in_two_organizations(with_cache()).await;
}
