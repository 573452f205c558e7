//! The service with `cache = "moka+redis"` on a `redis-server` of its own: `/readyz` reports
//! Redis `up`, then `degraded` (not down) once it is stopped, while the API keeps answering
//! fresh data and `/metrics` counts the failures. Skipped when `redis-server` is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

use std::time::Duration;

mod common;

use common::redis::OwnRedis;
use hive_server::app::App;
use hive_server::config::{Config, Layer};
use serde_json::{json, Value};

async fn call(method: reqwest::Method, url: String, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_makes_the_service_degraded_not_down() {
    let Some(redis) = OwnRedis::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer {
        data_dir: Some(dir.path().display().to_string()),
        store: Some("memory".into()),
        cache: Some("moka+redis".into()),
        redis_url: Some(redis.url()),
        ..Layer::default()
    };
    let app = App::start(Config::resolve(Config::defaults().overridden_by(layer)).unwrap())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(hive_server::serve::serve(app, listener, std::future::pending()));
    let token = loop {
        if let Ok(token) = std::fs::read_to_string(dir.path().join("dev-token")) {
            if reqwest::get(format!("{base}/healthz")).await.is_ok() {
                break token.trim().to_owned();
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let (status, ready) = call(reqwest::Method::GET, format!("{base}/readyz"), "", None).await;
    assert_eq!(
        (status, &ready["status"], &ready["checks"]["redis"]["status"]),
        (200, &json!("ready"), &json!("up"))
    );

    let create = json!({"paymentId": "pay-c", "amount": "10.00", "currency": "EUR", "description": "cached"});
    assert_eq!(
        call(reqwest::Method::POST, format!("{base}/payments"), &token, Some(create))
            .await
            .0,
        201
    );
    let (_, first) = call(reqwest::Method::GET, format!("{base}/payments/pay-c"), &token, None).await;
    assert_eq!(first["status"], "pending");

    drop(redis);
    let (_, processed) = call(
        reqwest::Method::POST,
        format!("{base}/payments/pay-c/process"),
        &token,
        None,
    )
    .await;
    assert_eq!(processed["status"], "completed");
    let (status, view) = call(reqwest::Method::GET, format!("{base}/payments/pay-c"), &token, None).await;
    assert_eq!(
        (status, &view["status"]),
        (200, &json!("completed")),
        "fresh without Redis"
    );
    let (status, ready) = call(reqwest::Method::GET, format!("{base}/readyz"), "", None).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "degraded");
    assert_eq!(ready["checks"]["redis"]["status"], "degraded");
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains(r#"hive_cache_errors_total{level="l2"}"#), "{metrics}");
    assert!(
        metrics.contains(r#"hive_cache_invalidations_total{level="l1"}"#),
        "{metrics}"
    );
    server.abort();
}
