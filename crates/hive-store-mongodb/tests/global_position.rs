//! The global log stays gap-free in commit order while an append is in flight: a reader (a
//! projection) never moves past an append that has not committed, in both modes; a writer that
//! dies mid-append in fallback mode leaves nothing visible behind.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{drop_database, fresh, server};
use hive_domain::{EventCriteria, EventEnvelope, EventSearch, EventStore, Page};
use hive_store_mongodb::{MongoEventStore, MongoOptions, TransactionMode};
use serde_json::json;

fn events(stream: &str, after: u64, count: u64) -> Vec<EventEnvelope> {
    (after + 1..=after + count)
        .map(|v| EventEnvelope::new(stream, "Held", "Probed", json!({ "v": v }), v))
        .collect()
}

fn positions(events: &[EventEnvelope]) -> Vec<u64> {
    events.iter().map(|e| e.global_position.unwrap()).collect()
}

/// Holds one append open while three later appends try to commit; the log must not show
/// anything past the open append until it commits, then everything, gap-free.
async fn later_appends_wait_for_an_open_one(store: Arc<MongoEventStore>) {
    let first = store.append("before", 0, events("before", 0, 2)).await.unwrap();
    assert_eq!(positions(&first), [1, 2]);
    let held = store.append_held_open("slow", 0, events("slow", 0, 2)).await.unwrap();
    assert_eq!(positions(held.stored()), [3, 4]);

    let later: Vec<_> = (0..3)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let stream = format!("later-{i}");
                store.append(&stream, 0, events(&stream, 0, 1)).await.unwrap()
            })
        })
        .collect();
    // A projection tailing the log meanwhile: it must stop at 2.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let log = store.read_all(0, 100).await.unwrap();
        assert_eq!(positions(&log), [1, 2], "the log moved past the open append");
        assert_eq!(store.head_position().await.unwrap(), 2);
        assert_eq!(store.stream_version("slow").await.unwrap(), 0);
    }
    assert!(
        later.iter().all(|h| !h.is_finished()),
        "a later append committed while an earlier one was open"
    );

    let committed = held.commit().await.unwrap();
    assert_eq!(positions(&committed), [3, 4]);
    let mut later_positions = Vec::new();
    for handle in later {
        later_positions.extend(positions(&handle.await.unwrap()));
    }
    later_positions.sort_unstable();
    assert_eq!(later_positions, [5, 6, 7], "later appends come after the open one");
    let log = store.read_all(0, 100).await.unwrap();
    assert_eq!(positions(&log), [1, 2, 3, 4, 5, 6, 7], "gap-free, in commit order");
    assert_eq!(log[2].aggregate_id, "slow");
    assert_eq!(store.head_position().await.unwrap(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transactions_later_appends_wait_for_an_open_one() {
    if !server() {
        return;
    }
    let store = fresh(MongoOptions::default().with_lookup_indexes(false)).await;
    assert!(store.uses_transactions());
    let _drop = drop_database(store.clone());
    later_appends_wait_for_an_open_one(Arc::new(store.event_store())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fallback_later_appends_wait_for_an_open_one() {
    if !server() {
        return;
    }
    let options = MongoOptions::default()
        .with_transactions(TransactionMode::Never)
        .with_lookup_indexes(false);
    let store = fresh(options).await;
    let _drop = drop_database(store.clone());
    later_appends_wait_for_an_open_one(Arc::new(store.event_store())).await;
}

/// In fallback mode, a writer that dies after writing its events but before its commit leaves
/// them invisible; once its lease expires the next writer removes them and takes their
/// positions.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fallback_a_dead_writer_leaves_nothing_visible() {
    if !server() {
        return;
    }
    let options = MongoOptions::default()
        .with_transactions(TransactionMode::Never)
        .with_lease_ttl(Duration::from_millis(300));
    let store = fresh(options).await;
    let _drop = drop_database(store.clone());
    let events_store = store.event_store();
    events_store.append("alive", 0, events("alive", 0, 1)).await.unwrap();
    let dead = events_store
        .append_held_open("dead", 0, events("dead", 0, 2))
        .await
        .unwrap();
    assert_eq!(positions(dead.stored()), [2, 3]);
    drop(dead); // the writer dies: no commit, no lease release

    assert_eq!(positions(&events_store.read_all(0, 10).await.unwrap()), [1]);
    assert_eq!(events_store.stream_version("dead").await.unwrap(), 0);
    let criteria = EventCriteria {
        aggregate_id: Some("dead".into()),
        ..EventCriteria::default()
    };
    assert_eq!(events_store.search(&criteria, Page::first(10)).await.unwrap().total, 0);

    let next = events_store.append("next", 0, events("next", 0, 1)).await.unwrap();
    assert_eq!(positions(&next), [2], "the dead writer's positions are reused");
    let log = events_store.read_all(0, 10).await.unwrap();
    assert_eq!(positions(&log), [1, 2]);
    assert_eq!(log[1].aggregate_id, "next");
    let dead_again = events_store.append("dead", 0, events("dead", 0, 1)).await.unwrap();
    assert_eq!(positions(&dead_again), [3], "the dead writer's stream starts afresh");
}
