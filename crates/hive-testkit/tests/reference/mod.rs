//! A tiny, obviously-correct implementation of the three ports: everything behind one mutex,
//! the global log a `Vec` (position = index + 1), the rules taken from `hive-domain`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use futures::stream::{self, StreamExt};
use hive_domain::{
    resolve_stale_append, validate_append, Checkpoint, CheckpointStore, DeadLetter, EventCriteria, EventEnvelope,
    EventLookup, EventPage, EventSearch, EventStore, EventStream, Page, Snapshot, SnapshotStore, StoreResult,
};

/// Events handed out per lock while streaming.
const CHUNK: usize = 256;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Default)]
struct Log {
    /// The global log: the event at position `p` is `events[p - 1]`.
    events: Vec<EventEnvelope>,
    /// Per stream, the index in `events` of each version (version `v` at `[v - 1]`).
    streams: HashMap<String, Vec<usize>>,
}

/// The reference event store.
#[derive(Default, Clone)]
pub(crate) struct ReferenceEventStore {
    log: Arc<Mutex<Log>>,
}

impl ReferenceEventStore {
    pub(crate) fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl EventStore for ReferenceEventStore {
    async fn append(
        &self,
        aggregate_id: &str,
        expected_version: u64,
        events: Vec<EventEnvelope>,
    ) -> StoreResult<Vec<EventEnvelope>> {
        validate_append(aggregate_id, expected_version, &events)?;
        let mut log = lock(&self.log);
        let indexes = log.streams.get(aggregate_id).map_or(&[][..], Vec::as_slice);
        let actual = indexes.len() as u64;
        if actual != expected_version {
            // The stream's events from `expected_version + 1`, as many as the batch.
            let stored = indexes
                .iter()
                .skip(usize::try_from(expected_version).unwrap_or(usize::MAX))
                .take(events.len())
                .map(|&i| log.events[i].clone())
                .collect();
            return resolve_stale_append(aggregate_id, expected_version, actual, &events, stored);
        }
        let mut stored = Vec::with_capacity(events.len());
        for mut event in events {
            let index = log.events.len();
            event.global_position = Some(index as u64 + 1);
            log.streams.entry(aggregate_id.to_owned()).or_default().push(index);
            log.events.push(event.clone());
            stored.push(event);
        }
        Ok(stored)
    }

    fn read_stream<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> EventStream<'a> {
        let start = usize::try_from(from_version.max(1) - 1).unwrap_or(usize::MAX);
        stream::unfold(start, move |next| async move {
            let log = lock(&self.log);
            let indexes = log.streams.get(aggregate_id)?;
            let chunk: Vec<EventEnvelope> = indexes
                .iter()
                .skip(next)
                .take(CHUNK)
                .map(|&i| log.events[i].clone())
                .collect();
            (!chunk.is_empty()).then(|| {
                let next = next + chunk.len();
                (chunk, next)
            })
        })
        .flat_map(|chunk| stream::iter(chunk.into_iter().map(Ok)))
        .boxed()
    }

    async fn stream_version(&self, aggregate_id: &str) -> StoreResult<u64> {
        Ok(lock(&self.log).streams.get(aggregate_id).map_or(0, |s| s.len() as u64))
    }

    async fn read_all(&self, after_position: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>> {
        let log = lock(&self.log);
        let start = usize::try_from(after_position).unwrap_or(usize::MAX);
        Ok(log.events.iter().skip(start).take(limit).cloned().collect())
    }

    async fn head_position(&self) -> StoreResult<u64> {
        Ok(lock(&self.log).events.len() as u64)
    }
}

#[async_trait]
impl EventLookup for ReferenceEventStore {
    async fn event_by_id(&self, event_id: uuid::Uuid) -> StoreResult<Option<EventEnvelope>> {
        Ok(lock(&self.log).events.iter().find(|e| e.event_id == event_id).cloned())
    }
}

#[async_trait]
impl EventSearch for ReferenceEventStore {
    async fn search(&self, criteria: &EventCriteria, page: Page) -> StoreResult<EventPage> {
        let log = lock(&self.log);
        let mut matches: Vec<&EventEnvelope> = log.events.iter().filter(|e| criteria.matches(e)).collect();
        matches.sort_by(|a, b| page.order.apply(hive_domain::event_order(a, b)));
        Ok(EventPage {
            total: matches.len() as u64,
            items: matches
                .into_iter()
                .skip(page.offset_usize())
                .take(page.limit_usize())
                .cloned()
                .collect(),
        })
    }
}

/// The reference snapshot store.
#[derive(Default)]
pub(crate) struct ReferenceSnapshotStore {
    snapshots: Mutex<HashMap<String, Snapshot>>,
}

impl ReferenceSnapshotStore {
    pub(crate) fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SnapshotStore for ReferenceSnapshotStore {
    async fn save(&self, snapshot: Snapshot) -> StoreResult<()> {
        let mut snapshots = lock(&self.snapshots);
        let newer = snapshots
            .get(&snapshot.aggregate_id)
            .is_none_or(|stored| snapshot.version >= stored.version);
        if newer {
            snapshots.insert(snapshot.aggregate_id.clone(), snapshot);
        }
        Ok(())
    }

    async fn load(&self, aggregate_id: &str) -> StoreResult<Option<Snapshot>> {
        Ok(lock(&self.snapshots).get(aggregate_id).cloned())
    }
}

/// The reference checkpoint store.
#[derive(Default)]
pub(crate) struct ReferenceCheckpointStore {
    checkpoints: Mutex<BTreeMap<String, Checkpoint>>,
    dead_letters: Mutex<Vec<DeadLetter>>,
}

impl ReferenceCheckpointStore {
    pub(crate) fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl CheckpointStore for ReferenceCheckpointStore {
    async fn load(&self, projection: &str) -> StoreResult<Option<Checkpoint>> {
        Ok(lock(&self.checkpoints).get(projection).cloned())
    }

    async fn save(&self, checkpoint: Checkpoint) -> StoreResult<()> {
        lock(&self.checkpoints).insert(checkpoint.projection.clone(), checkpoint);
        Ok(())
    }

    async fn list(&self) -> StoreResult<Vec<Checkpoint>> {
        Ok(lock(&self.checkpoints).values().cloned().collect())
    }

    async fn record_dead_letter(&self, dead_letter: DeadLetter) -> StoreResult<()> {
        lock(&self.dead_letters).push(dead_letter);
        Ok(())
    }

    async fn dead_letters(&self, projection: &str) -> StoreResult<Vec<DeadLetter>> {
        Ok(lock(&self.dead_letters)
            .iter()
            .filter(|d| d.projection == projection)
            .cloned()
            .collect())
    }

    async fn remove_dead_letters(&self, projection: &str, positions: &[u64]) -> StoreResult<u64> {
        let mut dead_letters = lock(&self.dead_letters);
        let before = dead_letters.len();
        let removed =
            |d: &DeadLetter| d.projection == projection && (positions.is_empty() || positions.contains(&d.position));
        dead_letters.retain(|d| !removed(d));
        Ok((before - dead_letters.len()) as u64)
    }
}
