//! The service on the embedded durable store keeps its data across a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

use std::path::Path;

mod common;

use chrono::Utc;
use common::{call, start as start_with, token, Running};
use hive_billing::{PaymentReadModel, PaymentRecord};
use hive_domain::Checkpoint;
use hive_server::config::Layer;
use hive_server::dev_token::DEV_ORGANIZATION;
use hive_server::saved_views::{READ_MODEL_FILE, SEARCH_INDEX_FILE};
use hive_store_memory::billing::MemoryPaymentReadModel;
use hive_testkit::billing::pending_payment;
use serde_json::json;

async fn start(data_dir: &Path) -> Running {
    start_with(Layer {
        data_dir: Some(data_dir.display().to_string()),
        ..Layer::default()
    })
    .await
}

/// `POST /payments` of a EUR payment.
async fn create(server: &Running, token: &str, id: &str, amount: &str, description: &str) -> (u16, serde_json::Value) {
    let body = json!({"paymentId": id, "amount": amount, "currency": "EUR", "description": description});
    call(
        reqwest::Method::POST,
        format!("{}/payments", server.base),
        token,
        Some(body),
    )
    .await
}

/// `GET` of `path` (from `/payments`).
async fn get(server: &Running, token: &str, path: &str) -> (u16, serde_json::Value) {
    call(reqwest::Method::GET, format!("{}{path}", server.base), token, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_written_before_a_restart_is_served_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let token = token(dir.path());
    let (status, created) = create(&server, &token, "pay-restart", "42.50", "Restart test").await;
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
    let (status, payment) = get(&server, &token, "/payments/pay-restart").await;
    assert_eq!(status, 200, "{payment}");
    assert_eq!(payment["status"], "completed");
    assert_eq!(payment["amount"], "42.50");
    assert_eq!(payment["version"], 2);
    let (status, history) = get(&server, &token, "/payments/pay-restart/history").await;
    assert_eq!(status, 200);
    let types: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["PaymentCreated", "PaymentProcessed"]);
    let (status, search) = get(&server, &token, "/payments/search?q=restart").await;
    assert_eq!(status, 200);
    assert_eq!(search["total"], 1, "the search index is back: {search}");
    server.stop().await;
}

/// The read model the service saved at shutdown, with its checkpoint.
fn saved_read_model(dir: &Path) -> (MemoryPaymentReadModel, Checkpoint) {
    MemoryPaymentReadModel::load_from(&dir.join(READ_MODEL_FILE))
        .unwrap()
        .expect("the read model is saved at shutdown")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payment_views_are_saved_at_shutdown_and_loaded_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let token = token(dir.path());
    let (status, created) = create(&server, &token, "pay-saved", "10.00", "Saved view").await;
    assert_eq!(status, 201, "{created}");
    server.stop().await;

    let (read_model, checkpoint) = saved_read_model(dir.path());
    assert_eq!(
        checkpoint.position, 1,
        "saved with the checkpoint of the one event applied"
    );
    assert_eq!(read_model.len(), 1);
    assert!(dir.path().join(SEARCH_INDEX_FILE).exists());

    // A payment only the saved file holds: served after the restart, so the read model was
    // loaded from the file, not rebuilt from the log.
    let marker = PaymentRecord {
        payment: pending_payment(DEV_ORGANIZATION, "pay-only-in-the-file", Utc::now()),
        position: 1,
    };
    read_model.upsert(marker).await.unwrap();
    read_model
        .save_to(&dir.path().join(READ_MODEL_FILE), &checkpoint, true)
        .unwrap();
    let server = start(dir.path()).await;
    let (status, payment) = get(&server, &token, "/payments/pay-only-in-the-file").await;
    assert_eq!(status, 200, "loaded from the saved file: {payment}");
    let (status, _) = call(
        reqwest::Method::POST,
        format!("{}/payments/pay-saved/process", server.base),
        &token,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    server.stop().await;
    assert_eq!(
        saved_read_model(dir.path()).1.position,
        2,
        "saved again at the next shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_saved_view_is_rebuilt_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let token = token(dir.path());
    let (status, _) = create(&server, &token, "pay-kept", "5.00", "Kept anyway").await;
    assert_eq!(status, 201);
    server.stop().await;

    std::fs::write(dir.path().join(READ_MODEL_FILE), b"HIVE garbage").unwrap();
    std::fs::write(dir.path().join(SEARCH_INDEX_FILE), b"").unwrap();
    let server = start(dir.path()).await;
    let (status, payment) = get(&server, &token, "/payments/pay-kept").await;
    assert_eq!(status, 200, "rebuilt from the log: {payment}");
    let (status, search) = get(&server, &token, "/payments/search?q=kept").await;
    assert_eq!(status, 200);
    assert_eq!(search["total"], 1, "{search}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_whose_projection_did_not_move_is_not_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let token = token(dir.path());
    let (status, _) = create(&server, &token, "pay-still", "3.00", "Nothing after it").await;
    assert_eq!(status, 201);
    server.stop().await;
    let path = dir.path().join(READ_MODEL_FILE);
    let written = std::fs::metadata(&path).unwrap().modified().unwrap();

    let server = start(dir.path()).await;
    let (status, _) = get(&server, &token, "/payments/pay-still").await;
    assert_eq!(status, 200);
    server.stop().await;
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        written,
        "no event since the last save: the file is left as it was"
    );
}
