//! `X-Correlation-Id` (echoed on every response) and `Idempotency-Key` (same key → same command).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{request, TestApp, TOKEN_A, TOKEN_B};
use serde_json::{json, Value};

fn with_header(mut request: Request<Body>, name: &'static str, value: &str) -> Request<Body> {
    request.headers_mut().insert(name, value.parse().unwrap());
    request
}

#[tokio::test]
async fn a_given_correlation_id_is_echoed_and_stored_on_the_events() {
    let app = TestApp::new();
    let body = json!({"paymentId": "c-1", "amount": "1", "currency": "EUR", "description": "x"});
    let create = with_header(
        request(Method::POST, "/payments", TOKEN_A, Some(body)),
        "x-correlation-id",
        "req-42",
    );
    let reply = app.send(create).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.header("x-correlation-id"), Some("req-42"));
    let history = app.get(TOKEN_A, "/payments/c-1/history").await;
    assert_eq!(history.body["items"][0]["correlationId"], "req-42");
    let get = with_header(
        request(Method::GET, "/payments/c-1", TOKEN_A, None),
        "x-correlation-id",
        "req-43",
    );
    assert_eq!(app.send(get).await.header("x-correlation-id"), Some("req-43"));
}

#[tokio::test]
async fn a_correlation_id_is_generated_when_absent_and_echoed_on_errors_too() {
    let app = TestApp::new();
    for (token, uri) in [
        (TOKEN_A, "/payments"),
        ("", "/payments"),
        (TOKEN_A, "/nope"),
        ("", "/healthz"),
    ] {
        let reply = app.get(token, uri).await;
        let id = reply.header("x-correlation-id").expect("a generated correlation id");
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7, "{uri}");
    }
    let first = app.get(TOKEN_A, "/payments").await;
    let second = app.get(TOKEN_A, "/payments").await;
    assert_ne!(first.header("x-correlation-id"), second.header("x-correlation-id"));
    let failed = with_header(
        request(Method::GET, "/payments/none", TOKEN_A, None),
        "x-correlation-id",
        "err-1",
    );
    let reply = app.send(failed).await;
    assert_eq!(reply.problem(404), "payment_not_found");
    assert_eq!(reply.header("x-correlation-id"), Some("err-1"));
}

#[tokio::test]
async fn an_invalid_correlation_id_is_400() {
    let app = TestApp::new();
    let long = "x".repeat(129);
    let too_long = with_header(
        request(Method::GET, "/payments", TOKEN_A, None),
        "x-correlation-id",
        &long,
    );
    let reply = app.send(too_long).await;
    assert_eq!(reply.problem(400), "bad_request");
    assert_eq!(reply.fields(), ["X-Correlation-Id"]);
    assert_ne!(reply.header("x-correlation-id"), Some(long.as_str()));
    let mut tab = request(Method::GET, "/payments", TOKEN_A, None);
    tab.headers_mut().insert(
        "x-correlation-id",
        axum::http::HeaderValue::from_bytes(b"a\tb").unwrap(),
    );
    assert_eq!(app.send(tab).await.problem(400), "bad_request");
    let mut high = request(Method::GET, "/payments", TOKEN_A, None);
    high.headers_mut().insert(
        "x-correlation-id",
        axum::http::HeaderValue::from_bytes(b"caf\xe9").unwrap(),
    );
    assert_eq!(app.send(high).await.problem(400), "bad_request");
    let max = "y".repeat(128);
    let ok = with_header(
        request(Method::GET, "/payments", TOKEN_A, None),
        "x-correlation-id",
        &max,
    );
    assert_eq!(app.send(ok).await.header("x-correlation-id"), Some(max.as_str()));
}

fn keyed(token: &str, uri: &str, key: &str, body: Option<Value>) -> Request<Body> {
    with_header(request(Method::POST, uri, token, body), "idempotency-key", key)
}

#[tokio::test]
async fn the_same_idempotency_key_replays_the_first_answer_without_a_second_event() {
    let app = TestApp::new();
    // No paymentId: each try generates another, yet the key makes it the same command.
    let body = json!({"amount": "10", "currency": "EUR", "description": "once"});
    let first = app.send(keyed(TOKEN_A, "/payments", "key-1", Some(body.clone()))).await;
    let second = app.send(keyed(TOKEN_A, "/payments", "key-1", Some(body))).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(first.body, second.body, "the same body");
    assert_eq!(first.header("location"), second.header("location"));
    assert_eq!(app.get(TOKEN_A, "/payments").await.body["total"], 1);
    let id = first.body["paymentId"].as_str().unwrap();

    let process = |key: &str| keyed(TOKEN_A, &format!("/payments/{id}/process"), key, None);
    let processed = app.send(process("key-2")).await;
    let again = app.send(process("key-2")).await;
    assert_eq!(processed.status, StatusCode::OK);
    assert_eq!(
        again.status,
        StatusCode::OK,
        "a replay, not payment_not_pending: {}",
        again.text
    );
    assert_eq!(processed.body, again.body);
    let history = app.get(TOKEN_A, &format!("/payments/{id}/history")).await;
    assert_eq!(
        history.body["items"].as_array().unwrap().len(),
        2,
        "one event per command"
    );

    let other_key = app.send(process("key-3")).await;
    assert_eq!(
        other_key.problem(422),
        "payment_not_pending",
        "another key is another command"
    );
}

#[tokio::test]
async fn the_same_key_from_another_organization_is_another_command() {
    let app = TestApp::new();
    let body = |id: &str| json!({"paymentId": id, "amount": "10", "currency": "EUR", "description": "x"});
    let a = app
        .send(keyed(TOKEN_A, "/payments", "shared-key", Some(body("k-a"))))
        .await;
    let b = app
        .send(keyed(TOKEN_B, "/payments", "shared-key", Some(body("k-b"))))
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.text);
    assert_eq!(b.body["paymentId"], "k-b");
    assert_eq!(app.get(TOKEN_B, "/payments/k-b").await.status, StatusCode::OK);
    assert_eq!(
        hive_http::idempotency::command_id("org-a", "shared-key"),
        hive_http::idempotency::command_id("org-a", "shared-key")
    );
}

#[tokio::test]
async fn a_bad_idempotency_key_is_400() {
    let app = TestApp::new();
    let refund = json!({"amount": "1"});
    let first = app
        .send(keyed(TOKEN_A, "/payments/none/refund", "k", Some(refund.clone())))
        .await;
    assert_eq!(first.problem(404), "payment_not_found");
    let long = "k".repeat(256);
    let reply = app
        .send(keyed(TOKEN_A, "/payments/none/refund", &long, Some(refund)))
        .await;
    assert_eq!(reply.problem(400), "bad_request");
    assert_eq!(reply.fields(), ["Idempotency-Key"]);
}
