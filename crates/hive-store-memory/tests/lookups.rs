//! `event_by_id` (in memory, and after reopening a durable data directory) and newest-first
//! pages of `search`, `events_by_type` and `events_by_correlation`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use chrono::{Duration, TimeZone, Utc};
use common::{batch, ev, read_everything};
use hive_domain::{
    EventCriteria, EventEnvelope, EventLookup, EventPage, EventSearch, EventStore, Page, SortOrder, TimeRange,
};
use hive_store_memory::{DurableOptions, MemoryEventStore};
use uuid::Uuid;

async fn open(dir: &Path) -> MemoryEventStore {
    MemoryEventStore::open(dir, DurableOptions::default()).await.unwrap()
}

/// Asserts that every stored event is found by its id, with its global position.
async fn assert_found_by_id(store: &MemoryEventStore, stored: &[EventEnvelope]) {
    for event in stored {
        let found = store.event_by_id(event.event_id).await.unwrap();
        assert_eq!(found.as_ref(), Some(event), "event {}", event.event_id);
        assert!(found.and_then(|e| e.global_position).is_some());
    }
    assert_eq!(store.event_by_id(Uuid::new_v4()).await.unwrap(), None);
}

#[tokio::test]
async fn event_by_id_finds_stored_events_in_memory() {
    let store = MemoryEventStore::new();
    let first = store.append("a", 0, batch("a", 0, 3)).await.unwrap();
    store.append("b", 0, batch("b", 0, 2)).await.unwrap();
    let found = store.event_by_id(first[1].event_id).await.unwrap().unwrap();
    assert_eq!((found.aggregate_id.as_str(), found.version), ("a", 2));
    assert_eq!(found.global_position, Some(2));
    assert_found_by_id(&store, &read_everything(&store).await).await;
    // An idempotent re-append stores nothing new: the ids still name the first events.
    store
        .append(
            "a",
            0,
            first
                .iter()
                .cloned()
                .map(|mut e| {
                    e.global_position = None;
                    e
                })
                .collect(),
        )
        .await
        .unwrap();
    assert_eq!(store.len(), 5);
    assert_found_by_id(&store, &read_everything(&store).await).await;
}

#[tokio::test]
async fn event_by_id_survives_reopening_a_durable_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    for round in 0..4u64 {
        for stream in ["a", "b", "c"] {
            store
                .append(stream, round * 3, batch(stream, round * 3, 3))
                .await
                .unwrap();
        }
    }
    let before = read_everything(&store).await;
    assert_eq!(before.len(), 36);
    store.close().await.unwrap();
    drop(store);

    // The id index is rebuilt from events.log on open.
    let store = open(dir.path()).await;
    assert_found_by_id(&store, &before).await;
    let later = store.append("d", 0, vec![ev("d", 1)]).await.unwrap();
    assert_eq!(
        store
            .event_by_id(later[0].event_id)
            .await
            .unwrap()
            .and_then(|e| e.global_position),
        Some(37)
    );
    store.close().await.unwrap();
    drop(store);

    // And again, with the events appended after the first reopen.
    let store = open(dir.path()).await;
    let after = read_everything(&store).await;
    assert_eq!(after.len(), 37);
    assert_eq!(after[..36], before[..]);
    assert_found_by_id(&store, &after).await;
}

/// 30 events over 3 streams, two correlation ids, timestamps with many ties, appended out of
/// timestamp order.
async fn seeded(store: &MemoryEventStore) {
    let at = Utc.with_ymd_and_hms(2024, 5, 1, 23, 0, 0).unwrap();
    for i in 0..30u64 {
        let stream = format!("s{}", i % 3);
        let event = ev(&stream, i / 3 + 1)
            .with_timestamp(at + Duration::minutes(((i * 37) % 5) as i64 * 30))
            .with_correlation_id(format!("req-{}", i % 2));
        let event = if i % 4 == 0 {
            EventEnvelope {
                event_type: "PaymentCaptured".into(),
                ..event
            }
        } else {
            event
        };
        store.append(&stream, i / 3, vec![event]).await.unwrap();
    }
}

/// Every page of `look_up` in `order`, `size` at a time, checked against the total.
async fn walk<F, Fut>(order: SortOrder, size: u64, look_up: F) -> Vec<EventEnvelope>
where
    F: Fn(Page) -> Fut,
    Fut: std::future::Future<Output = EventPage>,
{
    let all = look_up(Page::new(0, Page::MAX_LIMIT).in_order(order)).await;
    let mut items = Vec::new();
    let mut offset = 0;
    loop {
        let page = look_up(Page::new(offset, size).in_order(order)).await;
        assert_eq!(page.total, all.total, "the total does not depend on the page");
        if page.items.is_empty() {
            break;
        }
        offset += page.items.len() as u64;
        items.extend(page.items);
    }
    assert_eq!(items, all.items, "pages cut the one order");
    assert_eq!(items.len() as u64, all.total);
    items
}

async fn assert_desc_reverses_asc<F, Fut>(what: &str, look_up: F)
where
    F: Fn(Page) -> Fut,
    Fut: std::future::Future<Output = EventPage>,
{
    let ascending = walk(SortOrder::Asc, 4, &look_up).await;
    assert!(!ascending.is_empty(), "{what} finds something");
    assert!(
        ascending
            .windows(2)
            .all(|w| (w[0].timestamp, w[0].global_position) < (w[1].timestamp, w[1].global_position)),
        "{what}: ascending by timestamp, then global position"
    );
    let mut descending = walk(SortOrder::Desc, 4, &look_up).await;
    descending.reverse();
    assert_eq!(descending, ascending, "{what}: newest first is the exact reverse");
    assert_eq!(walk(SortOrder::Desc, 7, &look_up).await.len(), ascending.len());
}

#[tokio::test]
async fn newest_first_pages_are_the_exact_reverse() {
    let dir = tempfile::tempdir().unwrap();
    let durable = open(dir.path()).await;
    for store in [MemoryEventStore::new(), durable] {
        seeded(&store).await;
        let s = &store;
        assert_desc_reverses_asc("search (everything)", |page| async move {
            s.search(&EventCriteria::default(), page).await.unwrap()
        })
        .await;
        assert_desc_reverses_asc("search (organization)", |page| async move {
            let criteria = EventCriteria {
                organization_id: Some("org-1".into()),
                ..EventCriteria::default()
            };
            s.search(&criteria, page).await.unwrap()
        })
        .await;
        assert_desc_reverses_asc("events_by_type", |page| async move {
            s.events_by_type("PaymentCreated", TimeRange::all(), page)
                .await
                .unwrap()
        })
        .await;
        assert_desc_reverses_asc("events_by_correlation", |page| async move {
            s.events_by_correlation("req-1", page).await.unwrap()
        })
        .await;

        let newest = s
            .search(&EventCriteria::default(), Page::first(3).newest_first())
            .await
            .unwrap();
        assert_eq!(newest.total, 30);
        let latest = newest.items[0].timestamp;
        assert!(read_everything(s).await.iter().all(|e| e.timestamp <= latest));
        let beyond = s
            .search(&EventCriteria::default(), Page::new(30, 5).newest_first())
            .await
            .unwrap();
        assert_eq!((beyond.total, beyond.items.len()), (30, 0));
    }
}
