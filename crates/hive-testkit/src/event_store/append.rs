//! Appending: optimistic concurrency, atomicity, validation, idempotency, counters.

use std::collections::HashSet;
use std::sync::Arc;

use hive_domain::EventStore;
use uuid::Uuid;

use super::PROBE;
use crate::support::{
    append_ok, assert_conflict, assert_invalid_batch, batch, head_of, ok, read_log, read_stream_vec, unique,
    version_of, versions,
};

/// An append at a stale or ahead-of-stream expected version fails with
/// `EventStoreError::Conflict` carrying the stream, the expected and the actual version.
pub async fn conflict_is_typed<S: EventStore + ?Sized + 'static>(store: Arc<S>) {
    let stream = unique("conflict");
    append_ok(&*store, &stream, 0, batch(&stream, PROBE, 0, 2)).await;

    let stale = store.append(&stream, 1, batch(&stream, PROBE, 1, 1)).await;
    assert_conflict(stale, &stream, 1, 2, "append at stale expected version 1 (stream at 2)");
    let stale = store.append(&stream, 0, batch(&stream, PROBE, 0, 3)).await;
    assert_conflict(stale, &stream, 0, 2, "append at stale expected version 0 (stream at 2)");
    let ahead = store.append(&stream, 5, batch(&stream, PROBE, 5, 1)).await;
    assert_conflict(
        ahead,
        &stream,
        5,
        2,
        "append at expected version 5, ahead of the stream (at 2)",
    );

    let fresh = unique("conflict-new");
    let ahead = store.append(&fresh, 3, batch(&fresh, PROBE, 3, 2)).await;
    assert_conflict(ahead, &fresh, 3, 0, "append at expected version 3 to a new stream");

    assert_eq!(
        version_of(&*store, &stream).await,
        2,
        "conflicting appends changed the stream version"
    );
    assert_eq!(
        version_of(&*store, &fresh).await,
        0,
        "a conflicting append created a stream"
    );
    assert!(
        read_stream_vec(&*store, &fresh, 0).await.is_empty(),
        "a conflicting append to a new stream stored events"
    );
}

/// A batch that conflicts or is invalid writes none of its events: the stream version, the
/// stream's events and the global log stay as they were.
pub async fn batch_append_is_atomic<S: EventStore + ?Sized + 'static>(store: Arc<S>) {
    let stream = unique("atomic");
    let other = unique("atomic-other");
    let first = append_ok(&*store, &stream, 0, batch(&stream, PROBE, 0, 2)).await;
    let head_before = head_of(&*store).await;

    let conflicting = batch(&stream, PROBE, 1, 3);
    let result = store.append(&stream, 1, conflicting.clone()).await;
    assert_conflict(result, &stream, 1, 2, "a 3-event batch at stale expected version 1");

    let mut gapped = batch(&stream, PROBE, 2, 3);
    gapped[2].version = 6;
    assert_invalid_batch(
        store.append(&stream, 2, gapped.clone()).await,
        "a batch whose last event skips a version",
    );

    let mut mixed = batch(&stream, PROBE, 2, 2);
    mixed[1].aggregate_id = other.clone();
    assert_invalid_batch(
        store.append(&stream, 2, mixed.clone()).await,
        "a batch holding an event of another stream",
    );

    assert_eq!(
        version_of(&*store, &stream).await,
        2,
        "a rejected batch moved the stream version"
    );
    assert_eq!(
        version_of(&*store, &other).await,
        0,
        "a rejected batch wrote to the other stream"
    );
    let stored = read_stream_vec(&*store, &stream, 0).await;
    assert_eq!(stored, first, "a rejected batch changed the stream's events");

    let head_after = head_of(&*store).await;
    assert!(
        head_after >= head_before,
        "head_position went back from {head_before} to {head_after}"
    );
    let rejected: HashSet<Uuid> = conflicting
        .iter()
        .chain(&gapped)
        .chain(&mixed)
        .map(|e| e.event_id)
        .collect();
    let log = read_log(&*store, head_before, head_after, 500).await;
    if let Some(leaked) = log.iter().find(|e| rejected.contains(&e.event_id)) {
        panic!(
            "event {} (v{}) of a rejected batch reached the global log at position {:?}",
            leaked.event_id, leaked.version, leaked.global_position
        );
    }

    let next = append_ok(&*store, &stream, 2, batch(&stream, PROBE, 2, 3)).await;
    assert_eq!(
        versions(&next),
        [3, 4, 5],
        "the append after rejected batches got the wrong versions"
    );
}

/// Versions start at 1 and run without gaps across batches of different sizes.
pub async fn versions_are_gap_free_from_one<S: EventStore + ?Sized + 'static>(store: Arc<S>) {
    let stream = unique("versions");
    assert_eq!(
        version_of(&*store, &stream).await,
        0,
        "an unknown stream must be at version 0"
    );
    let mut expected = 0;
    let mut sent = Vec::new();
    for size in [1, 3, 2, 1, 5] {
        let events = batch(&stream, PROBE, expected, size);
        sent.extend(events.iter().map(|e| e.event_id));
        let stored = append_ok(&*store, &stream, expected, events).await;
        let want: Vec<u64> = (expected + 1..=expected + size).collect();
        assert_eq!(
            versions(&stored),
            want,
            "append at {expected} returned the wrong versions"
        );
        expected += size;
        assert_eq!(
            version_of(&*store, &stream).await,
            expected,
            "stream_version after an append"
        );
    }
    let read = read_stream_vec(&*store, &stream, 0).await;
    let want: Vec<u64> = (1..=expected).collect();
    assert_eq!(
        versions(&read),
        want,
        "read_stream must yield versions 1..={expected} without gaps"
    );
    let ids: Vec<Uuid> = read.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, sent, "read_stream must yield the appended events in append order");
}

/// `stream_version` is 0 for an unknown stream and follows appends; `head_position` reaches the
/// global position of the last appended event, which `read_all` returns.
pub async fn stream_version_and_head_position<S: EventStore + ?Sized + 'static>(store: Arc<S>) {
    let stream = unique("counters");
    let other = unique("counters-other");
    assert_eq!(
        version_of(&*store, &stream).await,
        0,
        "an unknown stream must be at version 0"
    );

    let stored = append_ok(&*store, &stream, 0, batch(&stream, PROBE, 0, 3)).await;
    assert_eq!(
        version_of(&*store, &stream).await,
        3,
        "stream_version after appending 3 events"
    );
    let last = stored[2].global_position.unwrap_or_default();
    let head = head_of(&*store).await;
    assert!(
        head >= last,
        "head_position {head} is behind the last appended position {last}"
    );
    let at_last = ok(store.read_all(last.saturating_sub(1), 1).await, "read_all(last - 1, 1)");
    assert_eq!(
        at_last,
        stored[2..],
        "read_all must return the event at the head position"
    );

    let more = append_ok(&*store, &stream, 3, batch(&stream, PROBE, 3, 2)).await;
    let next_first = more[0].global_position.unwrap_or_default();
    assert!(
        next_first > last,
        "a later append got global position {next_first}, not after {last}"
    );
    let head2 = head_of(&*store).await;
    let next_last = more[1].global_position.unwrap_or_default();
    assert!(
        head2 >= next_last,
        "head_position {head2} is behind the last appended position {next_last}"
    );
    assert!(head2 >= head, "head_position went back from {head} to {head2}");
    assert_eq!(
        version_of(&*store, &stream).await,
        5,
        "stream_version after appending 5 events"
    );
    assert_eq!(
        version_of(&*store, &other).await,
        0,
        "appends to one stream moved another"
    );
}
