//! The whole billing flow over HTTP on PostgreSQL (`store = "postgres"`, `HIVE_POSTGRES_URL`;
//! skipped with a notice when unset, a failure in CI): every query answers the same after a
//! restart of the service (the read model and its checkpoint kept in PostgreSQL), and the same
//! as on the embedded store; `/readyz` names the server; a second instance on the schema
//! follows the first's appends as they commit.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

mod common;

use common::flow::get;
use common::groups::group_survives_a_restart;
use common::postgres::Schema;
use common::stores::{same_answers_after_a_restart, same_answers_as_the_embedded_store};
use common::{call, start, token, Running};
use hive_domain::{CheckpointStore, EventStore};
use hive_testkit::backend;

/// `/readyz` is `200`, its `postgres` check `up` and naming the server and its version.
async fn assert_ready(server: &Running, token: &str) {
    let (status, ready) = get(server, token, "/readyz", &[]).await;
    assert_eq!(status, 200, "{ready}");
    let check = &ready["checks"]["postgres"];
    assert_eq!(check["status"], "up", "{ready}");
    let backend = check["backend"].as_str().unwrap_or_default();
    let version = backend.strip_prefix("postgresql ").unwrap_or_default();
    assert!(
        version.starts_with(|c: char| c.is_ascii_digit()),
        "the check names the server and its version: {ready}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_billing_flow_on_postgres_answers_the_same_after_a_restart() {
    let Some(url) = backend::url(backend::POSTGRES) else {
        return;
    };
    let schema = Schema::new(url);
    let dir = tempfile::tempdir().unwrap();
    // The events and the read model come back from PostgreSQL; the search index catches up.
    same_answers_after_a_restart(schema.layer(dir.path()), dir.path(), assert_ready).await;
    let store = schema.connect().await;
    let head = EventStore::head_position(&store.event_store()).await.unwrap();
    let checkpoints = CheckpointStore::list(&store.checkpoint_store()).await.unwrap();
    let positions: Vec<(&str, u64)> = checkpoints
        .iter()
        .map(|c| (c.projection.as_str(), c.position))
        .collect();
    assert_eq!(
        positions,
        [("billing.payment_read_model", head)],
        "only the read model's checkpoint is in PostgreSQL, at the log's head"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_answers_the_billing_flow_like_the_embedded_store() {
    let Some(url) = backend::url(backend::POSTGRES) else {
        return;
    };
    let schema = Schema::new(url);
    let dir = tempfile::tempdir().unwrap();
    same_answers_as_the_embedded_store(schema.layer(dir.path()), dir.path(), "PostgreSQL").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_follows_what_another_appends_on_the_same_schema() {
    let Some(url) = backend::url(backend::POSTGRES) else {
        return;
    };
    let schema = Schema::new(url);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(schema.layer(dir_a.path())).await;
    let b = start(schema.layer(dir_b.path())).await;
    let (token_a, token_b) = (token(dir_a.path()), token(dir_b.path()));
    let payment = serde_json::json!({
        "paymentId": "pay-live", "amount": "9.99", "currency": "EUR", "description": "Appended elsewhere"
    });
    let (status, created) = call(
        reqwest::Method::POST,
        format!("{}/payments", a.base),
        &token_a,
        Some(payment),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    // The read model is shared: B answers from it at once.
    let (status, found) = get(&b, &token_b, "/payments/pay-live", &[]).await;
    assert_eq!((status, &found["amount"]), (200, &serde_json::json!("9.99")), "{found}");
    // B's search index is its own (in memory), fed by B's projection from the log it shares
    // with A: woken by the append's notification.
    let since = std::time::Instant::now();
    let query = [("q", "elsewhere".to_owned())];
    loop {
        let (status, searched) = get(&b, &token_b, "/payments/search", &query).await;
        assert_eq!(status, 200, "{searched}");
        if searched["total"] == 1 {
            break;
        }
        assert!(
            since.elapsed() < std::time::Duration::from_secs(10),
            "B never indexed A's payment: {searched}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // Woken by the notification it takes milliseconds (2 ms here); B's next poll would take up
    // to a second (1 s here, without the live feed).
    let took = since.elapsed();
    eprintln!("B's search index had A's payment {took:?} after A's answer");
    assert!(
        took < std::time::Duration::from_millis(750),
        "B's projection waited for its poll ({took:?}), not for the append's notification"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_group_on_postgres_keeps_its_checkpoint_and_parked_events() {
    let Some(url) = backend::url(backend::POSTGRES) else {
        return;
    };
    let schema = Schema::new(url);
    let dir = tempfile::tempdir().unwrap();
    group_survives_a_restart(schema.layer(dir.path()), dir.path()).await;
}
