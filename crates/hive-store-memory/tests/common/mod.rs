//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use hive_domain::{EventEnvelope, EventStore, Metadata};
use serde_json::json;

/// An event of `stream` at `version`, with some metadata to index.
pub fn ev(stream: &str, version: u64) -> EventEnvelope {
    EventEnvelope::new(
        stream,
        "Payment",
        "PaymentCreated",
        json!({"stream": stream, "v": version}),
        version,
    )
    .with_correlation_id(format!("req-{stream}"))
    .with_metadata(Metadata::default().with_organization("org-1").with_user("user-1"))
}

/// `count` events of `stream` following `after`.
pub fn batch(stream: &str, after: u64, count: u64) -> Vec<EventEnvelope> {
    (after + 1..=after + count).map(|v| ev(stream, v)).collect()
}

/// The whole global log, read in pages.
pub async fn read_everything(store: &impl EventStore) -> Vec<EventEnvelope> {
    let mut out = Vec::new();
    loop {
        let page = store.read_all(out.len() as u64, 1_000).await.unwrap();
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

/// Asserts global positions 1..=n and gap-free versions per stream.
pub fn assert_gap_free(events: &[EventEnvelope]) {
    let mut versions = std::collections::HashMap::<&str, u64>::new();
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event.global_position, Some(i as u64 + 1), "global positions have a gap");
        let version = versions.entry(&event.aggregate_id).or_default();
        *version += 1;
        assert_eq!(
            event.version, *version,
            "stream {} has a version gap",
            event.aggregate_id
        );
    }
}

/// A new directory holding the log and stream key of `dir`, without its index checkpoint:
/// opening it replays the whole log.
pub fn copy_without_checkpoint(dir: &std::path::Path) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for file in [hive_store_memory::EVENT_LOG_FILE, "events.key"] {
        std::fs::copy(dir.join(file), copy.path().join(file)).unwrap();
    }
    copy
}

/// Asserts that `store` (opened from `dir`) answers everything as a store opened on a copy of
/// its log without checkpoint, and keeps an index of the same size.
pub async fn assert_answers_as_a_full_replay(store: &hive_store_memory::MemoryEventStore, dir: &std::path::Path) {
    let copy = copy_without_checkpoint(dir);
    let options = hive_store_memory::DurableOptions::default().with_index_checkpoint_every(0);
    let replayed = hive_store_memory::MemoryEventStore::open(copy.path(), options)
        .await
        .unwrap();
    // The body cache holds what each happened to read (a replayed tail, a checked record): not
    // part of what the store answers.
    let (ours, theirs) = (store.stats(), replayed.stats());
    assert_eq!(
        (ours.events, ours.index_bytes),
        (theirs.events, theirs.index_bytes),
        "index as after a full replay"
    );
    let answers = hive_testkit::StoreAnswers::of(store).await.unwrap();
    assert_eq!(answers, hive_testkit::StoreAnswers::of(&replayed).await.unwrap());
    assert!(answers.head > 0);
}
