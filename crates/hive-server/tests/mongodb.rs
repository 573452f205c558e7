//! The whole service on MongoDB (`store = "mongodb"`): create → process → query, restart →
//! still there, the read model's checkpoint kept in MongoDB. Skipped without `HIVE_MONGODB_URI`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

use std::path::Path;

mod common;

use common::groups::group_survives_a_restart;
use common::{call, start as start_with, token, Running};
use hive_server::config::Layer;
use hive_store_mongodb::{MongoOptions, MongoStore};
use serde_json::json;

fn layer(data_dir: &Path, uri: &str, database: &str) -> Layer {
    Layer {
        data_dir: Some(data_dir.display().to_string()),
        store: Some("mongodb".into()),
        mongodb_uri: Some(uri.into()),
        mongodb_database: Some(database.into()),
        ..Layer::default()
    }
}

async fn start(data_dir: &Path, uri: &str, database: &str) -> Running {
    start_with(layer(data_dir, uri, database)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_runs_on_mongodb_and_keeps_its_data_across_a_restart() {
    let Some(uri) = hive_testkit::backend::url(hive_testkit::backend::MONGODB) else {
        return;
    };
    let database = format!("hive_test_{}", uuid::Uuid::new_v4().simple());
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &uri, &database).await;
    let token = token(dir.path());
    let (status, ready) = call(reqwest::Method::GET, format!("{}/readyz", server.base), &token, None).await;
    assert_eq!(status, 200, "MongoDB is reachable: {ready}");
    let (status, created) = call(
        reqwest::Method::POST,
        format!("{}/payments", server.base),
        &token,
        Some(json!({"paymentId": "pay-mongo", "amount": "42.50", "currency": "EUR", "description": "Mongo test"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let (status, processed) = call(
        reqwest::Method::POST,
        format!("{}/payments/pay-mongo/process", server.base),
        &token,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{processed}");
    let (status, payment) = call(
        reqwest::Method::GET,
        format!("{}/payments/pay-mongo", server.base),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{payment}");
    assert_eq!(payment["status"], "completed");
    server.stop().await;

    let server = start(dir.path(), &uri, &database).await;
    let (status, payment) = call(
        reqwest::Method::GET,
        format!("{}/payments/pay-mongo", server.base),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{payment}");
    assert_eq!(payment["status"], "completed");
    assert_eq!(payment["amount"], "42.50");
    assert_eq!(payment["version"], 2);
    let (status, stats) = call(
        reqwest::Method::GET,
        format!("{}/payments/statistics", server.base),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["byStatus"]["completed"]["EUR"]["totalAmount"], "42.50", "{stats}");
    let (status, search) = call(
        reqwest::Method::GET,
        format!("{}/payments/search?q=mongo", server.base),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        search["total"], 1,
        "the in-memory search index is rebuilt from the log: {search}"
    );
    let (status, history) = call(
        reqwest::Method::GET,
        format!("{}/payments/pay-mongo/history", server.base),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(history["items"].as_array().unwrap().len(), 2, "{history}");
    server.stop().await;

    let store = MongoStore::connect(&uri, MongoOptions::default().with_database(database))
        .await
        .unwrap();
    let checkpoint = hive_domain::CheckpointStore::list(&store.checkpoint_store())
        .await
        .unwrap();
    assert_eq!(
        checkpoint.len(),
        1,
        "only the read model's checkpoint is in MongoDB: {checkpoint:?}"
    );
    assert_eq!(checkpoint[0].position, 2);
    store.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_group_on_mongodb_keeps_its_checkpoint_and_parked_events() {
    let Some(uri) = hive_testkit::backend::url(hive_testkit::backend::MONGODB) else {
        return;
    };
    let database = format!("hive_test_{}", uuid::Uuid::new_v4().simple());
    let dir = tempfile::tempdir().unwrap();
    group_survives_a_restart(layer(dir.path(), &uri, &database), dir.path()).await;
}
