//! Reading: envelopes back unchanged, one stream from a version, a very long stream, the global log.

use std::collections::HashSet;
use std::sync::Arc;

use futures::StreamExt;
use hive_domain::{EventEnvelope, EventStore};
use uuid::Uuid;

use super::PROBE;
use crate::support::{
    append_ok, batch, ok, read_log, read_stream_vec, rich_and_plain, unique, unpositioned, version_of, versions,
};

/// `read_stream(id, from)` yields the events with `version >= from` in order; reading past the
/// end or an unknown stream yields nothing; other streams never leak in.
pub async fn read_stream_from_version<S: EventStore + ?Sized + 'static>(store: Arc<S>) {
    let stream = unique("read-from");
    let other = unique("read-from-other");
    let stored = append_ok(&*store, &stream, 0, batch(&stream, PROBE, 0, 6)).await;
    append_ok(&*store, &other, 0, batch(&other, PROBE, 0, 3)).await;
    let mut all = stored;
    all.extend(append_ok(&*store, &stream, 6, batch(&stream, PROBE, 6, 4)).await);

    for from in [0, 1] {
        let read = read_stream_vec(&*store, &stream, from).await;
        assert_eq!(read, all, "read_stream(from {from}) must return the whole stream");
    }
    for from in [4, 7, 10] {
        let read = read_stream_vec(&*store, &stream, from).await;
        let start = usize::try_from(from - 1).unwrap_or(usize::MAX);
        assert_eq!(
            versions(&read),
            versions(&all[start..]),
            "read_stream(from {from}) returned the wrong versions"
        );
        assert_eq!(read, all[start..], "read_stream(from {from}) returned altered events");
    }
    for from in [11, 1_000] {
        let read = read_stream_vec(&*store, &stream, from).await;
        assert!(
            read.is_empty(),
            "read_stream(from {from}) past the end returned {} events",
            read.len()
        );
    }
    let unknown = unique("read-from-unknown");
    assert!(
        read_stream_vec(&*store, &unknown, 0).await.is_empty(),
        "read_stream of an unknown stream returned events"
    );
}

/// Number of events in the long stream of [`large_stream_is_read_whole`].
const LARGE_STREAM: u64 = 100_000;
/// Events per append while building it.
const LARGE_BATCH: u64 = 1_000;

/// A 100 000-event stream (appended 1 000 at a time) is read back whole and in order through
/// the lazy `read_stream`, counted on the fly: no silent truncation at any page size.
pub async fn large_stream_is_read_whole<S: EventStore + ?Sized + 'static>(store: Arc<S>) {
    let stream = unique("large");
    let mut version = 0;
    while version < LARGE_STREAM {
        let stored = ok(
            store
                .append(&stream, version, batch(&stream, PROBE, version, LARGE_BATCH))
                .await,
            format_args!(
                "append of events {}..={} to the large stream",
                version + 1,
                version + LARGE_BATCH
            ),
        );
        assert_eq!(stored.len() as u64, LARGE_BATCH, "append returned a short batch");
        version += LARGE_BATCH;
    }
    assert_eq!(
        version_of(&*store, &stream).await,
        LARGE_STREAM,
        "stream_version of the large stream"
    );

    let mut events = store.read_stream(&stream, 0);
    let mut count = 0_u64;
    while let Some(event) = events.next().await {
        let event = ok(
            event,
            format_args!("read_stream of the large stream after {count} events"),
        );
        count += 1;
        if event.version != count || event.aggregate_id != stream || event.event_data["n"] != count {
            panic!(
                "event #{count} of the large stream is `{}` v{} with data {}, expected v{count} of `{stream}`",
                event.aggregate_id, event.version, event.event_data
            );
        }
    }
    assert_eq!(
        count, LARGE_STREAM,
        "read_stream of a {LARGE_STREAM}-event stream yielded {count} events"
    );

    let from = LARGE_STREAM - LARGE_BATCH + 1;
    let mut tail = store.read_stream(&stream, from);
    let mut expected = from;
    while let Some(event) = tail.next().await {
        let event = ok(event, "read_stream of the large stream's tail");
        assert_eq!(
            event.version, expected,
            "read_stream(from {from}) of the large stream is out of order"
        );
        expected += 1;
    }
    assert_eq!(
        expected,
        LARGE_STREAM + 1,
        "read_stream(from {from}) of the large stream stopped early"
    );
}

/// `read_all`, read in small batches, yields positions 1, 2, 3… without gaps across streams,
/// in append order, with the positions `append` returned.
pub async fn global_log_is_ordered_and_gap_free<S: EventStore + ?Sized + 'static>(store: Arc<S>) {
    let streams = [unique("log-a"), unique("log-b"), unique("log-c")];
    let mut stream_versions = [0_u64; 3];
    let mut appended: Vec<EventEnvelope> = Vec::new();
    for i in 0..30_u64 {
        let s = usize::try_from(i % 3).unwrap_or_default();
        let size = 1 + (i * 7) % 3;
        let events = batch(&streams[s], PROBE, stream_versions[s], size);
        appended.extend(append_ok(&*store, &streams[s], stream_versions[s], events).await);
        stream_versions[s] += size;
    }
    let positions: Vec<u64> = appended.iter().filter_map(|e| e.global_position).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "one writer's successive appends must get increasing global positions, got {positions:?}"
    );
    let first = positions[0];
    let last = positions[positions.len() - 1];

    read_log(&*store, 0, first - 1, 1_000).await;
    let log = read_log(&*store, first - 1, last, 7).await;
    let ours: HashSet<Uuid> = appended.iter().map(|e| e.event_id).collect();
    let seen: Vec<&EventEnvelope> = log.iter().filter(|e| ours.contains(&e.event_id)).collect();
    let seen_ids: Vec<Uuid> = seen.iter().map(|e| e.event_id).collect();
    let appended_ids: Vec<Uuid> = appended.iter().map(|e| e.event_id).collect();
    assert_eq!(
        seen_ids, appended_ids,
        "the global log must hold the appended events once each, in append order"
    );
    for (logged, stored) in seen.iter().zip(&appended) {
        assert_eq!(
            *logged, stored,
            "read_all returned an event that differs from what append returned"
        );
    }

    let fifth = appended[4].global_position.unwrap_or_default();
    let window = ok(store.read_all(fifth - 1, 3).await, "read_all(from the middle, 3)");
    assert!(
        !window.is_empty() && window.len() <= 3,
        "read_all(after, 3) must return 1 to 3 events"
    );
    assert_eq!(window[0], appended[4], "read_all(after p) must start at position p + 1");
}

/// Every field of an envelope (ids, types, schema version, nested data, correlation, causation,
/// metadata with extra keys, timestamp) reads back unchanged from `read_stream` and `read_all`.
pub async fn envelopes_round_trip<S: EventStore + ?Sized + 'static>(store: Arc<S>) {
    let stream = unique("round-trip");
    let aggregate_type = unique("RoundTrip");
    let sent = rich_and_plain(&stream, &aggregate_type);
    let stored = append_ok(&*store, &stream, 0, sent.clone()).await;
    for (s, b) in stored.iter().zip(&sent) {
        assert_eq!(
            unpositioned(s),
            *b,
            "append returned an envelope that differs from the one sent"
        );
    }

    let read = read_stream_vec(&*store, &stream, 0).await;
    assert_eq!(read, stored, "read_stream must return the envelopes append returned");

    let first = stored[0].global_position.unwrap_or_default();
    let log = ok(store.read_all(first.saturating_sub(1), 2).await, "read_all");
    assert_eq!(log, stored, "read_all must return the envelopes append returned");
}
