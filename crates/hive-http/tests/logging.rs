//! Nothing secret reaches the logs at `INFO`: across a create / process / fail / refund /
//! search / replay flow (and requests with a wrong token), the captured log output never holds
//! a bearer token, a payment's description or amount, or a failure's error text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{request, TestApp, TOKEN_A};
use hive_testkit::CapturedLog;
use serde_json::{json, Value};

const DESCRIPTION: &str = "Zanzibar payroll for Ms Quaternion";
const AMOUNT: &str = "4242.17";
const ERROR: &str = "card 4111-1111 declined by Bank Xylophone";
const WRONG_TOKEN: &str = "wrong-token-Vermilion-0042";

/// The flow, at `level`, returning what was logged.
async fn flow(level: tracing::Level) -> String {
    let captured = CapturedLog::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = TestApp::new();
    tracing::info!("flow starts");
    let body = json!({"paymentId": "log-1", "amount": AMOUNT, "currency": "EUR", "description": DESCRIPTION,
        "tags": ["Quaternion"], "metadata": {"note": DESCRIPTION}});
    assert_eq!(app.post(TOKEN_A, "/payments", body).await.status, StatusCode::CREATED);
    let processed = app.post(TOKEN_A, "/payments/log-1/process", Value::Null).await;
    assert_eq!(processed.status, StatusCode::OK);
    let refund = app
        .post(TOKEN_A, "/payments/log-1/refund", json!({"amount": AMOUNT}))
        .await;
    assert_eq!(refund.status, StatusCode::OK, "{}", refund.text);
    app.create(TOKEN_A, "log-2", AMOUNT, "EUR", DESCRIPTION).await;
    let failed = app.post(TOKEN_A, "/payments/log-2/fail", json!({"error": ERROR})).await;
    assert_eq!(failed.status, StatusCode::OK);
    for uri in [
        "/payments/search?q=Zanzibar",
        "/payments/suggestions?q=Zan",
        "/events/search?q=Zanzibar",
        "/payments/log-1/replay?version=1",
        "/payments/log-1/history",
        "/payments/statistics",
    ] {
        assert_eq!(app.get(TOKEN_A, uri).await.status, StatusCode::OK, "{uri}");
    }
    let invalid = app
        .post(TOKEN_A, "/payments/log-1/refund", json!({"amount": AMOUNT}))
        .await;
    assert!(invalid.status.is_client_error());
    let unknown = app.send(request(Method::GET, "/payments", WRONG_TOKEN, None)).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    tracing::info!("flow ends");
    captured.text()
}

#[tokio::test]
async fn no_token_or_payment_detail_is_logged_at_info() {
    let log = flow(tracing::Level::INFO).await;
    assert!(
        log.contains("flow starts") && log.contains("flow ends"),
        "the capture is not wired: {log}"
    );
    for secret in [
        TOKEN_A,
        WRONG_TOKEN,
        DESCRIPTION,
        "Zanzibar",
        "Quaternion",
        AMOUNT,
        "4242",
        ERROR,
        "Xylophone",
    ] {
        assert!(!log.contains(secret), "`{secret}` was logged at INFO:\n{log}");
    }
}

#[tokio::test]
async fn tokens_are_not_logged_even_at_trace() {
    let log = flow(tracing::Level::TRACE).await;
    assert!(log.lines().count() > 10, "TRACE logs the requests: {log}");
    for secret in [TOKEN_A, WRONG_TOKEN] {
        assert!(!log.contains(secret), "`{secret}` was logged at TRACE:\n{log}");
    }
}
