//! The service on the embedded durable store keeps its data across a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

use std::path::Path;

mod common;

use common::{call, start as start_with, token, Running};
use hive_server::config::Layer;
use serde_json::json;

async fn start(data_dir: &Path) -> Running {
    start_with(Layer {
        data_dir: Some(data_dir.display().to_string()),
        ..Layer::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_written_before_a_restart_is_served_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let token = token(dir.path());
    let (status, created) = call(
        reqwest::Method::POST,
        format!("{}/payments", server.base),
        &token,
        Some(json!({"paymentId": "pay-restart", "amount": "42.50", "currency": "EUR", "description": "Restart test"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let (status, _) = call(
        reqwest::Method::POST,
        format!("{}/payments/pay-restart/process", server.base),
        &token,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    server.stop().await;

    let server = start(dir.path()).await;
    assert_eq!(token, common::token(dir.path()), "the development token is kept");
    let (status, payment) = call(
        reqwest::Method::GET,
        format!("{}/payments/pay-restart", server.base),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{payment}");
    assert_eq!(payment["status"], "completed");
    assert_eq!(payment["amount"], "42.50");
    assert_eq!(payment["version"], 2);
    let (status, history) = call(
        reqwest::Method::GET,
        format!("{}/payments/pay-restart/history", server.base),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let types: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["PaymentCreated", "PaymentProcessed"]);
    let (status, search) = call(
        reqwest::Method::GET,
        format!("{}/payments/search?q=restart", server.base),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(search["total"], 1, "the search index is rebuilt from the log: {search}");
    server.stop().await;
}
