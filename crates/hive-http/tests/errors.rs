//! Every error is an RFC 7807 problem with the right status: 401, 403, 404, 405, 409, 413, 422, 503.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{raw, request, Mode, Options, TestApp, ORG_B, TOKEN_A, USER_B};
use hive_http::HttpConfig;
use serde_json::{json, Value};

fn create_body(id: &str) -> Value {
    json!({"paymentId": id, "amount": "10", "currency": "EUR", "description": "x"})
}

#[tokio::test]
async fn missing_or_bad_tokens_are_401_with_www_authenticate() {
    let app = TestApp::new();
    for token in ["", "wrong-token", "token-of-org-a-but-longer"] {
        let reply = app.get(token, "/payments").await;
        assert_eq!(reply.problem(401), "unauthorized");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    }
    let basic = Request::get("/payments")
        .header(header::AUTHORIZATION, "Basic dXNlcjpwYXNz")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(basic).await.problem(401), "unauthorized");
    let post = app.post("nope", "/payments", create_body("p")).await;
    assert_eq!(post.problem(401), "unauthorized");
    assert!(!post.text.contains("nope"), "the token is never echoed");
}

#[tokio::test]
async fn acting_for_another_organization_or_user_is_403() {
    let app = TestApp::new();
    let mut body = create_body("p-403");
    body["organizationId"] = json!(ORG_B);
    assert_eq!(app.post(TOKEN_A, "/payments", body).await.problem(403), "forbidden");
    let mut body = create_body("p-403");
    body["userId"] = json!(USER_B);
    assert_eq!(app.post(TOKEN_A, "/payments", body).await.problem(403), "forbidden");
    assert_eq!(
        app.get(TOKEN_A, "/payments/p-403").await.problem(404),
        "payment_not_found"
    );
    let mut own = create_body("p-own");
    own["organizationId"] = json!(common::ORG_A);
    assert_eq!(app.post(TOKEN_A, "/payments", own).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn unknown_payments_and_routes_are_404_and_wrong_methods_405() {
    let app = TestApp::new();
    assert_eq!(
        app.get(TOKEN_A, "/payments/nope").await.problem(404),
        "payment_not_found"
    );
    assert_eq!(
        app.get(TOKEN_A, "/payments/nope/history").await.problem(404),
        "payment_not_found"
    );
    assert_eq!(
        app.get(TOKEN_A, "/payments/nope/replay").await.problem(404),
        "payment_not_found"
    );
    assert_eq!(
        app.post(TOKEN_A, "/payments/nope/process", Value::Null)
            .await
            .problem(404),
        "payment_not_found"
    );
    assert_eq!(app.get(TOKEN_A, "/nowhere").await.problem(404), "route_not_found");
    assert_eq!(app.get("", "/nowhere/at/all").await.problem(404), "route_not_found");
    let delete = app.send(request(Method::DELETE, "/payments/p", TOKEN_A, None)).await;
    assert_eq!(delete.problem(405), "method_not_allowed");
    assert!(delete.header("allow").unwrap().contains("GET"));
    let get = app.get(TOKEN_A, "/payments/p/process").await;
    assert_eq!(get.problem(405), "method_not_allowed");
}

#[tokio::test]
async fn a_conflict_left_after_retries_is_409() {
    let app = TestApp::new();
    app.create(TOKEN_A, "c-1", "10", "EUR", "x").await;
    app.store.set(Mode::Conflict);
    let reply = app.post(TOKEN_A, "/payments/c-1/process", Value::Null).await;
    assert_eq!(reply.problem(409), "concurrency_conflict");
    assert!(reply.body["expected"].is_u64() && reply.body["actual"].is_u64());
    app.store.set(Mode::Normal);
    let again = app.post(TOKEN_A, "/payments/c-1/process", Value::Null).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "a conflict is not remembered: {}",
        again.text
    );
    assert!(app.metrics.render().contains("hive_concurrency_conflicts_total 1"));
}

#[tokio::test]
async fn concurrent_refunds_never_overdraw() {
    let app = TestApp::new();
    app.completed(TOKEN_A, "cr-1", "100", "EUR", "x").await;
    let refunds = (0..8).map(|_| app.post(TOKEN_A, "/payments/cr-1/refund", json!({"amount": "30"})));
    let replies = futures::future::join_all(refunds).await;
    let ok = replies.iter().filter(|r| r.status == StatusCode::OK).count();
    for reply in replies.iter().filter(|r| r.status != StatusCode::OK) {
        let code = reply.problem(reply.status.as_u16()).to_owned();
        assert!([
            "refund_exceeds_remaining",
            "payment_not_refundable",
            "concurrency_conflict"
        ]
        .contains(&code.as_str()));
    }
    assert_eq!(ok, 3, "3 × 30 fit in 100, a 4th does not");
    let payment = app.get(TOKEN_A, "/payments/cr-1").await;
    assert_eq!(payment.body["refundAmount"], "90.00");
}

#[tokio::test]
async fn a_broken_invariant_is_422_with_its_code_and_a_taken_id_409() {
    let app = TestApp::new();
    app.create(TOKEN_A, "i-1", "10", "EUR", "x").await;
    let refund = app.post(TOKEN_A, "/payments/i-1/refund", json!({"amount": "1"})).await;
    assert_eq!(refund.problem(422), "payment_not_refundable");
    let duplicate = app.post(TOKEN_A, "/payments", create_body("i-1")).await;
    assert_eq!(duplicate.problem(409), "payment_already_exists");
    app.post(TOKEN_A, "/payments/i-1/process", Value::Null).await;
    let twice = app.post(TOKEN_A, "/payments/i-1/process", Value::Null).await;
    assert_eq!(twice.problem(422), "payment_not_pending");
    let over = app.post(TOKEN_A, "/payments/i-1/refund", json!({"amount": "11"})).await;
    assert_eq!(over.problem(422), "refund_exceeds_remaining");
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let config = HttpConfig {
        body_limit: 1024,
        ..HttpConfig::default()
    };
    let app = TestApp::with(Options {
        config,
        ..Options::default()
    });
    let big = json!({"amount": "1", "currency": "EUR", "description": "x".repeat(4096)}).to_string();
    let reply = app
        .send(raw(Method::POST, "/payments", TOKEN_A, "application/json", big.clone()))
        .await;
    assert_eq!(reply.problem(413), "payload_too_large");
    let chunks: Vec<Result<String, std::io::Error>> = big
        .as_bytes()
        .chunks(100)
        .map(|c| Ok(String::from_utf8(c.to_vec()).unwrap()))
        .collect();
    let streamed = Body::from_stream(futures::stream::iter(chunks));
    let reply = app
        .send(raw(Method::POST, "/payments", TOKEN_A, "application/json", streamed))
        .await;
    assert_eq!(reply.problem(413), "payload_too_large");
}

#[tokio::test]
async fn an_unreachable_store_is_503_and_nothing_is_written() {
    let app = TestApp::new();
    app.store.set(Mode::Unavailable);
    let reply = app.post(TOKEN_A, "/payments", create_body("u-1")).await;
    assert_eq!(reply.problem(503), "backend_unavailable");
    app.store.set(Mode::Normal);
    assert_eq!(
        app.get(TOKEN_A, "/payments/u-1").await.problem(404),
        "payment_not_found"
    );
    assert_eq!(
        app.post(TOKEN_A, "/payments", create_body("u-1")).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_request_over_the_timeout_is_503_timeout() {
    let config = HttpConfig {
        request_timeout: Duration::from_millis(100),
        ..HttpConfig::default()
    };
    let app = TestApp::with(Options {
        config,
        ..Options::default()
    });
    app.store.set(Mode::Slow);
    let reply = app.post(TOKEN_A, "/payments", create_body("slow")).await;
    assert_eq!(reply.problem(503), "timeout");
}
