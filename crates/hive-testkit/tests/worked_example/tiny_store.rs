//! `hive-store-tiny`: a complete, minimal Hive store adapter — the one-file example of
//! `docs/adapters.md`. It keeps everything in process behind one `RwLock`: the global log is a
//! `Vec` (global position = index + 1) and each stream is the list of its events' indexes.
//! A real adapter swaps the `Vec` for a database; the shape of each method stays the same.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::{self, StreamExt};
use hive_domain::{
    resolve_stale_append, validate_append, AnalyticsFilter, Checkpoint, CheckpointStore, DeadLetter, EventAnalytics,
    EventAnalyticsReport, EventCriteria, EventEnvelope, EventLookup, EventPage, EventSearch, EventStatistics,
    EventStore, EventStoreError, EventStream, Heatmap, Interval, Page, Snapshot, SnapshotStore, StoreResult,
    TrendBucket,
};
use tokio::sync::RwLock;

/// Events handed out per read lock while a stream is read (streams are never read whole).
const CHUNK: usize = 512;

/// A `u64` from the port as an index; out of range is a typed error, never a panic.
fn index(value: u64) -> StoreResult<usize> {
    usize::try_from(value).map_err(|_| EventStoreError::Backend(format!("{value} does not fit in memory")))
}

#[derive(Default)]
struct Log {
    /// The global log: the event at position `p` is `events[p - 1]`.
    events: Vec<EventEnvelope>,
    /// Per stream, the index in `events` of each version (version `v` at `[v - 1]`).
    streams: HashMap<String, Vec<usize>>,
}

/// The event store (and its analytics).
#[derive(Clone, Default)]
pub struct TinyEventStore {
    log: Arc<RwLock<Log>>,
}

impl TinyEventStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events `filter` counts (the analytics read them all: fine in memory; a database
    /// adapter pushes the counting down to the database instead).
    async fn analysed(&self, filter: &AnalyticsFilter) -> Vec<EventEnvelope> {
        let log = self.log.read().await;
        log.events.iter().filter(|e| filter.matches(e)).cloned().collect()
    }
}

#[async_trait]
impl EventStore for TinyEventStore {
    async fn append(
        &self,
        aggregate_id: &str,
        expected_version: u64,
        events: Vec<EventEnvelope>,
    ) -> StoreResult<Vec<EventEnvelope>> {
        // 1. The batch's shape (one stream, consecutive versions, distinct ids): the shared rules.
        validate_append(aggregate_id, expected_version, &events)?;
        // 2. One writer at a time: the version check and the write are one atomic step.
        let mut log = self.log.write().await;
        let indexes = log.streams.get(aggregate_id).map_or(&[][..], Vec::as_slice);
        let actual = indexes.len() as u64;
        if actual != expected_version {
            // 3. A stale expected version: the same events again (a retry) or a typed conflict.
            let stored = indexes
                .iter()
                .skip(index(expected_version)?)
                .take(events.len())
                .map(|&i| log.events[i].clone())
                .collect();
            return resolve_stale_append(aggregate_id, expected_version, actual, &events, stored);
        }
        // 4. Global positions, gap-free in commit order, set by the store.
        let mut stored = Vec::with_capacity(events.len());
        for mut event in events {
            let at = log.events.len();
            event.global_position = Some(at as u64 + 1);
            log.streams.entry(aggregate_id.to_owned()).or_default().push(at);
            log.events.push(event.clone());
            stored.push(event);
        }
        Ok(stored)
    }

    fn read_stream<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> EventStream<'a> {
        let start = usize::try_from(from_version.max(1) - 1).unwrap_or(usize::MAX);
        // Lazily, one chunk per read lock: a 100 000-event stream is never held twice in memory.
        stream::unfold(start, move |next| async move {
            let log = self.log.read().await;
            let indexes = log.streams.get(aggregate_id)?;
            let chunk: Vec<EventEnvelope> = indexes
                .iter()
                .skip(next)
                .take(CHUNK)
                .map(|&i| log.events[i].clone())
                .collect();
            let read = chunk.len();
            (read > 0).then_some((chunk, next + read))
        })
        .flat_map(|chunk| stream::iter(chunk.into_iter().map(Ok)))
        .boxed()
    }

    async fn stream_version(&self, aggregate_id: &str) -> StoreResult<u64> {
        let log = self.log.read().await;
        Ok(log.streams.get(aggregate_id).map_or(0, |s| s.len() as u64))
    }

    async fn read_all(&self, after_position: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>> {
        let log = self.log.read().await;
        let start = index(after_position)?;
        Ok(log.events.iter().skip(start).take(limit).cloned().collect())
    }

    async fn head_position(&self) -> StoreResult<u64> {
        Ok(self.log.read().await.events.len() as u64)
    }
}

#[async_trait]
impl EventLookup for TinyEventStore {
    async fn event_by_id(&self, event_id: uuid::Uuid) -> StoreResult<Option<EventEnvelope>> {
        // A scan: fine for a worked example; a real adapter keeps an index by event id.
        let log = self.log.read().await;
        Ok(log.events.iter().find(|e| e.event_id == event_id).cloned())
    }
}

#[async_trait]
impl EventSearch for TinyEventStore {
    async fn search(&self, criteria: &EventCriteria, page: Page) -> StoreResult<EventPage> {
        // `EventCriteria::matches` is the reference meaning of every criterion (full text too).
        let log = self.log.read().await;
        let mut found: Vec<&EventEnvelope> = log.events.iter().filter(|e| criteria.matches(e)).collect();
        // The shared order (timestamp, then global position), reversed for newest first.
        found.sort_by(|a, b| page.order.apply(hive_domain::event_order(a, b)));
        Ok(EventPage {
            total: found.len() as u64,
            items: found
                .into_iter()
                .skip(page.offset_usize())
                .take(page.limit_usize())
                .cloned()
                .collect(),
        })
    }
}

#[async_trait]
impl EventAnalytics for TinyEventStore {
    async fn statistics(&self, filter: &AnalyticsFilter) -> StoreResult<EventStatistics> {
        Ok(EventAnalyticsReport::statistics(&self.analysed(filter).await))
    }

    async fn trends(&self, filter: &AnalyticsFilter, interval: Interval) -> StoreResult<Vec<TrendBucket>> {
        Ok(EventAnalyticsReport::trends(&self.analysed(filter).await, interval))
    }

    async fn heatmap(&self, filter: &AnalyticsFilter) -> StoreResult<Heatmap> {
        Ok(EventAnalyticsReport::heatmap(&self.analysed(filter).await))
    }
}

/// The snapshot store: the latest snapshot per stream.
#[derive(Default)]
pub struct TinySnapshotStore {
    snapshots: RwLock<HashMap<String, Snapshot>>,
}

impl TinySnapshotStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SnapshotStore for TinySnapshotStore {
    async fn save(&self, snapshot: Snapshot) -> StoreResult<()> {
        let mut snapshots = self.snapshots.write().await;
        // An older snapshot never replaces a newer one (two writers may race).
        let newer = snapshots
            .get(&snapshot.aggregate_id)
            .is_none_or(|stored| snapshot.version >= stored.version);
        if newer {
            snapshots.insert(snapshot.aggregate_id.clone(), snapshot);
        }
        Ok(())
    }

    async fn load(&self, aggregate_id: &str) -> StoreResult<Option<Snapshot>> {
        Ok(self.snapshots.read().await.get(aggregate_id).cloned())
    }
}

/// The checkpoint store: one checkpoint per projection, and the dead letters.
#[derive(Default)]
pub struct TinyCheckpointStore {
    checkpoints: RwLock<BTreeMap<String, Checkpoint>>,
    dead_letters: RwLock<Vec<DeadLetter>>,
}

impl TinyCheckpointStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl CheckpointStore for TinyCheckpointStore {
    async fn load(&self, projection: &str) -> StoreResult<Option<Checkpoint>> {
        Ok(self.checkpoints.read().await.get(projection).cloned())
    }

    async fn save(&self, checkpoint: Checkpoint) -> StoreResult<()> {
        let mut checkpoints = self.checkpoints.write().await;
        checkpoints.insert(checkpoint.projection.clone(), checkpoint);
        Ok(())
    }

    async fn list(&self) -> StoreResult<Vec<Checkpoint>> {
        Ok(self.checkpoints.read().await.values().cloned().collect())
    }

    async fn record_dead_letter(&self, dead_letter: DeadLetter) -> StoreResult<()> {
        self.dead_letters.write().await.push(dead_letter);
        Ok(())
    }

    async fn dead_letters(&self, projection: &str) -> StoreResult<Vec<DeadLetter>> {
        let dead_letters = self.dead_letters.read().await;
        Ok(dead_letters
            .iter()
            .filter(|d| d.projection == projection)
            .cloned()
            .collect())
    }

    async fn remove_dead_letters(&self, projection: &str, positions: &[u64]) -> StoreResult<u64> {
        let mut dead_letters = self.dead_letters.write().await;
        let before = dead_letters.len();
        // No positions: every dead letter of the projection goes.
        let removed =
            |d: &DeadLetter| d.projection == projection && (positions.is_empty() || positions.contains(&d.position));
        dead_letters.retain(|d| !removed(d));
        Ok((before - dead_letters.len()) as u64)
    }
}
