//! Deciding an append: accept it, answer an idempotent re-append, or refuse a conflict.
//! Shared by the in-memory path and the durable group commit.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use hive_domain::{resolve_stale_append, EventEnvelope, EventStoreError, StoreResult};
use uuid::Uuid;

use super::index::{store_full, State, MAX_EVENTS};

/// What the writer sees of the streams when it decides an append.
pub(crate) trait StreamView {
    /// The global position of the last event.
    fn head(&self) -> u64;
    /// The current version of a stream.
    fn version(&self, aggregate_id: &str) -> u64;
    /// Up to `count` stored events of a stream from `from_version` on.
    fn stored(&self, aggregate_id: &str, from_version: u64, count: usize) -> StoreResult<Vec<EventEnvelope>>;
    /// True when an event with this id is stored.
    fn contains_id(&self, id: &Uuid) -> StoreResult<bool>;
}

impl StreamView for State {
    fn head(&self) -> u64 {
        State::head(self)
    }

    fn version(&self, aggregate_id: &str) -> u64 {
        self.stream_version(aggregate_id)
    }

    fn stored(&self, aggregate_id: &str, from_version: u64, count: usize) -> StoreResult<Vec<EventEnvelope>> {
        Ok(self
            .stream_chunk(aggregate_id, from_version, count)?
            .iter()
            .map(|e| EventEnvelope::clone(e))
            .collect())
    }

    fn contains_id(&self, id: &Uuid) -> StoreResult<bool> {
        State::contains_id(self, id)
    }
}

/// The outcome of a decided append.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Write the batch.
    Accept,
    /// The very same events are already stored: return them, write nothing.
    AlreadyStored(Vec<EventEnvelope>),
}

/// Decides a validated batch against `view` (see [`hive_domain::EventStore::append`]).
///
/// An event id already stored elsewhere (another stream or version) makes the batch invalid:
/// event ids are unique in the store. A batch that would take the store past
/// [`MAX_EVENTS`] is refused.
pub(crate) fn decide(
    view: &impl StreamView,
    aggregate_id: &str,
    expected_version: u64,
    events: &[EventEnvelope],
) -> StoreResult<Decision> {
    let actual = view.version(aggregate_id);
    if actual != expected_version {
        let stored = if expected_version < actual {
            view.stored(aggregate_id, expected_version + 1, events.len())?
        } else {
            Vec::new()
        };
        return resolve_stale_append(aggregate_id, expected_version, actual, events, stored)
            .map(Decision::AlreadyStored);
    }
    if view.head() + events.len() as u64 > MAX_EVENTS {
        return Err(store_full());
    }
    for event in events {
        if view.contains_id(&event.event_id)? {
            return Err(EventStoreError::InvalidBatch(format!(
                "event id {} is already stored (in another stream or at another version); \
                 give every new event a fresh id",
                event.event_id
            )));
        }
    }
    Ok(Decision::Accept)
}

/// An accepted batch and where its events lie in the group's encoded bytes.
#[derive(Debug)]
pub(crate) struct StagedBatch {
    /// The events, with their global positions.
    pub(crate) events: Vec<Arc<EventEnvelope>>,
    /// Where each event's JSON starts in the group's buffer.
    pub(crate) starts: Vec<u64>,
    /// Where the batch's record starts in the group's buffer.
    pub(crate) record: u64,
    /// Where the batch's record ends in the group's buffer.
    pub(crate) end: u64,
}

/// The appends accepted so far in one group commit, not yet applied to the [`State`].
#[derive(Debug)]
pub(crate) struct Staged {
    next_position: u64,
    streams: HashMap<String, Vec<Arc<EventEnvelope>>>,
    ids: HashSet<Uuid>,
    /// Accepted batches in commit order.
    pub(crate) batches: Vec<StagedBatch>,
}

impl Staged {
    /// An empty group on top of a log whose head is `head`.
    pub(crate) fn new(head: u64) -> Self {
        Self {
            next_position: head + 1,
            streams: HashMap::new(),
            ids: HashSet::new(),
            batches: Vec::new(),
        }
    }

    /// Stages an accepted batch: assigns its global positions; returns its index in `batches`.
    pub(crate) fn stage(&mut self, events: Vec<EventEnvelope>) -> usize {
        let stored: Vec<Arc<EventEnvelope>> = events
            .into_iter()
            .zip(self.next_position..)
            .map(|(mut event, position)| {
                event.global_position = Some(position);
                self.ids.insert(event.event_id);
                Arc::new(event)
            })
            .collect();
        self.next_position += stored.len() as u64;
        if let Some(first) = stored.first() {
            match self.streams.get_mut(&first.aggregate_id) {
                Some(pending) => pending.extend(stored.iter().cloned()),
                None => {
                    self.streams.insert(first.aggregate_id.clone(), stored.clone());
                }
            }
        }
        self.batches.push(StagedBatch {
            events: stored,
            starts: Vec::new(),
            record: 0,
            end: 0,
        });
        self.batches.len() - 1
    }

    /// Takes the first `count` staged batches out (they are being applied to the state),
    /// oldest first; the later ones stay staged.
    pub(crate) fn release_front(&mut self, count: usize) -> Vec<StagedBatch> {
        let released: Vec<_> = self.batches.drain(..count.min(self.batches.len())).collect();
        for StagedBatch { events: batch, .. } in &released {
            for event in batch {
                self.ids.remove(&event.event_id);
            }
            if let Some(first) = batch.first() {
                if let Some(pending) = self.streams.get_mut(&first.aggregate_id) {
                    pending.drain(..batch.len().min(pending.len()));
                    if pending.is_empty() {
                        self.streams.remove(&first.aggregate_id);
                    }
                }
            }
        }
        released
    }

    /// Takes the last staged batch back (when it could not be encoded).
    pub(crate) fn unstage_last(&mut self) {
        let Some(StagedBatch { events: batch, .. }) = self.batches.pop() else {
            return;
        };
        self.next_position -= batch.len() as u64;
        for event in &batch {
            self.ids.remove(&event.event_id);
        }
        if let Some(first) = batch.first() {
            if let Some(pending) = self.streams.get_mut(&first.aggregate_id) {
                pending.truncate(pending.len().saturating_sub(batch.len()));
                if pending.is_empty() {
                    self.streams.remove(&first.aggregate_id);
                }
            }
        }
    }
}

/// The state as it will be once the staged group is applied.
pub(crate) struct GroupView<'a> {
    /// The committed state.
    pub(crate) state: &'a State,
    /// The group staged on top of it.
    pub(crate) staged: &'a Staged,
}

impl StreamView for GroupView<'_> {
    fn head(&self) -> u64 {
        self.staged.next_position - 1
    }

    fn version(&self, aggregate_id: &str) -> u64 {
        let pending = self.staged.streams.get(aggregate_id).map_or(0, Vec::len);
        self.state.stream_version(aggregate_id) + pending as u64
    }

    fn stored(&self, aggregate_id: &str, from_version: u64, count: usize) -> StoreResult<Vec<EventEnvelope>> {
        let mut out = self.state.stored(aggregate_id, from_version, count)?;
        if out.len() < count {
            let committed = self.state.stream_version(aggregate_id);
            let skip = usize::try_from(from_version.saturating_sub(committed + 1)).unwrap_or(usize::MAX);
            let pending = self
                .staged
                .streams
                .get(aggregate_id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            out.extend(
                pending
                    .iter()
                    .skip(skip)
                    .take(count - out.len())
                    .map(|e| EventEnvelope::clone(e)),
            );
        }
        Ok(out)
    }

    fn contains_id(&self, id: &Uuid) -> StoreResult<bool> {
        Ok(self.staged.ids.contains(id) || self.state.contains_id(id)?)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::bodies::Placed;
    use super::*;

    fn ev(stream: &str, version: u64) -> EventEnvelope {
        EventEnvelope::new(stream, "T", "E", json!({}), version)
    }

    #[test]
    fn decisions_follow_the_port_contract() {
        let mut state = State::default();
        let first = vec![ev("a", 1), ev("a", 2)];
        assert!(matches!(decide(&state, "a", 0, &first), Ok(Decision::Accept)));
        state.commit(first.clone()).unwrap();
        match decide(&state, "a", 0, &first) {
            Ok(Decision::AlreadyStored(stored)) => assert_eq!(stored.len(), 2),
            other => panic!("{other:?}"),
        }
        let err = decide(&state, "a", 0, &[ev("a", 1)]).unwrap_err();
        assert!(err.is_conflict());
        assert!(decide(&state, "a", 5, &[ev("a", 6)]).unwrap_err().is_conflict());
        let reused = ev("b", 1).with_event_id(first[0].event_id);
        assert!(matches!(
            decide(&state, "b", 0, &[reused]),
            Err(EventStoreError::InvalidBatch(_))
        ));
    }

    #[test]
    fn released_batches_leave_the_later_ones_staged() {
        let mut state = State::default();
        let mut staged = Staged::new(state.head());
        staged.stage(vec![ev("a", 1)]);
        staged.stage(vec![ev("a", 2), ev("a", 3)]);
        let released = staged.release_front(1);
        assert_eq!(released.len(), 1);
        state.index_batch(&released[0].events, Placed::IN_MEMORY).unwrap();
        let view = GroupView {
            state: &state,
            staged: &staged,
        };
        assert_eq!(view.version("a"), 3, "one applied, two still staged");
        assert_eq!(view.stored("a", 2, 2).unwrap().len(), 2);
        assert!(matches!(decide(&view, "a", 3, &[ev("a", 4)]), Ok(Decision::Accept)));
        assert!(decide(&view, "a", 1, &[ev("a", 2)]).unwrap_err().is_conflict());
    }

    #[test]
    fn a_group_sees_its_own_staged_appends() {
        let mut state = State::default();
        state.commit(vec![ev("a", 1)]).unwrap();
        let mut staged = Staged::new(state.head());
        let second = vec![ev("a", 2), ev("a", 3)];
        let view = GroupView {
            state: &state,
            staged: &staged,
        };
        assert!(matches!(decide(&view, "a", 1, &second), Ok(Decision::Accept)));
        staged.stage(second.clone());
        let view = GroupView {
            state: &state,
            staged: &staged,
        };
        assert_eq!(view.version("a"), 3);
        assert!(decide(&view, "a", 1, &[ev("a", 2)]).unwrap_err().is_conflict());
        match decide(&view, "a", 1, &second) {
            Ok(Decision::AlreadyStored(stored)) => {
                assert_eq!(stored.len(), 2);
                assert_eq!(stored[0].global_position, Some(2));
            }
            other => panic!("{other:?}"),
        }
        let stored = state.read_all(0, 1).unwrap().remove(0);
        match decide(&view, "a", 0, &[stored, second[0].clone()]) {
            Ok(Decision::AlreadyStored(stored)) => assert_eq!(stored.len(), 2),
            other => panic!("{other:?}"),
        }
        assert!(view.contains_id(&second[1].event_id).unwrap());
        assert_eq!(view.head(), 3);
    }
}
