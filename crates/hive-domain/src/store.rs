//! The `EventStore` port (the core every adapter implements) and the optional `EventLookup`
//! and `EventSearch` capabilities.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use uuid::Uuid;

use crate::{EventCriteria, EventEnvelope, EventPage, EventStoreError, Page, StoreResult, TimeRange};

/// An ordered stream of stored events, read lazily (no cap on its length).
pub type EventStream<'a> = BoxStream<'a, StoreResult<EventEnvelope>>;

/// An ordered stream of stored events shared with the store, read lazily.
pub type SharedEventStream<'a> = BoxStream<'a, StoreResult<Arc<EventEnvelope>>>;

/// Where events live: the core port every adapter implements and proves with
/// `hive-testkit`'s `event_store_conformance!`. Four methods are required: [`append`],
/// [`read_stream`] and the global log ([`read_all`], [`head_position`]); the rest have
/// defaults. Look-ups beyond these are optional capabilities with ports of their own
/// ([`EventLookup`], [`EventSearch`], [`crate::EventAnalytics`]), gathered by
/// [`crate::StoreCapabilities`].
///
/// Versions start at 1 and are gap-free per stream; a new stream is at version 0. Global
/// positions start at 1 and are gap-free in commit order.
///
/// [`append`]: EventStore::append
/// [`read_stream`]: EventStore::read_stream
/// [`read_all`]: EventStore::read_all
/// [`head_position`]: EventStore::head_position
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Appends `events` (versions `expected_version + 1 ..`, all of stream `aggregate_id`)
    /// atomically: all or none. Returns the stored envelopes (with global positions).
    ///
    /// * the stream is not at `expected_version` → [`EventStoreError::Conflict`] with the actual
    ///   version, unless the very same event ids are already stored at those versions: then the
    ///   call is an idempotent no-op that returns the stored envelopes.
    /// * a malformed batch → [`EventStoreError::InvalidBatch`] (see [`validate_append`]).
    async fn append(
        &self,
        aggregate_id: &str,
        expected_version: u64,
        events: Vec<EventEnvelope>,
    ) -> StoreResult<Vec<EventEnvelope>>;

    /// The events of one stream with `version >= from_version`, in version order, read lazily.
    fn read_stream<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> EventStream<'a>;

    /// [`EventStore::read_stream`] as shared envelopes, for readers that only look at them
    /// (loading an aggregate). The default wraps `read_stream`; an adapter that keeps its
    /// events in memory hands out its own, without a copy per event.
    fn read_stream_shared<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> SharedEventStream<'a> {
        self.read_stream(aggregate_id, from_version).map_ok(Arc::new).boxed()
    }

    /// The current version of a stream (0 when it has no event). The default reads the whole
    /// stream; an adapter that knows the version without reading overrides it.
    async fn stream_version(&self, aggregate_id: &str) -> StoreResult<u64> {
        self.read_stream(aggregate_id, 1)
            .try_fold(0, |_, event| async move { Ok(event.version) })
            .await
    }

    /// Up to `limit` events of the global log with `global_position > after_position`, in order.
    async fn read_all(&self, after_position: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>>;

    /// The global position of the last committed event (0 when the store is empty).
    async fn head_position(&self) -> StoreResult<u64>;

    /// Whether the backend answers (for readiness probes).
    async fn health(&self) -> StoreResult<()> {
        Ok(())
    }
}

/// Optional capability: an event by its id (`hive-testkit`'s `event_lookup_conformance!`).
#[async_trait]
pub trait EventLookup: Send + Sync {
    /// The stored event with this id (with its global position), or `None`. Callers scope it
    /// to a tenant themselves (by the event's `metadata.organizationId`).
    async fn event_by_id(&self, event_id: Uuid) -> StoreResult<Option<EventEnvelope>>;
}

/// Optional capability: events by criteria, type and time, correlation
/// (`hive-testkit`'s `event_search_conformance!`). Only [`EventSearch::search`] is required.
#[async_trait]
pub trait EventSearch: Send + Sync {
    /// Events matching `criteria` in the page's order ([`crate::event_order`], reversed for
    /// [`crate::SortOrder::Desc`]), one page of them and the total count.
    async fn search(&self, criteria: &EventCriteria, page: Page) -> StoreResult<EventPage>;

    /// Events of one type recorded in `range`, in the page's order.
    async fn events_by_type(&self, event_type: &str, range: TimeRange, page: Page) -> StoreResult<EventPage> {
        let criteria = EventCriteria {
            event_types: vec![event_type.to_owned()],
            time_range: range,
            ..EventCriteria::default()
        };
        self.search(&criteria, page).await
    }

    /// Events sharing a correlation id, across aggregates, in the page's order.
    async fn events_by_correlation(&self, correlation_id: &str, page: Page) -> StoreResult<EventPage> {
        let criteria = EventCriteria {
            correlation_id: Some(correlation_id.to_owned()),
            ..EventCriteria::default()
        };
        self.search(&criteria, page).await
    }
}

/// Checks an append batch: non-empty, one stream, one aggregate type, versions
/// `expected_version + 1 ..` consecutive, no event id twice. Every adapter calls it first.
pub fn validate_append(aggregate_id: &str, expected_version: u64, events: &[EventEnvelope]) -> StoreResult<()> {
    let first = events
        .first()
        .ok_or_else(|| EventStoreError::InvalidBatch("empty batch".into()))?;
    let mut ids = HashSet::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        if event.aggregate_id != aggregate_id {
            return Err(EventStoreError::InvalidBatch(format!(
                "event {} belongs to stream `{}`, not `{aggregate_id}`",
                event.event_id, event.aggregate_id
            )));
        }
        if event.aggregate_type != first.aggregate_type {
            return Err(EventStoreError::InvalidBatch(
                "mixed aggregate types in one batch".into(),
            ));
        }
        let want = expected_version
            .checked_add(1 + i as u64)
            .ok_or_else(|| EventStoreError::InvalidBatch("version overflows u64".into()))?;
        if event.version != want {
            return Err(EventStoreError::InvalidBatch(format!(
                "event {} has version {}, expected {want}",
                event.event_id, event.version
            )));
        }
        if !ids.insert(event.event_id) {
            return Err(EventStoreError::InvalidBatch(format!(
                "event id {} appears twice",
                event.event_id
            )));
        }
    }
    Ok(())
}

/// Decides what an append at a stale `expected_version` means: when `stored` (the stream's events
/// from `expected_version + 1`, as many as the batch) holds exactly the batch's event ids, it is an
/// idempotent re-append and the stored events are returned; otherwise it is a conflict.
pub fn resolve_stale_append(
    aggregate_id: &str,
    expected_version: u64,
    actual_version: u64,
    batch: &[EventEnvelope],
    stored: Vec<EventEnvelope>,
) -> StoreResult<Vec<EventEnvelope>> {
    let same = stored.len() == batch.len() && stored.iter().zip(batch).all(|(s, b)| s.same_event(b));
    if same {
        Ok(stored)
    } else {
        Err(EventStoreError::Conflict {
            aggregate_id: aggregate_id.to_owned(),
            expected: expected_version,
            actual: actual_version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(id: &str, v: u64) -> EventEnvelope {
        EventEnvelope::new(id, "T", "E", json!({}), v)
    }

    #[test]
    fn validate_append_checks_every_rule() {
        assert!(validate_append("a", 0, &[ev("a", 1), ev("a", 2)]).is_ok());
        assert!(validate_append("a", 0, &[]).is_err());
        assert!(validate_append("a", 0, &[ev("b", 1)]).is_err());
        assert!(validate_append("a", 1, &[ev("a", 1)]).is_err());
        assert!(validate_append("a", 0, &[ev("a", 1), ev("a", 3)]).is_err());
        let e = ev("a", 1);
        let mut twice = e.clone();
        twice.version = 2;
        assert!(validate_append("a", 0, &[e, twice]).is_err());
        let mut other_type = ev("a", 2);
        other_type.aggregate_type = "U".into();
        assert!(validate_append("a", 0, &[ev("a", 1), other_type]).is_err());
    }

    #[test]
    fn stale_append_is_idempotent_only_for_the_same_ids() {
        let batch = vec![ev("a", 1)];
        assert_eq!(resolve_stale_append("a", 0, 1, &batch, batch.clone()).unwrap(), batch);
        let err = resolve_stale_append("a", 0, 1, &batch, vec![ev("a", 1)]).unwrap_err();
        assert_eq!(
            err,
            EventStoreError::Conflict {
                aggregate_id: "a".into(),
                expected: 0,
                actual: 1
            }
        );
    }
}
