//! The service on the embedded durable store keeps its data across a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

use std::path::Path;

mod common;

use chrono::Utc;
use common::{call, start as start_with, token, Running};
use hive_billing::{PaymentKey, PaymentReadModel, PaymentRecord};
use hive_domain::Checkpoint;
use hive_server::config::Layer;
use hive_server::dev_token::DEV_ORGANIZATION;
use hive_server::payment_views::{LEGACY_FILES, PAYMENT_VIEWS_FILE, SET_ASIDE_FILE};
use hive_store_memory::billing::disk::{DiskPaymentReadModel, DiskView, PaymentViewsFile};
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

/// The read model the service left in its data directory (it must be stopped).
async fn read_model_on_disk(dir: &Path) -> DiskPaymentReadModel {
    PaymentViewsFile::open(dir.join(PAYMENT_VIEWS_FILE), 1 << 20)
        .await
        .unwrap()
        .read_model()
}

/// The position of the read model's checkpoint saved in the views file.
async fn saved_position(dir: &Path) -> Option<u64> {
    read_model_on_disk(dir)
        .await
        .checkpoint()
        .await
        .unwrap()
        .map(|at| at.position)
}

/// Writes `payment` into the read model on disk at `position` and saves `checkpoint` with it:
/// what only the file holds, to tell a view resumed from the file from one rebuilt from the log.
async fn plant(dir: &Path, payment: hive_billing::PaymentView, position: u64, checkpoint: u64) {
    let read_model = read_model_on_disk(dir).await;
    read_model.upsert(PaymentRecord { payment, position }).await.unwrap();
    read_model
        .save_checkpoint(&Checkpoint::new("payments", checkpoint, None))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payment_views_are_saved_at_shutdown_and_resumed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let token = token(dir.path());
    let (status, created) = create(&server, &token, "pay-saved", "10.00", "Saved view").await;
    assert_eq!(status, 201, "{created}");
    server.stop().await;

    let read_model = read_model_on_disk(dir.path()).await;
    assert_eq!(
        read_model.checkpoint().await.unwrap().map(|at| at.position),
        Some(1),
        "saved with the checkpoint of the one event applied"
    );
    assert_eq!(read_model.payment_count().await.unwrap(), 1);
    drop(read_model);

    // A payment only the file holds: served after the restart, so the read model was resumed
    // from the file, not rebuilt from the log.
    let marker = pending_payment(DEV_ORGANIZATION, "pay-only-in-the-file", Utc::now());
    plant(dir.path(), marker, 1, 1).await;
    let server = start(dir.path()).await;
    let (status, payment) = get(&server, &token, "/payments/pay-only-in-the-file").await;
    assert_eq!(status, 200, "resumed from the file: {payment}");
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
        saved_position(dir.path()).await,
        Some(2),
        "saved again at the next shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_replays_only_the_events_after_the_saved_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let token = token(dir.path());
    for id in ["pay-1", "pay-2"] {
        let (status, _) = create(&server, &token, id, "3.00", "Before the restart").await;
        assert_eq!(status, 201);
    }
    server.stop().await;
    assert_eq!(saved_position(dir.path()).await, Some(2));

    // pay-1 rewritten in the file at the position of its one event, the checkpoint put back to
    // 1: replaying event 1 would overwrite it (equal positions overwrite); event 2 is replayed.
    let rewritten = hive_billing::PaymentView {
        description: "Only in the file".into(),
        ..read_model_on_disk(dir.path())
            .await
            .get(&PaymentKey::new(DEV_ORGANIZATION, "pay-1"))
            .await
            .unwrap()
            .unwrap()
            .payment
    };
    plant(dir.path(), rewritten, 1, 1).await;
    let server = start(dir.path()).await;
    let (status, payment) = get(&server, &token, "/payments/pay-1").await;
    assert_eq!(status, 200);
    assert_eq!(
        payment["description"], "Only in the file",
        "event 1 was not replayed: {payment}"
    );
    let (status, payment) = get(&server, &token, "/payments/pay-2").await;
    assert_eq!((status, &payment["description"]), (200, &json!("Before the restart")));
    server.stop().await;
    assert_eq!(
        saved_position(dir.path()).await,
        Some(2),
        "the tail was applied and saved"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_ahead_of_the_log_are_rebuilt_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let token = token(dir.path());
    let (status, _) = create(&server, &token, "pay-real", "5.00", "In the log").await;
    assert_eq!(status, 201);
    server.stop().await;

    let ghost = pending_payment(DEV_ORGANIZATION, "pay-ghost", Utc::now());
    plant(dir.path(), ghost, 99, 99).await;
    let server = start(dir.path()).await;
    let (status, _) = get(&server, &token, "/payments/pay-ghost").await;
    assert_eq!(status, 404, "the views were rebuilt: nothing of the other log is left");
    let (status, payment) = get(&server, &token, "/payments/pay-real").await;
    assert_eq!(status, 200, "{payment}");
    let (status, search) = get(&server, &token, "/payments/search?q=log").await;
    assert_eq!((status, &search["total"]), (200, &json!(1)), "{search}");
    server.stop().await;
    assert!(
        dir.path().join(SET_ASIDE_FILE).exists(),
        "the unusable file is kept aside"
    );
    assert_eq!(saved_position(dir.path()).await, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_views_file_is_rebuilt_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let token = token(dir.path());
    let (status, _) = create(&server, &token, "pay-kept", "5.00", "Kept anyway").await;
    assert_eq!(status, 201);
    server.stop().await;

    std::fs::write(dir.path().join(PAYMENT_VIEWS_FILE), b"HIVE garbage").unwrap();
    let server = start(dir.path()).await;
    let (status, payment) = get(&server, &token, "/payments/pay-kept").await;
    assert_eq!(status, 200, "rebuilt from the log: {payment}");
    let (status, search) = get(&server, &token, "/payments/search?q=kept").await;
    assert_eq!(status, 200);
    assert_eq!(search["total"], 1, "{search}");
    server.stop().await;
    assert_eq!(
        std::fs::read(dir.path().join(SET_ASIDE_FILE)).unwrap(),
        b"HIVE garbage",
        "the damaged file is kept aside"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_saved_views_of_an_earlier_version_are_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let token = token(dir.path());
    let (status, _) = create(&server, &token, "pay-old", "8.00", "Older version").await;
    assert_eq!(status, 201);
    server.stop().await;

    // A data directory as the previous version left it: JSON views, no views file.
    std::fs::remove_file(dir.path().join(PAYMENT_VIEWS_FILE)).unwrap();
    for name in LEGACY_FILES {
        std::fs::write(dir.path().join(name), b"HIVE{\"format\":1}").unwrap();
    }
    let server = start(dir.path()).await;
    let (status, payment) = get(&server, &token, "/payments/pay-old").await;
    assert_eq!(status, 200, "rebuilt from the log: {payment}");
    assert_eq!(payment["amount"], "8.00");
    let (status, search) = get(&server, &token, "/payments/search?q=older").await;
    assert_eq!((status, &search["total"]), (200, &json!(1)), "{search}");
    server.stop().await;
    for name in LEGACY_FILES {
        assert!(!dir.path().join(name).exists(), "{name} is removed");
    }
    assert_eq!(saved_position(dir.path()).await, Some(1));
}
