//! Event look-ups past `index.max_result_window` (10 000) on a live cluster: a timeline of
//! more than 10 000 events of one correlation id pages to its end with `search_after`, oldest
//! first and newest first.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::live::{delete_indices, fresh, server};
use hive_domain::{EventEnvelope, EventSearch, EventStore, Page};
use serde_json::json;

/// Events in all: past the window by more than one page.
const EVENTS: u64 = 10_250;
/// Events per append (the store's batch size).
const BATCH: u64 = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_timeline_of_more_than_ten_thousand_events_pages_to_its_end_in_both_orders() {
    if !server() {
        return;
    }
    let store = fresh().await;
    let _delete = delete_indices(store.clone());
    let events = store.event_store();
    let correlation = format!("corr-{}", uuid::Uuid::new_v4().simple());
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    // Two streams written in turn; timestamps run backwards across batches, so the timeline's
    // order (timestamp, then position) differs from the log's.
    let mut written = 0u64;
    let mut versions = [0u64; 2];
    while written < EVENTS {
        let stream = usize::from(!written.is_multiple_of(2 * BATCH));
        let count = BATCH.min(EVENTS - written);
        let batch: Vec<EventEnvelope> = (0..count)
            .map(|i| {
                let n = written + i;
                let seconds = i64::try_from(EVENTS - n).unwrap() / 3;
                EventEnvelope::new(
                    format!("deep-{stream}"),
                    "Payment",
                    "PaymentCreated",
                    json!({"n": n}),
                    versions[stream] + i + 1,
                )
                .with_correlation_id(&correlation)
                .with_timestamp(start + Duration::seconds(seconds))
            })
            .collect();
        events
            .append(&format!("deep-{stream}"), versions[stream], batch)
            .await
            .unwrap();
        versions[stream] += count;
        written += count;
    }
    let mut expected = Vec::new();
    loop {
        let after = expected
            .last()
            .map_or(0, |e: &EventEnvelope| e.global_position.unwrap());
        let more = events.read_all(after, 5_000).await.unwrap();
        if more.is_empty() {
            break;
        }
        expected.extend(more);
    }
    assert_eq!(expected.len() as u64, EVENTS);
    expected.sort_by_key(|e| (e.timestamp, e.global_position));
    let positions = |items: &[EventEnvelope]| items.iter().map(|e| e.global_position).collect::<Vec<_>>();

    for (offset, limit) in [(0, 100), (9_950, 100), (10_000, 250), (10_200, 1_000), (5_000, 1_000)] {
        let page = events
            .events_by_correlation(&correlation, Page::new(offset, limit))
            .await
            .unwrap();
        assert_eq!(page.total, EVENTS, "total at offset {offset}");
        let from = usize::try_from(offset).unwrap();
        let to = (from + usize::try_from(limit).unwrap()).min(expected.len());
        assert_eq!(
            positions(&page.items),
            positions(&expected[from..to]),
            "page at offset {offset}, limit {limit}"
        );
    }
    let past_the_end = events
        .events_by_correlation(&correlation, Page::new(20_000, 10))
        .await
        .unwrap();
    assert!(past_the_end.items.is_empty());
    assert_eq!(past_the_end.total, EVENTS);

    // Newest first: the exact reverse (three events a second: equal timestamps, later
    // position first), paged past the window the same way.
    let newest: Vec<EventEnvelope> = expected.iter().rev().cloned().collect();
    for (offset, limit) in [(0, 100), (9_950, 100), (10_000, 250), (10_200, 1_000)] {
        let page = events
            .events_by_correlation(&correlation, Page::new(offset, limit).newest_first())
            .await
            .unwrap();
        assert_eq!(page.total, EVENTS, "total newest first at offset {offset}");
        let from = usize::try_from(offset).unwrap();
        let to = (from + usize::try_from(limit).unwrap()).min(newest.len());
        assert_eq!(
            positions(&page.items),
            positions(&newest[from..to]),
            "page newest first at offset {offset}, limit {limit}"
        );
    }
}
