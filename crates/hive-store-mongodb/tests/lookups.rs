//! Event look-ups on MongoDB beyond the shared suite: `event_by_id` (with its global position,
//! never an append still open) and newest-first pages (the exact reverse of oldest-first, ties
//! on the millisecond broken by global position), in both modes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bson::doc;
use chrono::{Duration, TimeZone, Utc};
use common::{drop_database, fresh, server};
use hive_domain::{
    event_order, EventCriteria, EventEnvelope, EventLookup, EventSearch, EventStore, Page, SortOrder, TimeRange,
};
use hive_store_mongodb::{MongoEventStore, MongoOptions, MongoStore, TransactionMode};
use serde_json::json;

async fn stores() -> Vec<MongoStore> {
    vec![
        fresh(MongoOptions::default()).await,
        fresh(MongoOptions::default().with_transactions(TransactionMode::Never)).await,
    ]
}

/// Events of three streams whose timestamps collide on the millisecond (and differ below it).
fn events(stream: &str, count: u64) -> Vec<EventEnvelope> {
    let base = Utc.with_ymd_and_hms(2024, 12, 19, 10, 0, 0).unwrap();
    (1..=count)
        .map(|v| {
            // 0 ms, 0 ms (+0.4 ms), 1 ms, 1 ms, 2 ms…
            let at = base + Duration::milliseconds(i64::try_from(v / 2).unwrap()) + Duration::microseconds(400);
            EventEnvelope::new(stream, "Probe", "Probed", json!({ "stream": stream, "v": v }), v)
                .with_timestamp(at)
                .with_correlation_id("corr-1")
        })
        .collect()
}

async fn fill(store: &MongoEventStore) -> Vec<EventEnvelope> {
    let mut all = Vec::new();
    for stream in ["c", "a", "b"] {
        all.extend(store.append(stream, 0, events(stream, 5)).await.unwrap());
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_are_found_by_id_with_their_position() {
    if !server() {
        return;
    }
    for store in stores().await {
        let _drop = drop_database(store.clone());
        let events = store.event_store();
        let stored = fill(&events).await;
        for event in &stored {
            let found = events.event_by_id(event.event_id).await.unwrap();
            assert_eq!(found.as_ref(), Some(event), "event {}", event.event_id);
            assert!(found.unwrap().global_position.is_some());
        }
        assert_eq!(events.event_by_id(uuid::Uuid::now_v7()).await.unwrap(), None);
        // An append still open is invisible to it.
        let held = events.append_held_open("open", 0, events_of("open")).await.unwrap();
        let open_id = held.stored()[0].event_id;
        assert_eq!(events.event_by_id(open_id).await.unwrap(), None, "an uncommitted event");
        let committed = held.commit().await.unwrap();
        assert_eq!(events.event_by_id(open_id).await.unwrap().as_ref(), Some(&committed[0]));
    }
}

fn events_of(stream: &str) -> Vec<EventEnvelope> {
    vec![EventEnvelope::new(stream, "Probe", "Probed", json!({}), 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_ids_are_indexed() {
    if !server() {
        return;
    }
    let store = fresh(MongoOptions::default()).await;
    let _drop = drop_database(store.clone());
    let indexes = store
        .database()
        .collection::<bson::Document>("events")
        .list_indexes()
        .await
        .unwrap();
    let indexes: Vec<mongodb::IndexModel> = futures::TryStreamExt::try_collect(indexes).await.unwrap();
    assert!(
        indexes.iter().any(|i| i.keys == doc! { "eventId": 1 }),
        "no index on eventId: {indexes:?}"
    );
}

/// Every page of every look-up newest first is the reference order reversed, paged after
/// ordering, with the same total.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn newest_first_pages_are_the_exact_reverse() {
    if !server() {
        return;
    }
    for store in stores().await {
        let _drop = drop_database(store.clone());
        let events = store.event_store();
        let mut expected = fill(&events).await;
        expected.sort_by(|a, b| event_order(b, a));
        let all = EventCriteria::default();
        for (offset, limit) in [(0, 100), (0, 4), (4, 4), (13, 4), (15, 3)] {
            let page = Page::new(offset, limit).newest_first();
            let window: Vec<EventEnvelope> = expected
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .cloned()
                .collect();
            let found = events.search(&all, page).await.unwrap();
            assert_eq!(
                (found.items, found.total),
                (window.clone(), 15),
                "search {offset}/{limit}"
            );
            let by_type = events.events_by_type("Probed", TimeRange::all(), page).await.unwrap();
            assert_eq!(by_type.items, window, "events_by_type {offset}/{limit}");
            let by_correlation = events.events_by_correlation("corr-1", page).await.unwrap();
            assert_eq!(by_correlation.items, window, "events_by_correlation {offset}/{limit}");
        }
        let oldest_first = events
            .search(&all, Page::first(100).in_order(SortOrder::Asc))
            .await
            .unwrap();
        let mut reversed = oldest_first.items;
        reversed.reverse();
        assert_eq!(reversed, expected);
    }
}
