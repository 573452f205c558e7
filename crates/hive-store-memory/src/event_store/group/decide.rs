//! Deciding one append request of a group: refused, answered with the events stored before, or
//! staged and encoded into the group's buffer.

use hive_domain::{EventEnvelope, EventStoreError, StoreResult};

use super::Appended;
use crate::event_store::append::{decide, Decision, GroupView, Staged, StagedBatch};
use crate::event_store::index::State;
use crate::log::record;

/// Decides one request of a group; an accepted batch is staged and encoded into `buf`.
pub(super) fn decide_one(
    state: &State,
    staged: &mut Staged,
    buf: &mut Vec<u8>,
    expected: u64,
    events: Vec<EventEnvelope>,
) -> Outcome {
    let Some(aggregate_id) = events.first().map(|e| e.aggregate_id.as_str()) else {
        return Outcome::Done(Err(EventStoreError::InvalidBatch("empty batch".into())));
    };
    let view = GroupView { state, staged };
    match decide(&view, aggregate_id, expected, &events) {
        Err(error) => Outcome::Done(Err(error)),
        Ok(Decision::AlreadyStored(stored)) => Outcome::Done(Ok(Appended::Existing(stored))),
        Ok(Decision::Accept) => {
            let at = staged.stage(events);
            let StagedBatch {
                events,
                starts,
                record: start,
                end,
            } = &mut staged.batches[at];
            *start = buf.len() as u64;
            match record::encode_json_array(buf, events.iter().map(|e| &**e)) {
                Ok(at) => {
                    *starts = at.into_iter().map(|s| s as u64).collect();
                    *end = buf.len() as u64;
                    Outcome::Staged
                }
                Err(error) => {
                    staged.unstage_last();
                    Outcome::Done(Err(error))
                }
            }
        }
    }
}

/// What became of one request while its group was decided.
pub(super) enum Outcome {
    /// Accepted and encoded; acknowledged once the group is written.
    Staged,
    /// Answered without writing.
    Done(StoreResult<Appended>),
}
