//! `PostgresStore::notifications`: woken by NOTIFY at commit (not by the poll), never by a
//! rolled-back append, back after the listening connection is killed, and polling when the
//! store was given a pool.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{drop_schema, fresh, server};
use futures::StreamExt;
use hive_domain::{EventEnvelope, EventStore};
use hive_store_postgres::{Notifications, PostgresOptions, PostgresStore};
use serde_json::json;

fn events(stream: &str, count: u64) -> Vec<EventEnvelope> {
    (1..=count)
        .map(|v| EventEnvelope::new(stream, "Noted", "Happened", json!({ "v": v }), v))
        .collect()
}

/// The next head the stream yields within `within`, if any.
async fn next_head(heads: &mut Notifications, within: Duration) -> Option<u64> {
    tokio::time::timeout(within, heads.next()).await.ok().flatten()
}

/// A minute between polls: whatever arrives sooner came by NOTIFY.
fn slow_poll() -> PostgresOptions {
    PostgresOptions::default()
        .with_pool_size(4)
        .with_notification_poll(Duration::from_secs(60))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn appends_wake_subscribers_at_commit() {
    if !server() {
        return;
    }
    let store = fresh(slow_poll()).await;
    let _drop = drop_schema(store.clone());
    let events_store = store.event_store();
    let mut heads = store.notifications();
    assert_eq!(
        next_head(&mut heads, Duration::from_secs(5)).await,
        Some(0),
        "the head at subscription"
    );

    let held = events_store
        .append_held_open("held", 0, events("held", 2))
        .await
        .unwrap();
    assert_eq!(
        next_head(&mut heads, Duration::from_millis(300)).await,
        None,
        "woken before the commit"
    );
    held.commit().await.unwrap();
    assert_eq!(next_head(&mut heads, Duration::from_secs(5)).await, Some(2));

    let rolled_back = events_store
        .append_held_open("gone", 0, events("gone", 1))
        .await
        .unwrap();
    rolled_back.rollback().await.unwrap();
    assert_eq!(
        next_head(&mut heads, Duration::from_millis(300)).await,
        None,
        "woken by a rollback"
    );

    events_store.append("more", 0, events("more", 3)).await.unwrap();
    assert_eq!(next_head(&mut heads, Duration::from_secs(5)).await, Some(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_listener_reconnects_after_its_connection_is_killed() {
    if !server() {
        return;
    }
    let store = fresh(slow_poll()).await;
    let _drop = drop_schema(store.clone());
    let mut heads = store.notifications();
    assert_eq!(next_head(&mut heads, Duration::from_secs(5)).await, Some(0));

    let admin = common::raw_client().await;
    let killed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'hive-listener' AND query LIKE $1",
            &[&format!("%{}%", store.schema())],
        )
        .await
        .unwrap();
    assert_eq!(killed.len(), 1, "one listening connection");
    // Written while no one listens: the reconnected listener reads the head once it listens.
    store
        .event_store()
        .append("after", 0, events("after", 1))
        .await
        .unwrap();
    assert_eq!(next_head(&mut heads, Duration::from_secs(10)).await, Some(1));
    store
        .event_store()
        .append("later", 0, events("later", 1))
        .await
        .unwrap();
    assert_eq!(next_head(&mut heads, Duration::from_secs(5)).await, Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_given_a_pool_polls() {
    if !server() {
        return;
    }
    let owner = fresh(PostgresOptions::default().with_pool_size(2)).await;
    let _drop = drop_schema(owner.clone());
    let url = common::url().unwrap();
    let config: hive_store_postgres::tokio_postgres::Config = url.parse().unwrap();
    let manager =
        hive_store_postgres::deadpool_postgres::Manager::new(config, hive_store_postgres::tokio_postgres::NoTls);
    let pool = hive_store_postgres::deadpool_postgres::Pool::builder(manager)
        .max_size(2)
        .build()
        .unwrap();
    let options = owner
        .options()
        .clone()
        .with_notification_poll(Duration::from_millis(100));
    let store = PostgresStore::with_pool(pool, options).await.unwrap();
    let mut heads = store.notifications();
    assert_eq!(next_head(&mut heads, Duration::from_secs(5)).await, Some(0));
    owner
        .event_store()
        .append("polled", 0, events("polled", 4))
        .await
        .unwrap();
    assert_eq!(next_head(&mut heads, Duration::from_secs(5)).await, Some(4));
}

/// Another instance's appends wake a projection runner at once through `live_events`, though
/// the runner polls only every minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_events_wake_a_projection_runner_on_another_instance() {
    if !server() {
        return;
    }
    let reader = fresh(slow_poll()).await;
    let _drop = drop_schema(reader.clone());
    let url = common::url().unwrap();
    let writer = PostgresStore::connect(&url, reader.options().clone()).await.unwrap();
    writer
        .event_store()
        .append("before", 0, events("before", 2))
        .await
        .unwrap();

    let mut feed = reader.live_events(64);
    let applied = hive_testkit::Applied::default();
    let projection = std::sync::Arc::new(hive_testkit::Recorder::new("live", "reader", &applied));
    let runner = std::sync::Arc::new(hive_application::ProjectionRunner::new(
        std::sync::Arc::new(reader.event_store()),
        std::sync::Arc::new(reader.checkpoint_store()),
        projection,
    ));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let (runner, wake) = (std::sync::Arc::clone(&runner), feed.resubscribe());
        tokio::spawn(async move {
            runner
                .run_until(Some(wake), Duration::from_secs(60), async move {
                    let _ = stopped.await;
                })
                .await;
        })
    };
    // The runner's first catch-up applies what was there; wait for it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(applied.lock().unwrap().len(), 2);

    writer
        .event_store()
        .append("after", 0, events("after", 3))
        .await
        .unwrap();
    for version in 1..=3 {
        let event = tokio::time::timeout(Duration::from_secs(5), feed.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((event.aggregate_id.as_str(), event.version), ("after", version));
        assert_eq!(event.global_position, Some(2 + version));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while applied.lock().unwrap().len() < 5 {
        assert!(tokio::time::Instant::now() < deadline, "the runner was not woken");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(()).unwrap();
    running.await.unwrap();
}

/// Dropping every receiver of the feed closes its listening connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dropped_feed_closes_its_listener() {
    if !server() {
        return;
    }
    let store = fresh(slow_poll()).await;
    let _drop = drop_schema(store.clone());
    let admin = common::raw_client().await;
    let listeners = || async {
        let rows = admin
            .query(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = 'hive-listener' AND query LIKE $1",
                &[&format!("%{}%", store.schema())],
            )
            .await
            .unwrap();
        rows.len()
    };
    let feed = store.live_events(8);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while listeners().await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no listener started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(feed);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while listeners().await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the listener outlived its feed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
