//! The baseline of the append benches, and a store that is replaced before it grows too big.

use std::collections::HashMap;

use hive_domain::EventEnvelope;

/// The least an in-memory event log can do: a `Vec` of envelopes and a stream index
/// (`HashMap<String, Vec<usize>>`, std hasher). No version check, no other index, no lock.
///
/// [`BaselineLog::append`] returns a copy of the stored envelopes, as
/// [`hive_domain::EventStore::append`] does (the port hands the stored envelopes, with their
/// global positions, back to the caller), so both sides clone the same data.
///
/// ```
/// let mut log = hive_benches::BaselineLog::default();
/// let stored = log.append("account-1", hive_benches::deposits("account-1", 1, 2).unwrap());
/// assert_eq!(stored[1].global_position, Some(2));
/// assert_eq!(log.len(), 2);
/// ```
#[derive(Debug, Default)]
pub struct BaselineLog {
    log: Vec<EventEnvelope>,
    streams: HashMap<String, Vec<usize>>,
}

impl BaselineLog {
    /// Stores `events` at the end of the log, indexes them under `aggregate_id` and returns a
    /// copy of them with their global positions.
    pub fn append(&mut self, aggregate_id: &str, events: Vec<EventEnvelope>) -> Vec<EventEnvelope> {
        let first = self.log.len();
        let stream = match self.streams.get_mut(aggregate_id) {
            Some(stream) => stream,
            None => self.streams.entry(aggregate_id.to_owned()).or_default(),
        };
        for (at, mut event) in (first..).zip(events) {
            event.global_position = Some(at as u64 + 1);
            stream.push(at);
            self.log.push(event);
        }
        self.log[first..].to_vec()
    }

    /// The number of stored events.
    pub fn len(&self) -> usize {
        self.log.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
    }
}

/// Hands out clones of one store, and replaces it by a fresh one once `limit` events were
/// handed out for it, so that a long benchmark neither runs out of memory nor measures an
/// ever bigger store. Call [`Rotating::next`] in the untimed set-up: the old store is dropped
/// by whoever holds its last clone, which the benches keep out of the timed part.
///
/// ```
/// let mut stores = hive_benches::Rotating::new(Vec::<u8>::new, 10);
/// let first = stores.next(6);
/// let second = stores.next(6); // 12 > 10: the next one is a fresh store
/// let _third = stores.next(1);
/// assert_eq!((first, second), (Vec::new(), Vec::new()));
/// assert_eq!(stores.rotations(), 1);
/// ```
#[derive(Debug)]
pub struct Rotating<T> {
    make: fn() -> T,
    current: T,
    handed_out: usize,
    limit: usize,
    rotations: usize,
}

impl<T: Clone> Rotating<T> {
    /// Starts with `make()`, replaced after `limit` events.
    pub fn new(make: fn() -> T, limit: usize) -> Self {
        Self {
            make,
            current: make(),
            handed_out: 0,
            limit,
            rotations: 0,
        }
    }

    /// A clone of the current store, which will receive `events` more events.
    pub fn next(&mut self, events: usize) -> T {
        if self.handed_out >= self.limit {
            self.current = (self.make)();
            self.handed_out = 0;
            self.rotations += 1;
        }
        self.handed_out += events;
        self.current.clone()
    }

    /// How many times the store was replaced.
    pub fn rotations(&self) -> usize {
        self.rotations
    }
}
