//! Look-ups by id and checkpoint fields on a live cluster (`HIVE_ELASTICSEARCH_URL`; skipped
//! without it): `event_by_id` on event documents keyed `{aggregateId}:{version}`, newest-first
//! pages, and checkpoints with `lastProcessedTimestamp` and `version`, including documents
//! written before those fields existed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::live::{delete_indices, fresh, raw, server};
use elasticsearch::http::Method;
use hive_domain::{Checkpoint, CheckpointStore, EventEnvelope, EventLookup, EventSearch, EventStore, Page};
use serde_json::json;
use uuid::Uuid;

fn event(stream: &str, version: u64, second: i64) -> EventEnvelope {
    let at = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap() + Duration::seconds(second);
    EventEnvelope::new(stream, "Payment", "PaymentCreated", json!({"n": version}), version)
        .with_correlation_id("corr-lookups")
        .with_timestamp(at)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_found_by_id_with_their_global_position() {
    if !server() {
        return;
    }
    let store = fresh().await;
    let _delete = delete_indices(store.clone());
    let events = store.event_store();
    let a = events
        .append(
            "org-1/pay-1",
            0,
            vec![event("org-1/pay-1", 1, 0), event("org-1/pay-1", 2, 1)],
        )
        .await
        .unwrap();
    // Another organization's stream of the same payment id: its own events.
    let b = events
        .append("org-2/pay-1", 0, vec![event("org-2/pay-1", 1, 2)])
        .await
        .unwrap();
    for stored in a.iter().chain(&b) {
        let found = events.event_by_id(stored.event_id).await.unwrap().unwrap();
        assert_eq!(&found, stored, "the stored envelope, with its global position");
        assert!(found.global_position.is_some());
    }
    assert_eq!(events.event_by_id(Uuid::new_v4()).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newest_first_pages_are_the_exact_reverse_of_oldest_first() {
    if !server() {
        return;
    }
    let store = fresh().await;
    let _delete = delete_indices(store.clone());
    let events = store.event_store();
    // Equal timestamps across streams: the later global position comes first newest first.
    events
        .append("s-a", 0, vec![event("s-a", 1, 0), event("s-a", 2, 5)])
        .await
        .unwrap();
    events
        .append(
            "s-b",
            0,
            vec![event("s-b", 1, 0), event("s-b", 2, 5), event("s-b", 3, 9)],
        )
        .await
        .unwrap();
    let ids = |page: &hive_domain::EventPage| page.items.iter().map(|e| e.global_position).collect::<Vec<_>>();
    let oldest = events
        .events_by_correlation("corr-lookups", Page::new(0, 10))
        .await
        .unwrap();
    let mut reversed = ids(&oldest);
    reversed.reverse();
    let newest = events
        .events_by_correlation("corr-lookups", Page::new(0, 10).newest_first())
        .await
        .unwrap();
    assert_eq!(ids(&newest), reversed);
    assert_eq!(ids(&newest), [Some(5), Some(4), Some(2), Some(3), Some(1)]);
    for offset in 0..5 {
        let page = events
            .events_by_correlation("corr-lookups", Page::new(offset, 2).newest_first())
            .await
            .unwrap();
        let from = usize::try_from(offset).unwrap();
        assert_eq!(ids(&page), reversed[from..(from + 2).min(5)], "offset {offset}");
        assert_eq!(page.total, 5);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_keep_their_timestamp_and_version_and_old_ones_read_as_none_and_zero() {
    if !server() {
        return;
    }
    let store = fresh().await;
    let _delete = delete_indices(store.clone());
    let checkpoints = store.checkpoint_store();
    let last = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap() + Duration::nanoseconds(123_456_789);
    let saved = Checkpoint::new("payments-read-model", 42, Some(Uuid::new_v4()))
        .with_last_processed_timestamp(Some(last))
        .with_version(2);
    checkpoints.save(saved.clone()).await.unwrap();
    assert_eq!(
        checkpoints.load("payments-read-model").await.unwrap(),
        Some(saved.clone()),
        "to the nanosecond"
    );
    let o = store.options();
    let (_, stored) = raw(
        &store,
        Method::Get,
        &format!("/{}/_doc/payments-read-model", o.checkpoints_index),
        None,
    )
    .await;
    assert_eq!(
        stored["_source"]["lastProcessedTimestamp"],
        "2025-06-01T12:00:00.123456789Z"
    );
    assert_eq!(stored["_source"]["version"], 2, "seed 003's names");

    // Written by the previous version: no `lastProcessedTimestamp`, no `version`.
    let old = json!({
        "projection": "payment-search",
        "position": 7,
        "lastEventId": null,
        "updatedAt": "2025-05-01T00:00:00Z"
    });
    let path = format!("/{}/_doc/payment-search?refresh=true", o.checkpoints_index);
    let (status, _) = raw(&store, Method::Put, &path, Some(old)).await;
    assert!(status < 300, "{status}");
    let loaded = checkpoints.load("payment-search").await.unwrap().unwrap();
    assert_eq!(
        (loaded.position, loaded.last_processed_timestamp, loaded.version),
        (7, None, 0)
    );
    let listed = checkpoints.list().await.unwrap();
    assert_eq!(listed, vec![loaded, saved]);
}
