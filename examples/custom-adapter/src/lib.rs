//! An event-store adapter of your own: [`VecEventStore`] keeps the log in a `Vec` behind a
//! mutex and implements only the core [`EventStore`] port (append with optimistic concurrency,
//! read a stream, read the global log). `tests/conformance.rs` proves it with
//! `hive_testkit::event_store_conformance!`; the optional capabilities (look-up by id, search,
//! analytics) can come later, each with its own trait and macro.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use futures::stream::{self, StreamExt};
use hive_domain::{
    resolve_stale_append, validate_append, EventEnvelope, EventStore, EventStoreError, EventStream, StoreResult,
};

/// The log and, per stream, the indexes of its events in the log.
#[derive(Default)]
struct Log {
    events: Vec<EventEnvelope>,
    streams: HashMap<String, Vec<usize>>,
}

/// A core-only event store: the whole log in memory, nothing more.
#[derive(Default)]
pub struct VecEventStore {
    log: Mutex<Log>,
}

impl VecEventStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> StoreResult<MutexGuard<'_, Log>> {
        self.log
            .lock()
            .map_err(|_| EventStoreError::Backend("the log's lock is poisoned".into()))
    }

    /// The events of `aggregate_id` with `version >= from_version`, copied out of the lock.
    fn stream_from(&self, aggregate_id: &str, from_version: u64) -> StoreResult<Vec<EventEnvelope>> {
        let log = self.lock()?;
        let indexes = log.streams.get(aggregate_id).map(Vec::as_slice).unwrap_or_default();
        // Versions start at 1 and are gap-free, so version `v` is at index `v - 1`.
        let skip = usize::try_from(from_version.saturating_sub(1)).unwrap_or(usize::MAX);
        Ok(indexes.iter().skip(skip).map(|&i| log.events[i].clone()).collect())
    }
}

#[async_trait]
impl EventStore for VecEventStore {
    async fn append(
        &self,
        aggregate_id: &str,
        expected_version: u64,
        events: Vec<EventEnvelope>,
    ) -> StoreResult<Vec<EventEnvelope>> {
        // Validation first: a malformed batch is refused whatever the stream's version.
        validate_append(aggregate_id, expected_version, &events)?;
        let mut log = self.lock()?;
        let actual = log.streams.get(aggregate_id).map_or(0, |s| s.len() as u64);
        if actual != expected_version {
            // The same batch sent again is an idempotent no-op; anything else is a conflict.
            let indexes = log.streams.get(aggregate_id).map(Vec::as_slice).unwrap_or_default();
            let from = usize::try_from(expected_version).unwrap_or(usize::MAX);
            let stored = indexes
                .iter()
                .skip(from)
                .take(events.len())
                .map(|&i| log.events[i].clone())
                .collect();
            return resolve_stale_append(aggregate_id, expected_version, actual, &events, stored);
        }
        let mut stored = Vec::with_capacity(events.len());
        for mut event in events {
            let index = log.events.len();
            event.global_position = Some(index as u64 + 1);
            log.events.push(event.clone());
            log.streams.entry(aggregate_id.to_owned()).or_default().push(index);
            stored.push(event);
        }
        Ok(stored)
    }

    fn read_stream<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> EventStream<'a> {
        match self.stream_from(aggregate_id, from_version) {
            Ok(events) => stream::iter(events.into_iter().map(Ok)).boxed(),
            Err(error) => stream::once(async { Err(error) }).boxed(),
        }
    }

    async fn read_all(&self, after_position: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>> {
        let log = self.lock()?;
        // Positions start at 1 and are gap-free, so position `p` is at index `p - 1`.
        let start = usize::try_from(after_position).unwrap_or(usize::MAX);
        Ok(log.events.iter().skip(start).take(limit).cloned().collect())
    }

    async fn head_position(&self) -> StoreResult<u64> {
        Ok(self.lock()?.events.len() as u64)
    }
}
