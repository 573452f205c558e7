//! The in-memory state of an event store: the global log and its indexes.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::sync::Arc;

use chrono::NaiveDate;
use foldhash::fast::FixedState;
use hive_domain::EventEnvelope;
use smallvec::SmallVec;
use uuid::Uuid;

use super::rollup::Rollups;

/// Log indexes (`position - 1`) of the events sharing one key, in commit order; one inline.
pub(crate) type Postings = SmallVec<[usize; 1]>;

/// A hash map with a fast (non-DoS-resistant) hasher: keys come from the application.
pub(crate) type FastMap<K, V> = HashMap<K, V, FixedState>;

/// A filter index: the 64-bit hash of a key → events with that key. A hash collision only adds
/// candidates, which look-ups filter out with `EventCriteria::matches`; no key is allocated.
pub(crate) type HashIndex = FastMap<u64, Postings>;

const SEED: u64 = 0x6869_7665_2d69_6478; // "hive-idx"

/// The key of `value` in a [`HashIndex`].
pub(crate) fn key_of(value: &str) -> u64 {
    FixedState::with_seed(SEED).hash_one(value)
}

/// The global log and its look-up indexes. Global position = index in `log` + 1.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) log: Vec<Arc<EventEnvelope>>,
    /// Stream → its events; entry `version - 1` holds the event of that version.
    pub(crate) streams: FastMap<String, Vec<usize>>,
    pub(crate) by_aggregate_type: HashIndex,
    pub(crate) by_type: HashIndex,
    pub(crate) by_correlation: HashIndex,
    pub(crate) by_organization: HashIndex,
    /// UTC day of the event's timestamp → its events.
    pub(crate) by_day: BTreeMap<NaiveDate, Vec<usize>>,
    /// Event id → its event: one entry per stored event, like every other index, maintained by
    /// [`State::index_batch`] on commit and on replay of the durable log.
    pub(crate) by_id: FastMap<Uuid, usize>,
    /// Event counts per hour × type × organization × user, for analytics.
    pub(crate) rollups: Rollups,
}

fn post(index: &mut HashIndex, key: &str, at: usize) {
    index.entry(key_of(key)).or_default().push(at);
}

impl State {
    /// The global position of the last event (0 when empty).
    pub(crate) fn head(&self) -> u64 {
        self.log.len() as u64
    }

    /// The version of a stream (0 when unknown).
    pub(crate) fn stream_version(&self, aggregate_id: &str) -> u64 {
        self.streams.get(aggregate_id).map_or(0, |p| p.len() as u64)
    }

    /// Up to `max` events of a stream from `from_version` on (versions start at 1).
    pub(crate) fn stream_chunk(&self, aggregate_id: &str, from_version: u64, max: usize) -> Vec<Arc<EventEnvelope>> {
        let Some(postings) = self.streams.get(aggregate_id) else {
            return Vec::new();
        };
        let start = usize::try_from(from_version.max(1) - 1).unwrap_or(usize::MAX);
        postings
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take(max)
            .map(|&at| Arc::clone(&self.log[at]))
            .collect()
    }

    /// True when an event with this id is stored.
    pub(crate) fn contains_id(&self, id: &Uuid) -> bool {
        self.by_id.contains_key(id)
    }

    /// The event with this id, cloned (with its global position), through the id index.
    pub(crate) fn event_by_id(&self, id: &Uuid) -> Option<EventEnvelope> {
        self.by_id.get(id).map(|&at| EventEnvelope::clone(&self.log[at]))
    }

    /// Up to `limit` events after global position `after`, cloned.
    pub(crate) fn read_all(&self, after: u64, limit: usize) -> Vec<EventEnvelope> {
        let start = usize::try_from(after).unwrap_or(usize::MAX);
        self.log
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take(limit)
            .map(|e| EventEnvelope::clone(e))
            .collect()
    }

    /// Assigns the next global positions to a validated batch of one stream and indexes it.
    /// Returns the global position of its first event.
    pub(crate) fn commit(&mut self, events: Vec<EventEnvelope>) -> u64 {
        let first = self.head() + 1;
        self.index_batch(events.into_iter().zip(first..).map(|(mut event, position)| {
            event.global_position = Some(position);
            Arc::new(event)
        }));
        first
    }

    /// Indexes a batch of one stream whose global positions follow the head.
    pub(crate) fn index_batch(&mut self, batch: impl IntoIterator<Item = Arc<EventEnvelope>>) {
        let mut batch = batch.into_iter().peekable();
        let Some(first) = batch.peek().cloned() else {
            return;
        };
        debug_assert_eq!(first.global_position, Some(self.log.len() as u64 + 1));
        if !self.streams.contains_key(first.aggregate_id.as_str()) {
            self.streams.insert(first.aggregate_id.clone(), Vec::new());
        }
        let mut stream = self.streams.get_mut(first.aggregate_id.as_str());
        let aggregate_type = self.by_aggregate_type.entry(key_of(&first.aggregate_type)).or_default();
        let mut day_cache: Option<(NaiveDate, &mut Vec<usize>)> = None;
        for event in batch {
            let at = self.log.len();
            if let Some(stream) = stream.as_mut() {
                stream.push(at);
            }
            aggregate_type.push(at);
            post(&mut self.by_type, &event.event_type, at);
            post(&mut self.by_correlation, &event.correlation_id, at);
            if let Some(organization) = &event.metadata.organization_id {
                post(&mut self.by_organization, organization, at);
            }
            let day = event.timestamp.date_naive();
            match &mut day_cache {
                Some((cached, postings)) if *cached == day => postings.push(at),
                _ => {
                    let postings = self.by_day.entry(day).or_default();
                    postings.push(at);
                    day_cache = Some((day, postings));
                }
            }
            self.by_id.insert(event.event_id, at);
            self.rollups.add(
                event.timestamp,
                &event.event_type,
                event.metadata.organization_id.as_deref(),
                event.metadata.user_id.as_deref(),
            );
            self.log.push(event);
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
        assert_eq!(state.commit(vec![ev("a", 1), ev("a", 2)]), 1);
        assert_eq!(state.log[1].global_position, Some(2));
        assert_eq!(state.commit(vec![ev("b", 1)]), 3);
        assert_eq!(state.head(), 3);
        assert_eq!(state.stream_version("a"), 2);
        assert_eq!(state.stream_version("zz"), 0);
        assert_eq!(state.stream_chunk("a", 2, 10).len(), 1);
        assert_eq!(state.stream_chunk("a", 0, 1).len(), 1);
        assert_eq!(state.stream_chunk("a", 9, 10).len(), 0);
        assert_eq!(state.by_type[&key_of("E")].as_slice(), &[0, 1, 2]);
        assert_eq!(state.by_day.values().map(Vec::len).sum::<usize>(), 3);
        assert_eq!(state.read_all(1, 10).len(), 2);
        assert!(state.contains_id(&state.log[0].event_id));
        let second = state.log[1].event_id;
        assert_eq!(
            state.event_by_id(&second).map(|e| (e.global_position, e.version)),
            Some((Some(2), 2))
        );
        assert_eq!(state.event_by_id(&Uuid::new_v4()), None);
    }
}
