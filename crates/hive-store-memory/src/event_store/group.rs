//! The writer thread of a durable store: group commit.
//!
//! Appends queue up in a channel. The writer takes every waiting request at once, decides each
//! against the committed state plus the requests before it in the same group, encodes the
//! accepted batches (one record each), writes them with one write, syncs per the fsync
//! policy, and only then applies them to the in-memory indexes and acknowledges them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hive_domain::{EventEnvelope, EventStoreError, StoreResult};
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use super::append::{decide, Decision, GroupView, Staged};
use super::index::State;
use crate::log::record;
use crate::log::writer::{LogSink, LogWriter};
use crate::FsyncPolicy;

/// What an acknowledged append stored.
#[derive(Debug)]
pub(crate) enum Appended {
    /// Newly written events.
    Fresh(Vec<Arc<EventEnvelope>>),
    /// An idempotent re-append: the events stored before.
    Existing(Vec<EventEnvelope>),
}

/// One append waiting for the writer (already validated).
#[derive(Debug)]
pub(crate) struct AppendRequest {
    pub(crate) expected_version: u64,
    pub(crate) events: Vec<EventEnvelope>,
    pub(crate) reply: oneshot::Sender<StoreResult<Appended>>,
}

/// A message to the writer.
#[derive(Debug)]
pub(crate) enum Command {
    /// Append a batch.
    Append(AppendRequest),
    /// Sync now if anything is unsynced (sent periodically under `FsyncPolicy::EveryMillis`).
    Tick,
    /// Finish the queued appends, sync and stop.
    Close(oneshot::Sender<StoreResult<()>>),
}

/// Serialises a batch of shared envelopes as a JSON array.
struct Batch<'a>(&'a [Arc<EventEnvelope>]);

impl Serialize for Batch<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|e| &**e))
    }
}

/// The writer's side of a durable store.
pub(crate) struct GroupWriter<S: LogSink> {
    pub(crate) state: Arc<RwLock<State>>,
    pub(crate) log: LogWriter<S>,
    pub(crate) fsync: FsyncPolicy,
    pub(crate) max_group: usize,
    /// Why the writer stopped accepting appends, shared with the store for `health`.
    pub(crate) broken: Arc<Mutex<Option<String>>>,
    buf: Vec<u8>,
    last_sync: Instant,
}

impl<S: LogSink> GroupWriter<S> {
    /// A writer applying to `state` what it wrote to `log`.
    pub(crate) fn new(state: Arc<RwLock<State>>, log: LogWriter<S>, fsync: FsyncPolicy, max_group: usize) -> Self {
        Self {
            state,
            log,
            fsync,
            max_group: max_group.max(1),
            broken: Arc::default(),
            buf: Vec::new(),
            last_sync: Instant::now(),
        }
    }

    /// Serves commands until the store closes or every sender is gone.
    pub(crate) fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        while let Some(first) = rx.blocking_recv() {
            let mut group = Vec::new();
            let mut tick = false;
            let mut close = None;
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Append(request) => group.push(request),
                    Command::Tick => tick = true,
                    Command::Close(reply) => {
                        close = Some(reply);
                        break;
                    }
                }
                if group.len() < self.max_group {
                    next = rx.try_recv().ok();
                }
            }
            if !group.is_empty() {
                self.commit(group);
            }
            let due = self.fsync.period().is_some_and(|p| self.last_sync.elapsed() >= p);
            if tick || due {
                self.sync_quietly();
            }
            if let Some(reply) = close {
                rx.close();
                let _ = reply.send(self.sync());
                return;
            }
        }
        self.sync_quietly();
    }

    fn sync(&mut self) -> StoreResult<()> {
        self.last_sync = Instant::now();
        self.log.sync()
    }

    fn sync_quietly(&mut self) {
        if let Err(error) = self.sync() {
            tracing::warn!(%error, "periodic sync of the event log failed");
        }
    }

    /// Commits one group: decide, write once, sync, apply, acknowledge.
    pub(crate) fn commit(&mut self, group: Vec<AppendRequest>) {
        self.buf.clear();
        let mut outcomes = Vec::with_capacity(group.len());
        let shared = Arc::clone(&self.state);
        let mut staged = {
            let state = shared.read();
            let mut staged = Staged::new(state.head());
            for request in group {
                let outcome = decide_one(
                    &state,
                    &mut staged,
                    &mut self.buf,
                    request.expected_version,
                    request.events,
                );
                outcomes.push((request.reply, outcome));
            }
            staged
        };
        if !staged.is_empty() {
            let sync = self.fsync.sync_each_write();
            if let Err(error) = self.log.append(&self.buf, sync) {
                if let Some(why) = self.log.broken() {
                    *self.broken.lock() = Some(why.to_owned());
                }
                for (reply, _) in outcomes {
                    let _ = reply.send(Err(error.clone()));
                }
                return;
            }
            if sync {
                self.last_sync = Instant::now();
            }
            let mut state = self.state.write();
            for batch in &staged.batches {
                state.index_batch(batch.iter().cloned());
            }
        }
        let mut batches = std::mem::take(&mut staged.batches).into_iter();
        for (reply, outcome) in outcomes {
            let result = match outcome {
                Outcome::Staged => batches
                    .next()
                    .map(Appended::Fresh)
                    .ok_or_else(|| EventStoreError::Backend("group commit lost track of a batch".into())),
                Outcome::Done(result) => result,
            };
            let _ = reply.send(result);
        }
    }
}

/// Decides one request of a group; an accepted batch is staged and encoded into `buf`.
fn decide_one(
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
            match record::encode_json(buf, &Batch(&staged.batches[at])) {
                Ok(()) => Outcome::Staged,
                Err(error) => {
                    staged.unstage_last();
                    Outcome::Done(Err(error))
                }
            }
        }
    }
}

/// What became of one request while its group was decided.
enum Outcome {
    /// Accepted and encoded; acknowledged once the group is written.
    Staged,
    /// Answered without writing.
    Done(StoreResult<Appended>),
}

/// Sends [`Command::Tick`] every `period` until the store is gone (for `EveryMillis`).
pub(crate) fn spawn_ticker(tx: &mpsc::Sender<Command>, period: Duration) -> std::io::Result<()> {
    let weak = tx.downgrade();
    std::thread::Builder::new()
        .name("hive-event-log-sync".into())
        .spawn(move || loop {
            std::thread::sleep(period);
            let Some(tx) = weak.upgrade() else {
                return;
            };
            if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send(Command::Tick) {
                return;
            }
        })
        .map(drop)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::log::writer::tests::FlakySink;

    fn ev(stream: &str, version: u64) -> EventEnvelope {
        EventEnvelope::new(stream, "T", "E", json!({"n": version}), version)
    }

    fn request(
        expected_version: u64,
        events: Vec<EventEnvelope>,
    ) -> (AppendRequest, oneshot::Receiver<StoreResult<Appended>>) {
        let (reply, answer) = oneshot::channel();
        (
            AppendRequest {
                expected_version,
                events,
                reply,
            },
            answer,
        )
    }

    fn writer(sink: &FlakySink) -> GroupWriter<FlakySink> {
        let log = LogWriter::new(sink.clone(), "t.log", 0);
        GroupWriter::new(Arc::default(), log, FsyncPolicy::Always, 16)
    }

    #[test]
    fn a_group_decides_each_request_against_the_ones_before() {
        let sink = FlakySink::default();
        let mut writer = writer(&sink);
        let batch = vec![ev("a", 1)];
        let (first, first_answer) = request(0, batch.clone());
        let (again, again_answer) = request(0, batch);
        let (late, late_answer) = request(0, vec![ev("a", 1)]);
        let (other, other_answer) = request(0, vec![ev("b", 1), ev("b", 2)]);
        writer.commit(vec![first, again, late, other]);
        let Ok(Ok(Appended::Fresh(stored))) = first_answer.blocking_recv() else {
            panic!("first append refused")
        };
        assert_eq!(stored[0].global_position, Some(1));
        let Ok(Ok(Appended::Existing(same))) = again_answer.blocking_recv() else {
            panic!("idempotent re-append refused")
        };
        assert_eq!(same[0], *stored[0]);
        assert!(late_answer.blocking_recv().unwrap().unwrap_err().is_conflict());
        let Ok(Ok(Appended::Fresh(b))) = other_answer.blocking_recv() else {
            panic!("second stream refused")
        };
        assert_eq!(b[1].global_position, Some(3));
        assert_eq!(writer.state.read().head(), 3);
        let bytes = sink.bytes.lock().unwrap().len();
        assert!(bytes > 0);
    }

    #[test]
    fn a_failed_write_applies_nothing_and_fails_every_request() {
        let sink = FlakySink::default();
        let mut writer = writer(&sink);
        let (ok, _) = request(0, vec![ev("a", 1)]);
        writer.commit(vec![ok]);
        let written = sink.bytes.lock().unwrap().clone();
        *sink.fail_sync.lock().unwrap() = true;
        let (next, next_answer) = request(1, vec![ev("a", 2)]);
        let (conflict, conflict_answer) = request(0, vec![ev("a", 1)]);
        writer.commit(vec![next, conflict]);
        assert!(matches!(
            next_answer.blocking_recv().unwrap(),
            Err(EventStoreError::Unavailable(_))
        ));
        assert!(matches!(
            conflict_answer.blocking_recv().unwrap(),
            Err(EventStoreError::Unavailable(_))
        ));
        assert_eq!(*sink.bytes.lock().unwrap(), written, "file rolled back");
        assert_eq!(writer.state.read().head(), 1, "nothing applied");
        *sink.fail_sync.lock().unwrap() = false;
        let (retry, retry_answer) = request(1, vec![ev("a", 2)]);
        writer.commit(vec![retry]);
        assert!(retry_answer.blocking_recv().unwrap().is_ok());
        assert_eq!(writer.state.read().head(), 2);
    }
}
