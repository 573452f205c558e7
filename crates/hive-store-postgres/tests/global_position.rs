//! The global log skips nothing (ADR 0009): while an append is open, later appends wait for
//! it and readers stop before it; a rolled-back append gives its positions to the next one;
//! a stale append is refused without waiting for the global position row.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{drop_schema, fresh_default, server};
use hive_domain::{EventEnvelope, EventStore};
use hive_store_postgres::PostgresEventStore;
use serde_json::json;

fn batch(stream: &str, after: u64, count: u64) -> Vec<EventEnvelope> {
    (after + 1..=after + count)
        .map(|v| EventEnvelope::new(stream, "Probe", "Probed", json!({ "v": v }), v))
        .collect()
}

fn positions_of(events: &[EventEnvelope]) -> Vec<u64> {
    events.iter().filter_map(|e| e.global_position).collect()
}

/// Appends one event to each of `streams` concurrently; their handles.
fn spawn_appends(
    store: &Arc<PostgresEventStore>,
    streams: &[&str],
) -> Vec<tokio::task::JoinHandle<Vec<EventEnvelope>>> {
    streams
        .iter()
        .map(|stream| {
            let (store, stream) = (Arc::clone(store), (*stream).to_owned());
            tokio::spawn(async move { store.append(&stream, 0, batch(&stream, 0, 1)).await.unwrap() })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_and_later_appends_wait_for_an_open_append() {
    if !server() {
        return;
    }
    let owner = fresh_default().await;
    let _drop = drop_schema(owner.clone());
    let store = Arc::new(owner.event_store());
    assert_eq!(
        positions_of(&store.append("first", 0, batch("first", 0, 2)).await.unwrap()),
        [1, 2]
    );
    let open = store.append_held_open("open", 0, batch("open", 0, 2)).await.unwrap();
    assert_eq!(positions_of(open.stored()), [3, 4]);

    let later = spawn_appends(&store, &["later-a", "later-b", "later-c"]);
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            positions_of(&store.read_all(0, 100).await.unwrap()),
            [1, 2],
            "read past an open append"
        );
        assert_eq!(store.head_position().await.unwrap(), 2);
        assert_eq!(store.stream_version("open").await.unwrap(), 0);
    }
    assert!(
        later.iter().all(|h| !h.is_finished()),
        "an append committed past an open one"
    );

    assert_eq!(positions_of(&open.commit().await.unwrap()), [3, 4]);
    let mut after: Vec<u64> = Vec::new();
    for handle in later {
        after.extend(positions_of(&handle.await.unwrap()));
    }
    after.sort_unstable();
    assert_eq!(after, [5, 6, 7]);
    let log = store.read_all(0, 100).await.unwrap();
    assert_eq!(positions_of(&log), (1..=7).collect::<Vec<_>>());
    assert_eq!(log[2].aggregate_id, "open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolled_back_append_gives_its_positions_to_the_next() {
    if !server() {
        return;
    }
    let owner = fresh_default().await;
    let _drop = drop_schema(owner.clone());
    let store = Arc::new(owner.event_store());
    store.append("kept", 0, batch("kept", 0, 1)).await.unwrap();
    let doomed = store
        .append_held_open("doomed", 0, batch("doomed", 0, 3))
        .await
        .unwrap();
    assert_eq!(positions_of(doomed.stored()), [2, 3, 4]);
    let waiting = spawn_appends(&store, &["next"]);
    tokio::time::sleep(Duration::from_millis(100)).await;
    doomed.rollback().await.unwrap();

    let next = waiting.into_iter().next().unwrap().await.unwrap();
    assert_eq!(positions_of(&next), [2], "the rolled-back positions are reused");
    let log = store.read_all(0, 100).await.unwrap();
    assert_eq!(positions_of(&log), [1, 2]);
    assert_eq!(
        store.stream_version("doomed").await.unwrap(),
        0,
        "a rolled-back stream has no version"
    );
    let again = store.append("doomed", 0, batch("doomed", 0, 1)).await.unwrap();
    assert_eq!(positions_of(&again), [3]);

    // A dropped (never finished) held append is a rollback too.
    let dropped = store
        .append_held_open("dropped", 0, batch("dropped", 0, 1))
        .await
        .unwrap();
    drop(dropped);
    assert_eq!(
        positions_of(&store.append("last", 0, batch("last", 0, 1)).await.unwrap()),
        [4]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stale_appends_are_refused_without_the_global_row() {
    if !server() {
        return;
    }
    let owner = fresh_default().await;
    let _drop = drop_schema(owner.clone());
    let store = owner.event_store();
    store.append("busy", 0, batch("busy", 0, 2)).await.unwrap();
    // Holds the global position row until it ends.
    let open = store.append_held_open("open", 0, batch("open", 0, 1)).await.unwrap();

    let started = Instant::now();
    let stale = store.append("busy", 1, batch("busy", 1, 1)).await.unwrap_err();
    let ahead = store.append("busy", 5, batch("busy", 5, 1)).await.unwrap_err();
    let existing = store.append("busy", 0, batch("busy", 0, 1)).await.unwrap_err();
    for error in [&stale, &ahead, &existing] {
        assert!(
            matches!(error, hive_domain::EventStoreError::Conflict { actual: 2, .. }),
            "{error:?}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "conflicts waited for the open append"
    );
    open.rollback().await.unwrap();
}

/// An append whose client stops inside its transaction is rolled back by the server after
/// `idle_in_transaction_timeout`: the other writers wait that long at most, and take its
/// positions.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_append_is_ended_by_the_server() {
    if !server() {
        return;
    }
    let options = hive_store_postgres::PostgresOptions::default()
        .with_pool_size(4)
        .with_idle_in_transaction_timeout(Some(Duration::from_millis(300)));
    let owner = common::fresh(options).await;
    let _drop = drop_schema(owner.clone());
    let store = owner.event_store();
    let stalled = store
        .append_held_open("stalled", 0, batch("stalled", 0, 2))
        .await
        .unwrap();
    assert_eq!(positions_of(stalled.stored()), [1, 2]);

    let started = Instant::now();
    let next = store.append("next", 0, batch("next", 0, 1)).await.unwrap();
    assert_eq!(positions_of(&next), [1], "the stalled append's positions are taken");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "waited {:?}",
        started.elapsed()
    );
    let late = stalled.commit().await.unwrap_err();
    assert!(matches!(late, hive_domain::EventStoreError::Unavailable(_)), "{late:?}");
    assert_eq!(store.stream_version("stalled").await.unwrap(), 0);
    assert_eq!(positions_of(&store.read_all(0, 10).await.unwrap()), [1]);
}
