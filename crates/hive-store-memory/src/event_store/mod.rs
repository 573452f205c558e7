//! The event store: per-event columns and tables over the global log; bodies in memory or
//! in a durable file log.

mod analytics;
mod append;
mod bodies;
mod columns;
mod durable;
mod group;
mod ids;
mod index;
mod index_checkpoint;
mod intern;
mod rollup;
mod scrub;
mod search;
mod streams;

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use hive_domain::{
    validate_append, EventCriteria, EventEnvelope, EventLookup, EventPage, EventSearch, EventStore, EventStream, Page,
    SharedEventStream, StoreCapabilities, StoreResult,
};
use parking_lot::RwLock;
use uuid::Uuid;

use append::{decide, Decision};
use durable::Durable;
use index::State;

/// How many events `read_stream` copies out per lock acquisition.
const READ_CHUNK: usize = 512;

/// What a [`MemoryEventStore`] holds in memory ([`MemoryEventStore::stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventStoreStats {
    /// Stored events (the head position).
    pub events: u64,
    /// Bytes of the index: per-event columns, the stream and event id tables, interned
    /// strings, and where each body is (file offsets, or pointers in memory mode). Event
    /// bodies themselves are not counted.
    pub index_bytes: u64,
    /// Bytes of JSON of the bodies in the body cache (durable mode; 0 in memory mode).
    pub body_cache_bytes: u64,
}

impl EventStoreStats {
    /// Index bytes per stored event (0 when empty).
    pub fn index_bytes_per_event(&self) -> f64 {
        if self.events == 0 {
            0.0
        } else {
            self.index_bytes as f64 / self.events as f64
        }
    }
}

/// An [`EventStore`] that keeps a compact index of every event in memory and optionally
/// writes the events to an append-only file log first ([`MemoryEventStore::open`]), reading
/// their bodies back from it on demand.
///
/// Clones share the same store.
///
/// ```
/// use futures::TryStreamExt;
/// use hive_domain::{EventEnvelope, EventStore};
/// use hive_store_memory::MemoryEventStore;
/// use serde_json::json;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = MemoryEventStore::new();
/// let created = EventEnvelope::new("payment-1", "Payment", "PaymentCreated", json!({"amount": 10}), 1);
/// let stored = store.append("payment-1", 0, vec![created]).await?;
/// assert_eq!(stored[0].global_position, Some(1));
///
/// let events: Vec<EventEnvelope> = store.read_stream("payment-1", 1).try_collect().await?;
/// assert_eq!(events, stored);
/// # Ok::<(), hive_domain::EventStoreError>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Default)]
pub struct MemoryEventStore {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: Arc<RwLock<State>>,
    durable: Option<Durable>,
}

impl std::fmt::Debug for MemoryEventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryEventStore")
            .field("head_position", &self.inner.state.read().head())
            .field("durable", &self.inner.durable.as_ref().map(Durable::path))
            .finish()
    }
}

impl MemoryEventStore {
    /// This store as [`StoreCapabilities`]: the core port and every optional capability
    /// (look-up by id, search, analytics in memory). Clones share the log.
    pub fn capabilities(&self) -> StoreCapabilities {
        StoreCapabilities::full(Arc::new(self.clone()))
    }

    /// An empty store that lives only in memory: nothing survives the process.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when the store writes to a file log.
    pub fn is_durable(&self) -> bool {
        self.inner.durable.is_some()
    }

    /// Number of stored events (the head position).
    pub fn len(&self) -> usize {
        usize::try_from(self.inner.state.read().head()).unwrap_or(usize::MAX)
    }

    /// How many events the store holds, the bytes of its index and of its body cache.
    pub fn stats(&self) -> EventStoreStats {
        let footprint = self.inner.state.read().footprint();
        EventStoreStats {
            events: footprint.events,
            index_bytes: footprint.index_bytes,
            body_cache_bytes: footprint.cached_bytes,
        }
    }

    /// True when no event is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn append_in_memory(
        &self,
        aggregate_id: &str,
        expected: u64,
        events: Vec<EventEnvelope>,
    ) -> StoreResult<Vec<EventEnvelope>> {
        // The copy handed back is made before taking the lock, to keep the lock short.
        let mut stored = events.clone();
        let first = {
            let mut state = self.inner.state.write();
            match decide(&*state, aggregate_id, expected, &events)? {
                Decision::Accept => state.commit(events)?,
                Decision::AlreadyStored(existing) => return Ok(existing),
            }
        };
        for (event, position) in stored.iter_mut().zip(first..) {
            event.global_position = Some(position);
        }
        Ok(stored)
    }
}

#[async_trait]
impl EventStore for MemoryEventStore {
    async fn append(
        &self,
        aggregate_id: &str,
        expected_version: u64,
        events: Vec<EventEnvelope>,
    ) -> StoreResult<Vec<EventEnvelope>> {
        validate_append(aggregate_id, expected_version, &events)?;
        match &self.inner.durable {
            Some(durable) => durable.append(expected_version, events).await,
            None => self.append_in_memory(aggregate_id, expected_version, events),
        }
    }

    fn read_stream<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> EventStream<'a> {
        self.read_stream_shared(aggregate_id, from_version)
            .map(|event| event.map(|e| EventEnvelope::clone(&e)))
            .boxed()
    }

    fn read_stream_shared<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> SharedEventStream<'a> {
        let state = &self.inner.state;
        let start = StreamCursor {
            next_version: from_version.max(1),
            pending: Vec::new(),
            done: 0,
        };
        futures::stream::unfold(Some(start), move |cursor| async move {
            let mut cursor = cursor?;
            if cursor.done == cursor.pending.len() {
                // Where the stream's events are, from the next version to its end (found once,
                // walking its links back; again when more were appended meanwhile).
                cursor.pending = state
                    .read()
                    .stream_positions(aggregate_id, cursor.next_version, usize::MAX);
                cursor.done = 0;
                if cursor.pending.is_empty() {
                    return None;
                }
            }
            let end = cursor.pending.len().min(cursor.done + READ_CHUNK);
            let chunk = match state.read().bodies_at(&cursor.pending[cursor.done..end]) {
                Ok(chunk) => chunk,
                // A body that cannot be read ends the stream with its error.
                Err(error) => return Some((futures::stream::iter(vec![Err(error)]), None)),
            };
            cursor.next_version += chunk.len() as u64;
            cursor.done = end;
            Some((
                futures::stream::iter(chunk.into_iter().map(Ok).collect::<Vec<_>>()),
                Some(cursor),
            ))
        })
        .flatten()
        .boxed()
    }

    async fn stream_version(&self, aggregate_id: &str) -> StoreResult<u64> {
        Ok(self.inner.state.read().stream_version(aggregate_id))
    }

    async fn read_all(&self, after_position: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>> {
        self.inner.state.read().read_all(after_position, limit)
    }

    async fn head_position(&self) -> StoreResult<u64> {
        Ok(self.inner.state.read().head())
    }

    async fn health(&self) -> StoreResult<()> {
        match &self.inner.durable {
            Some(durable) => durable.health(),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl EventLookup for MemoryEventStore {
    /// One look-up in the event id index (kept for every event, rebuilt on reopen).
    async fn event_by_id(&self, event_id: Uuid) -> StoreResult<Option<EventEnvelope>> {
        self.inner.state.read().event_by_id(&event_id)
    }
}

#[async_trait]
impl EventSearch for MemoryEventStore {
    async fn search(&self, criteria: &EventCriteria, page: Page) -> StoreResult<EventPage> {
        self.inner.state.read().search(criteria, page)
    }
}

/// Where a stream read is: the log indexes of the stream's events still to read.
struct StreamCursor {
    next_version: u64,
    pending: Vec<u32>,
    done: usize,
}
