//! Helpers shared by the conformance cases: unique names, event builders, result checks.

use std::fmt::Display;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use futures::StreamExt;
use hive_domain::{EventEnvelope, EventStore, EventStoreError, Metadata, StoreResult};
use serde_json::json;
use uuid::Uuid;

/// A name no other test (or test run) uses, so a shared backend can run cases in parallel.
pub(crate) fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", Uuid::new_v4().simple())
}

/// Now, truncated to whole milliseconds (what every backend can store exactly).
pub(crate) fn now_ms() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// The value of a store call, or a panic naming the call and the error.
pub(crate) fn ok<T>(result: StoreResult<T>, what: impl Display) -> T {
    result.unwrap_or_else(|e| panic!("{what} failed: {e} ({e:?})"))
}

/// A test event of `stream` at `version` with data `{"n": version}` and a millisecond timestamp.
pub(crate) fn event(stream: &str, aggregate_type: &str, event_type: &str, version: u64) -> EventEnvelope {
    EventEnvelope::new(stream, aggregate_type, event_type, json!({ "n": version }), version)
        .with_timestamp(now_ms())
        .with_metadata(Metadata::default().with_source("hive-testkit"))
}

/// `base + seconds`.
pub(crate) fn at(base: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    base + Duration::seconds(seconds)
}

/// A probe event of `stream` at `version`, of `event_type`, recorded at `timestamp`.
pub(crate) fn timed(
    stream: &str,
    aggregate_type: &str,
    event_type: &str,
    version: u64,
    timestamp: DateTime<Utc>,
) -> EventEnvelope {
    event(stream, aggregate_type, event_type, version).with_timestamp(timestamp)
}

/// Two events of `stream`: version 1 with every envelope field set (nested payload, schema
/// version, correlation, causation, metadata with extras), version 2 with none.
pub(crate) fn rich_and_plain(stream: &str, aggregate_type: &str) -> Vec<EventEnvelope> {
    let rich = EventEnvelope::new(
        stream,
        aggregate_type,
        "EverythingSet",
        json!({
            "amount": "12.50",
            "count": 3,
            "ratio": 0.25,
            "flag": true,
            "nothing": null,
            "nested": {"list": [1, "two", {"three": 3}], "text": "Grüße, 東京 ✓"},
        }),
        1,
    )
    .with_schema_version(3)
    .with_timestamp(now_ms())
    .with_correlation_id(unique("correlation"))
    .with_causation_id(unique("causation"))
    .with_metadata(
        Metadata::default()
            .with_user(unique("user"))
            .with_organization(unique("org"))
            .with_source("conformance")
            .with_extra("ip", "192.0.2.7")
            .with_extra("traceId", unique("trace")),
    );
    let plain = EventEnvelope::new(stream, aggregate_type, "NothingSet", json!({}), 2).with_timestamp(now_ms());
    vec![rich, plain]
}

/// `count` consecutive test events of `stream`, versions `after + 1 ..= after + count`.
pub(crate) fn batch(stream: &str, aggregate_type: &str, after: u64, count: u64) -> Vec<EventEnvelope> {
    (after + 1..=after + count)
        .map(|version| event(stream, aggregate_type, "Probed", version))
        .collect()
}

/// The envelope without the store-assigned global position.
pub(crate) fn unpositioned(event: &EventEnvelope) -> EventEnvelope {
    EventEnvelope {
        global_position: None,
        ..event.clone()
    }
}

/// Appends and checks what `append` promises to return: the batch, each with a global position,
/// consecutive within the batch.
pub(crate) async fn append_ok<S: EventStore + ?Sized>(
    store: &S,
    stream: &str,
    expected: u64,
    events: Vec<EventEnvelope>,
) -> Vec<EventEnvelope> {
    let sent = events.clone();
    let stored = ok(
        store.append(stream, expected, events).await,
        format_args!(
            "append of {} event(s) to `{stream}` at expected version {expected}",
            sent.len()
        ),
    );
    check_stored_batch(stream, &sent, &stored);
    stored
}

/// Asserts `stored` is what an append of `sent` must return.
pub(crate) fn check_stored_batch(stream: &str, sent: &[EventEnvelope], stored: &[EventEnvelope]) {
    assert_eq!(
        stored.len(),
        sent.len(),
        "append to `{stream}` returned {} envelope(s) for a batch of {}",
        stored.len(),
        sent.len()
    );
    for (s, b) in stored.iter().zip(sent) {
        assert!(
            s.same_event(b),
            "append to `{stream}` returned event {} v{} where {} v{} was sent",
            s.event_id,
            s.version,
            b.event_id,
            b.version
        );
        assert!(
            s.global_position.is_some(),
            "append to `{stream}` returned event v{} without a global position",
            s.version
        );
    }
    let positions: Vec<u64> = stored.iter().filter_map(|e| e.global_position).collect();
    assert!(
        positions.windows(2).all(|w| w[1] == w[0] + 1),
        "an atomic batch must take consecutive global positions, got {positions:?}"
    );
}

/// Asserts `result` is a [`EventStoreError::Conflict`] with these numbers.
pub(crate) fn assert_conflict<T>(result: StoreResult<T>, stream: &str, expected: u64, actual: u64, case: &str) {
    match result {
        Err(EventStoreError::Conflict {
            aggregate_id,
            expected: got_expected,
            actual: got_actual,
        }) => {
            assert_eq!(aggregate_id, stream, "{case}: Conflict names the wrong stream");
            assert_eq!(
                got_expected, expected,
                "{case}: Conflict carries the wrong expected version"
            );
            assert_eq!(got_actual, actual, "{case}: Conflict carries the wrong actual version");
        }
        Err(other) => panic!("{case}: expected Conflict {{ expected: {expected}, actual: {actual} }}, got {other:?}"),
        Ok(_) => {
            panic!("{case}: expected Conflict {{ expected: {expected}, actual: {actual} }}, but the append succeeded")
        }
    }
}

/// Asserts `result` is an [`EventStoreError::InvalidBatch`].
pub(crate) fn assert_invalid_batch<T>(result: StoreResult<T>, case: &str) {
    match result {
        Err(EventStoreError::InvalidBatch(_)) => {}
        Err(other) => panic!("{case}: expected InvalidBatch, got {other:?}"),
        Ok(_) => panic!("{case}: expected InvalidBatch, but the append succeeded"),
    }
}

/// A whole stream from `from`, collected (for short streams only).
pub(crate) async fn read_stream_vec<S: EventStore + ?Sized>(store: &S, stream: &str, from: u64) -> Vec<EventEnvelope> {
    let mut out = Vec::new();
    let mut events = store.read_stream(stream, from);
    while let Some(event) = events.next().await {
        out.push(ok(event, format_args!("read_stream(`{stream}`, {from})")));
    }
    out
}

/// The versions of a list of events.
pub(crate) fn versions(events: &[EventEnvelope]) -> Vec<u64> {
    events.iter().map(|e| e.version).collect()
}

/// Asserts `versions` is exactly `1..=n`, naming the first misfit instead of dumping the list.
pub(crate) fn assert_gap_free_versions(versions: &[u64], n: u64, context: &str) {
    if let Some((i, v)) = versions.iter().enumerate().find(|&(i, &v)| v != i as u64 + 1) {
        panic!(
            "{context}: versions must run 1..={n} once each, but entry #{} is version {v}",
            i + 1
        );
    }
    assert_eq!(
        versions.len() as u64,
        n,
        "{context}: expected versions 1..={n}, found {} event(s)",
        versions.len()
    );
}

/// The stream version, checked.
pub(crate) async fn version_of<S: EventStore + ?Sized>(store: &S, stream: &str) -> u64 {
    ok(
        store.stream_version(stream).await,
        format_args!("stream_version(`{stream}`)"),
    )
}

/// The head position, checked.
pub(crate) async fn head_of<S: EventStore + ?Sized>(store: &S) -> u64 {
    ok(store.head_position().await, "head_position()")
}

/// The global log after `after` up to and including position `until`, read in batches of
/// `batch_size`, asserting that positions run gap-free from `after + 1`.
pub(crate) async fn read_log<S: EventStore + ?Sized>(
    store: &S,
    after: u64,
    until: u64,
    batch_size: usize,
) -> Vec<EventEnvelope> {
    let mut out = Vec::new();
    let mut cursor = after;
    while cursor < until {
        let events = ok(
            store.read_all(cursor, batch_size).await,
            format_args!("read_all({cursor}, {batch_size})"),
        );
        assert!(
            !events.is_empty(),
            "read_all({cursor}, {batch_size}) returned nothing, but position {until} was committed"
        );
        assert!(
            events.len() <= batch_size,
            "read_all({cursor}, {batch_size}) returned {} events, more than the limit",
            events.len()
        );
        for event in events {
            let position = event
                .global_position
                .unwrap_or_else(|| panic!("read_all returned event {} without a global position", event.event_id));
            assert_eq!(
                position,
                cursor + 1,
                "global log must be gap-free and ordered: after position {cursor} came {position}"
            );
            cursor = position;
            out.push(event);
        }
    }
    out
}
