//! What the event store keeps in memory: at most 64 bytes of index per event for a history
//! shaped like the demo's payments, in both modes and after a durable store is reopened; and a
//! body cache that stays within its bound.

// Helpers outside `#[test]` functions panic on failure too, like the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::TryStreamExt;
use hive_domain::{EventEnvelope, EventStore};
use hive_store_memory::{DurableOptions, EventStoreStats, FsyncPolicy, MemoryEventStore};
use hive_testkit::synthetic::{append_payment_like, payment_like, EVENTS_PER_PAYMENT};

const PAYMENTS: usize = 200_000 / EVENTS_PER_PAYMENT;
const EVENTS: u64 = (PAYMENTS * EVENTS_PER_PAYMENT) as u64;
const MAX_INDEX_BYTES_PER_EVENT: f64 = 64.0;
/// In memory the body column holds 8-byte pointers where the durable one holds 4-byte offsets.
const MAX_IN_MEMORY_BYTES_PER_EVENT: f64 = MAX_INDEX_BYTES_PER_EVENT + 4.0;

fn assert_compact(what: &str, stats: EventStoreStats, max: f64) {
    assert_eq!(stats.events, EVENTS, "{what}");
    let per_event = stats.index_bytes_per_event();
    eprintln!(
        "{what}: {EVENTS} events, {} index bytes, {per_event:.1} per event",
        stats.index_bytes
    );
    assert!(per_event <= max, "{what}: {per_event:.1} index bytes per event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_takes_at_most_64_bytes_per_event() {
    let dir = tempfile::tempdir().unwrap();
    let cache = 1 << 20;
    let options = DurableOptions::default()
        .with_fsync(FsyncPolicy::Never)
        .with_body_cache_bytes(cache);
    let store = MemoryEventStore::open(dir.path(), options.clone()).await.unwrap();
    assert_eq!(append_payment_like(&store, PAYMENTS, 64).await.unwrap(), EVENTS);
    assert_compact("durable", store.stats(), MAX_INDEX_BYTES_PER_EVENT);
    let cached = store.stats().body_cache_bytes;
    assert!(cached > 0 && cached <= cache, "{cached} bytes cached, bound {cache}");
    store.close().await.unwrap();
    drop(store);

    let store = MemoryEventStore::open(dir.path(), options).await.unwrap();
    assert_compact("durable, reopened", store.stats(), MAX_INDEX_BYTES_PER_EVENT);
    // Replay parses each body once and keeps none (but the few read to confirm an id hash hit).
    let replayed = store.stats().body_cache_bytes;
    assert!(replayed < 64 << 10, "{replayed} bytes cached by the replay");
    let last = store.read_all(EVENTS - 1, 10).await.unwrap();
    assert_eq!(last[0].global_position, Some(EVENTS));
    let stream: Vec<EventEnvelope> = store.read_stream(&last[0].aggregate_id, 1).try_collect().await.unwrap();
    assert_eq!(stream.len(), EVENTS_PER_PAYMENT);
    assert!(store.stats().body_cache_bytes > replayed, "what was read is cached");

    let memory = MemoryEventStore::new();
    append_payment_like(&memory, PAYMENTS, 64).await.unwrap();
    assert_compact("in memory", memory.stats(), MAX_IN_MEMORY_BYTES_PER_EVENT);
}

#[tokio::test]
async fn appended_events_are_read_back_from_the_cache_or_the_log_alike() {
    for cache in [0, 4 << 10, 64 << 20] {
        let dir = tempfile::tempdir().unwrap();
        let options = DurableOptions::default().with_body_cache_bytes(cache);
        let store = MemoryEventStore::open(dir.path(), options).await.unwrap();
        let mut appended = Vec::new();
        for n in 0..20 {
            let (stream, events) = payment_like(n);
            appended.extend(store.append(&stream, 0, events).await.unwrap());
        }
        let stats = store.stats();
        assert!(stats.body_cache_bytes <= cache, "{cache}: {stats:?}");
        let everything = store.read_all(0, 100).await.unwrap();
        assert_eq!(everything, appended, "cache of {cache} bytes");
        for event in &appended[..5] {
            let stream: Vec<EventEnvelope> = store.read_stream(&event.aggregate_id, 1).try_collect().await.unwrap();
            assert_eq!(stream[usize::try_from(event.version).unwrap() - 1], *event);
        }
    }
}
