//! What `append` accepts: malformed batches are refused, re-sent batches are idempotent.

use std::sync::Arc;

use hive_domain::{EventEnvelope, EventStore};

use super::PROBE;
use crate::support::{
    append_ok, assert_conflict, assert_invalid_batch, batch, check_stored_batch, event, head_of, ok, read_log,
    read_stream_vec, unique, version_of,
};

/// Empty, misnumbered, foreign, duplicated or mixed batches are `InvalidBatch` and write nothing;
/// validation comes before the version check.
pub async fn invalid_batches_are_rejected<S: EventStore + ?Sized + 'static>(store: Arc<S>) {
    let stream = unique("invalid");
    let other = unique("invalid-other");
    let check = |case: &'static str, expected: u64, events: Vec<EventEnvelope>| {
        let store = Arc::clone(&store);
        let stream = stream.clone();
        async move { assert_invalid_batch(store.append(&stream, expected, events).await, case) }
    };

    check("an empty batch", 0, Vec::new()).await;
    check(
        "a batch starting at version 2 on a new stream",
        0,
        batch(&stream, PROBE, 1, 2),
    )
    .await;
    let mut gap = batch(&stream, PROBE, 0, 2);
    gap[1].version = 3;
    check("a batch with versions 1, 3", 0, gap).await;
    let mut repeated = batch(&stream, PROBE, 0, 2);
    repeated[1].version = 1;
    check("a batch with version 1 twice", 0, repeated).await;
    check("a batch of another stream's events", 0, batch(&other, PROBE, 0, 1)).await;
    let mut twice = batch(&stream, PROBE, 0, 2);
    twice[1].event_id = twice[0].event_id;
    check("a batch with one event id twice", 0, twice).await;
    let mut mixed = batch(&stream, PROBE, 0, 2);
    mixed[1].aggregate_type = unique("OtherType");
    check("a batch mixing aggregate types", 0, mixed).await;

    assert_eq!(
        version_of(&*store, &stream).await,
        0,
        "an invalid batch created the stream"
    );
    assert_eq!(
        version_of(&*store, &other).await,
        0,
        "an invalid batch wrote to another stream"
    );
    assert!(
        read_stream_vec(&*store, &stream, 0).await.is_empty(),
        "an invalid batch stored events"
    );

    append_ok(&*store, &stream, 0, batch(&stream, PROBE, 0, 2)).await;
    check("an empty batch at a stale expected version", 0, Vec::new()).await;
    check(
        "a misnumbered batch at a stale expected version",
        0,
        batch(&stream, PROBE, 4, 1),
    )
    .await;
    assert_eq!(
        version_of(&*store, &stream).await,
        2,
        "an invalid batch moved the stream version"
    );
}

/// Re-appending the very same events (same ids) at the same expected version succeeds, returns
/// the stored events and stores nothing twice; the same versions with other ids conflict.
pub async fn reappend_is_idempotent<S: EventStore + ?Sized + 'static>(store: Arc<S>) {
    let stream = unique("idempotent");
    let first = batch(&stream, PROBE, 0, 2);
    let stored = append_ok(&*store, &stream, 0, first.clone()).await;

    let again = ok(
        store.append(&stream, 0, first.clone()).await,
        "re-append of the same batch at 0",
    );
    check_stored_batch(&stream, &first, &again);
    assert_eq!(
        again, stored,
        "a re-append must return the events stored the first time"
    );
    assert_eq!(
        version_of(&*store, &stream).await,
        2,
        "a re-append moved the stream version"
    );

    let more = append_ok(&*store, &stream, 2, batch(&stream, PROBE, 2, 1)).await;
    let late = ok(
        store.append(&stream, 0, first.clone()).await,
        "re-append of the first batch after the stream moved on",
    );
    assert_eq!(
        late, stored,
        "a late re-append must return the events stored the first time"
    );
    let tail = ok(
        store.append(&stream, 1, vec![first[1].clone()]).await,
        "re-append of the second event alone at 1",
    );
    assert_eq!(
        tail,
        stored[1..],
        "a re-append of one event must return that stored event"
    );

    let other_ids = batch(&stream, PROBE, 0, 2);
    assert_conflict(
        store.append(&stream, 0, other_ids).await,
        &stream,
        0,
        3,
        "versions 1-2 again with new event ids",
    );
    let partial = vec![first[0].clone(), event(&stream, PROBE, "Probed", 2)];
    assert_conflict(
        store.append(&stream, 0, partial).await,
        &stream,
        0,
        3,
        "versions 1-2 again with only the first event id the same",
    );

    let read = read_stream_vec(&*store, &stream, 0).await;
    let mut want = stored.clone();
    want.extend(more);
    assert_eq!(read, want, "re-appends must not add or change stream events");
    let from = stored[0].global_position.unwrap_or_default().saturating_sub(1);
    let log = read_log(&*store, from, head_of(&*store).await, 500).await;
    for event in &first {
        let copies = log.iter().filter(|e| e.event_id == event.event_id).count();
        assert_eq!(
            copies, 1,
            "event {} is {copies} times in the global log",
            event.event_id
        );
    }
}
