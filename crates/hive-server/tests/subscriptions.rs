//! The subscription feed of the running service over a real connection: catch-up, then the
//! events appended after connecting (woken by the service's event bus), and the group's
//! checkpoint.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

use std::time::{Duration, Instant};

mod common;

use common::groups::SseClient;
use common::{call, start, token};
use hive_server::config::Layer;
use serde_json::json;

#[tokio::test]
async fn the_feed_catches_up_then_follows_the_log_live_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(Layer {
        data_dir: Some(dir.path().display().to_string()),
        ..Layer::default()
    })
    .await;
    let token = token(dir.path());
    let create = |id: &'static str| {
        let body = json!({"paymentId": id, "amount": "10", "currency": "EUR", "description": "Feed"});
        call(
            reqwest::Method::POST,
            format!("{}/payments", server.base),
            &token,
            Some(body),
        )
    };
    assert_eq!(create("feed-1").await.0, 201);
    let feed = || SseClient::open(&server.base, &token, "/subscriptions/billing-sync/events");
    let mut response = feed().await;
    let (id, event, data) = response.next().await;
    assert_eq!((id, event.as_str()), (1, "PaymentCreated"));
    assert_eq!(data["aggregateId"], "feed-1");
    let appended = Instant::now();
    assert_eq!(create("feed-2").await.0, 201);
    let (id, _, data) = response.next().await;
    assert_eq!((id, &data["aggregateId"]), (2, &json!("feed-2")));
    println!("live event received {:?} after its append", appended.elapsed());
    drop(response);

    let ack = format!("{}/subscriptions/billing-sync/ack", server.base);
    let (status, body) = call(reqwest::Method::POST, ack.clone(), &token, Some(json!({"position": 2}))).await;
    assert_eq!((status, &body["position"]), (200, &json!(2)), "{body}");
    let (_, older) = call(reqwest::Method::POST, ack, &token, Some(json!({"position": 1}))).await;
    assert_eq!(older["position"], 2, "acks only move forward");
    let checkpoint = format!("{}/subscriptions/billing-sync", server.base);
    let (_, stored) = call(reqwest::Method::GET, checkpoint, &token, None).await;
    assert_eq!(stored["position"], 2);

    // A feed left open does not hold the graceful shutdown: it ends as the shutdown begins.
    let mut open = feed().await;
    assert_eq!(create("feed-3").await.0, 201);
    let (id, _, _) = open.next().await;
    assert_eq!(id, 3, "resumed after the group's checkpoint (2)");
    tokio::time::timeout(Duration::from_secs(10), server.stop())
        .await
        .expect("the service stops with a feed open");
    assert!(
        open.ends_within(Duration::from_secs(5)).await,
        "the feed ended with the service"
    );
}

#[tokio::test]
async fn a_groups_checkpoint_survives_a_restart_on_the_embedded_durable_store() {
    let dir = tempfile::tempdir().unwrap();
    let layer = || Layer {
        data_dir: Some(dir.path().display().to_string()),
        ..Layer::default()
    };
    let server = start(layer()).await;
    let token = token(dir.path());
    let body = json!({"paymentId": "kept-1", "amount": "10", "currency": "EUR", "description": "Kept"});
    let (status, _) = call(
        reqwest::Method::POST,
        format!("{}/payments", server.base),
        &token,
        Some(body),
    )
    .await;
    assert_eq!(status, 201);
    let ack = format!("{}/subscriptions/billing-sync/ack", server.base);
    let (status, _) = call(reqwest::Method::POST, ack, &token, Some(json!({"position": 1}))).await;
    assert_eq!(status, 200);
    server.stop().await;
    assert!(dir
        .path()
        .join(hive_server::stores::SUBSCRIPTIONS_DIR)
        .join("checkpoints.json")
        .exists());

    let server = start(layer()).await;
    let url = format!("{}/subscriptions/billing-sync", server.base);
    let (_, stored) = call(reqwest::Method::GET, url, &token, None).await;
    assert_eq!(stored["position"], 1, "{stored}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_group_on_the_embedded_durable_store_keeps_its_checkpoint_and_parked_events() {
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer {
        data_dir: Some(dir.path().display().to_string()),
        ..Layer::default()
    };
    common::groups::group_survives_a_restart(layer, dir.path()).await;
}
