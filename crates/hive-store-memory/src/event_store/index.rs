//! The in-memory state of an event store: per-event columns, the stream and id tables, and
//! the bodies (in memory, or in the log behind a cache).

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use foldhash::fast::FixedState;
use hive_domain::{EventEnvelope, EventStoreError, StoreResult};
use uuid::Uuid;

use super::bodies::{Bodies, Placed};
use super::columns::{Columns, NO_PREVIOUS};
use super::ids::Ids;
use super::intern::Interner;
use super::rollup::Rollups;
use super::streams::{random_key, StreamKey, Streams};

/// A hash map with a fast (non-DoS-resistant) hasher.
pub(crate) type FastMap<K, V> = HashMap<K, V, FixedState>;

/// The most events a store holds: global positions are `u32` (log index + 1).
pub(crate) const MAX_EVENTS: u64 = u32::MAX as u64;

const SEED: u64 = 0x6869_7665_2d69_6478; // "hive-idx"

/// The 32-bit hash of a correlation id kept in its column.
pub(crate) fn correlation_hash(value: &str) -> u32 {
    // The high half of a 64-bit hash.
    (FixedState::with_seed(SEED).hash_one(value) >> 32) as u32
}

/// A timestamp as nanoseconds since the Unix epoch, saturated outside 1677-09-21..2262-04-11.
pub(crate) fn nanos(at: DateTime<Utc>) -> i64 {
    at.timestamp_nanos_opt()
        .unwrap_or(if at.timestamp() < 0 { i64::MIN } else { i64::MAX })
}

/// The error of an append past [`MAX_EVENTS`].
pub(crate) fn store_full() -> EventStoreError {
    EventStoreError::Backend(format!(
        "the event store is full: it holds at most {MAX_EVENTS} events (global positions are 32-bit)"
    ))
}

/// What the state holds, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Footprint {
    /// Stored events.
    pub(crate) events: u64,
    /// Columns, tables, interned strings and body locators.
    pub(crate) index_bytes: u64,
    /// JSON bytes of the cached bodies.
    pub(crate) cached_bytes: u64,
}

/// The columns, tables and bodies of every stored event. Log index = global position - 1.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) columns: Columns,
    pub(crate) bodies: Bodies,
    pub(crate) streams: Streams,
    pub(crate) ids: Ids,
    pub(crate) event_types: Interner,
    pub(crate) aggregate_types: Interner,
    pub(crate) organizations: Interner,
    pub(crate) users: Interner,
    /// Event counts per hour × type × organization × user, for analytics.
    pub(crate) rollups: Rollups,
}

impl Default for State {
    fn default() -> Self {
        Self::new(Bodies::default(), random_key())
    }
}

impl State {
    /// An empty state keeping bodies in `bodies`, hashing stream ids with `key`.
    pub(crate) fn new(bodies: Bodies, key: StreamKey) -> Self {
        Self {
            columns: Columns::default(),
            bodies,
            streams: Streams::new(key),
            ids: Ids::default(),
            event_types: Interner::with_overflow(u32::from(u16::MAX)),
            aggregate_types: Interner::with_overflow(u32::from(u16::MAX)),
            organizations: Interner::with_overflow(u32::MAX),
            users: Interner::with_overflow(u32::MAX),
            rollups: Rollups::default(),
        }
    }

    /// The global position of the last event (0 when empty).
    pub(crate) fn head(&self) -> u64 {
        self.columns.timestamp.len() as u64
    }

    /// The version of a stream (0 when unknown).
    pub(crate) fn stream_version(&self, aggregate_id: &str) -> u64 {
        self.streams.get(aggregate_id).map_or(0, |t| u64::from(t.version))
    }

    /// The log indexes of up to `max` events of a stream from `from_version` on, oldest first:
    /// a walk back along the stream's links from its last event.
    pub(crate) fn stream_positions(&self, aggregate_id: &str, from_version: u64, max: usize) -> Vec<u32> {
        let Some(tail) = self.streams.get(aggregate_id) else {
            return Vec::new();
        };
        let from = from_version.max(1);
        let version = u64::from(tail.version);
        if from > version || max == 0 {
            return Vec::new();
        }
        let upto = version.min(from.saturating_add(max as u64 - 1));
        let mut at = tail.last;
        for _ in upto..version {
            at = self.columns.previous[at as usize];
        }
        let mut positions = Vec::with_capacity((upto - from + 1) as usize);
        positions.push(at);
        for _ in from..upto {
            at = self.columns.previous[at as usize];
            positions.push(at);
        }
        positions.reverse();
        positions
    }

    /// The bodies at these log indexes.
    pub(crate) fn bodies_at(&self, positions: &[u32]) -> StoreResult<Vec<Arc<EventEnvelope>>> {
        positions.iter().map(|&at| self.bodies.get(at as usize)).collect()
    }

    /// Up to `max` events of a stream from `from_version` on (versions start at 1).
    pub(crate) fn stream_chunk(
        &self,
        aggregate_id: &str,
        from_version: u64,
        max: usize,
    ) -> StoreResult<Vec<Arc<EventEnvelope>>> {
        self.bodies_at(&self.stream_positions(aggregate_id, from_version, max))
    }

    /// The event with this id, through the id index (candidates confirmed on their bodies).
    pub(crate) fn find_id(&self, id: &Uuid) -> StoreResult<Option<Arc<EventEnvelope>>> {
        for at in self.ids.candidates(id) {
            let event = self.bodies.get(at as usize)?;
            if event.event_id == *id {
                return Ok(Some(event));
            }
        }
        Ok(None)
    }

    /// True when an event with this id is stored.
    pub(crate) fn contains_id(&self, id: &Uuid) -> StoreResult<bool> {
        Ok(self.find_id(id)?.is_some())
    }

    /// The event with this id, cloned (with its global position).
    pub(crate) fn event_by_id(&self, id: &Uuid) -> StoreResult<Option<EventEnvelope>> {
        Ok(self.find_id(id)?.map(|e| EventEnvelope::clone(&e)))
    }

    /// Up to `limit` events after global position `after`, cloned.
    pub(crate) fn read_all(&self, after: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>> {
        let head = self.head();
        let from = after.min(head) as usize;
        let to = (after.min(head).saturating_add(limit as u64)).min(head) as usize;
        Ok(self
            .bodies
            .range(from, to)?
            .iter()
            .map(|e| EventEnvelope::clone(e))
            .collect())
    }

    /// Assigns the next global positions to a validated batch of one stream and indexes it
    /// (bodies kept in memory). Returns the global position of its first event.
    pub(crate) fn commit(&mut self, events: Vec<EventEnvelope>) -> StoreResult<u64> {
        let first = self.head() + 1;
        let batch: Vec<Arc<EventEnvelope>> = events
            .into_iter()
            .zip(first..)
            .map(|(mut event, position)| {
                event.global_position = Some(position);
                Arc::new(event)
            })
            .collect();
        self.index_batch(&batch, Placed::IN_MEMORY)?;
        Ok(first)
    }

    /// Indexes a batch whose global positions follow the head; `placed` says where it lies
    /// in the log (durable mode).
    pub(crate) fn index_batch(&mut self, batch: &[Arc<EventEnvelope>], placed: Placed<'_>) -> StoreResult<()> {
        let first = self.head();
        if first + batch.len() as u64 > MAX_EVENTS {
            return Err(store_full());
        }
        self.bodies.push_batch(batch, placed)?;
        for (event, at) in batch.iter().zip(first as u32..) {
            debug_assert_eq!(event.global_position, Some(u64::from(at) + 1));
            let timestamp = nanos(event.timestamp);
            let event_type = self.event_types.intern(Some(&event.event_type));
            let aggregate_type = self.aggregate_types.intern(Some(&event.aggregate_type));
            let organization = self.organizations.intern(event.metadata.organization_id.as_deref());
            let user = self.users.intern(event.metadata.user_id.as_deref());
            let previous = self.streams.advance(&event.aggregate_id, at);
            let columns = &mut self.columns;
            columns.push_timestamp(timestamp);
            // The interners stop below u16::MAX for these two.
            columns.event_type.push(event_type as u16);
            columns.aggregate_type.push(aggregate_type as u16);
            columns.organization.push(organization);
            columns.user.push(user);
            columns.correlation.push(correlation_hash(&event.correlation_id));
            columns.previous.push(previous.unwrap_or(NO_PREVIOUS));
            self.ids.insert(&event.event_id, at);
            // Per-event hooks: one call per indexed event goes here, with the values above.
            self.rollups.add(
                event.timestamp,
                &event.event_type,
                event.metadata.organization_id.as_deref(),
                event.metadata.user_id.as_deref(),
            );
        }
        Ok(())
    }

    /// How many events the state holds and the bytes of its index and body cache.
    pub(crate) fn footprint(&self) -> Footprint {
        let index = self.columns.heap_bytes()
            + self.streams.heap_bytes()
            + self.ids.heap_bytes()
            + self.event_types.heap_bytes()
            + self.aggregate_types.heap_bytes()
            + self.organizations.heap_bytes()
            + self.users.heap_bytes()
            + self.bodies.locator_bytes();
        Footprint {
            events: self.head(),
            index_bytes: index as u64,
            cached_bytes: self.bodies.cached_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(stream: &str, version: u64) -> EventEnvelope {
        EventEnvelope::new(stream, "T", "E", json!({}), version)
    }

    #[test]
    fn commits_assign_positions_and_index() {
        let mut state = State::default();
        assert_eq!(state.commit(vec![ev("a", 1), ev("a", 2)]).unwrap(), 1);
        assert_eq!(state.commit(vec![ev("b", 1)]).unwrap(), 3);
        assert_eq!(state.commit(vec![ev("a", 3)]).unwrap(), 4);
        assert_eq!(state.head(), 4);
        assert_eq!(state.stream_version("a"), 3);
        assert_eq!(state.stream_version("zz"), 0);
        assert_eq!(state.stream_positions("a", 1, 10), [0, 1, 3]);
        assert_eq!(state.stream_positions("a", 2, 1), [1]);
        assert_eq!(state.stream_positions("a", 0, 2), [0, 1]);
        assert!(state.stream_positions("a", 4, 10).is_empty());
        assert_eq!(state.stream_chunk("a", 2, 10).unwrap().len(), 2);
        assert_eq!(state.read_all(1, 10).unwrap().len(), 3);
        assert_eq!(state.read_all(3, 10).unwrap()[0].global_position, Some(4));
        assert!(state.read_all(9, 10).unwrap().is_empty());
        let second = state.read_all(1, 1).unwrap()[0].event_id;
        assert!(state.contains_id(&second).unwrap());
        assert_eq!(
            state
                .event_by_id(&second)
                .unwrap()
                .map(|e| (e.global_position, e.version)),
            Some((Some(2), 2))
        );
        assert_eq!(state.event_by_id(&Uuid::new_v4()).unwrap(), None);
    }

    #[test]
    fn timestamps_saturate_outside_the_nanosecond_range() {
        let far = DateTime::<Utc>::from_timestamp(20_000_000_000, 0).unwrap();
        assert_eq!(nanos(far), i64::MAX);
        let early = DateTime::<Utc>::from_timestamp(-20_000_000_000, 0).unwrap();
        assert_eq!(nanos(early), i64::MIN);
        assert_eq!(nanos(DateTime::<Utc>::from_timestamp(1, 5).unwrap()), 1_000_000_005);
    }
}
