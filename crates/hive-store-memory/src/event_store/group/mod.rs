//! The writer thread of a durable store: group commit.
//!
//! Appends queue up in a channel. The writer takes every waiting request at once, decides each
//! against the committed state plus the requests before it (in its group and in the group
//! still syncing), encodes the accepted batches (one record each), writes them with one
//! write, syncs per the fsync policy, and only then applies them to the in-memory indexes and
//! acknowledges them.
//!
//! With [`FsyncPolicy::Always`] the sync runs on a second thread, so that the writer decides
//! and encodes the next group while the previous one syncs (it writes it only once that sync
//! succeeded). No append is acknowledged before the sync that covers it: the answers of a
//! group, refusals and idempotent re-appends included, are sent after its own sync, which
//! follows its predecessor's. A failed sync rolls the log back to before its group, whose
//! appends fail, and so do those of the group decided after it (they counted on it).

use std::sync::Arc;
use std::time::Instant;

use hive_domain::{EventEnvelope, EventStoreError, StoreResult};
use parking_lot::{Mutex, RwLock};
use tokio::sync::{mpsc, oneshot};

use super::append::Staged;
use super::bodies::Placed;
use super::index::State;
use super::index_checkpoint::Checkpointer;
use crate::log::writer::{LogSink, LogWriter};
use crate::FsyncPolicy;

mod checkpoints;
mod decide;
mod syncer;

use decide::{decide_one, Outcome};
pub(crate) use syncer::spawn_ticker;
use syncer::Syncer;

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
pub(crate) enum WriterRequest {
    /// Append a batch.
    Append(AppendRequest),
    /// Sync now if anything is unsynced (sent periodically under `FsyncPolicy::EveryMillis`).
    Tick,
    /// The sync of the group in flight has finished (sent by the sync thread).
    Synced,
    /// Finish the queued appends, sync and stop.
    Close(oneshot::Sender<StoreResult<()>>),
}

type Reply = oneshot::Sender<StoreResult<Appended>>;

/// A group decided and encoded (into the writer's buffer), not written yet.
struct Prepared {
    outcomes: Vec<(Reply, Outcome)>,
    /// How many batches of the writer's `staged` are this group's (the last ones).
    batches: usize,
}

/// A group written, waiting for its sync.
struct Written {
    outcomes: Vec<(Reply, Outcome)>,
    batches: usize,
    /// The log's length before the group, to roll back to.
    before: u64,
}

/// The writer's side of a durable store.
pub(crate) struct GroupWriter<S: LogSink> {
    pub(crate) state: Arc<RwLock<State>>,
    /// Writes index checkpoints (durable stores that want them). Before `log`: dropping the
    /// writer waits for the checkpoint being written before it lets go of the log's lock.
    checkpoints: Option<Checkpointer>,
    pub(crate) log: LogWriter<S>,
    pub(crate) fsync: FsyncPolicy,
    pub(crate) max_group: usize,
    /// Why the writer stopped accepting appends, shared with the store for `health`.
    pub(crate) broken: Arc<Mutex<Option<String>>>,
    /// Accepted batches not yet applied to `state` (the group syncing, the group prepared).
    staged: Staged,
    buf: Vec<u8>,
    last_sync: Instant,
}

impl<S: LogSink> GroupWriter<S> {
    /// A writer applying to `state` what it wrote to `log`.
    pub(crate) fn new(state: Arc<RwLock<State>>, log: LogWriter<S>, fsync: FsyncPolicy, max_group: usize) -> Self {
        let head = state.read().head();
        Self {
            state,
            checkpoints: None,
            log,
            fsync,
            max_group: max_group.max(1),
            broken: Arc::default(),
            staged: Staged::new(head),
            buf: Vec::new(),
            last_sync: Instant::now(),
        }
    }

    /// Writes index checkpoints with `checkpoints`.
    pub(crate) fn with_checkpoints(mut self, checkpoints: Option<Checkpointer>) -> Self {
        self.checkpoints = checkpoints;
        self
    }

    /// Serves commands until the store closes or every sender is gone. `wake` reaches the
    /// writer's own queue, for the sync thread to say that a sync finished.
    pub(crate) fn run(mut self, mut rx: mpsc::Receiver<WriterRequest>, wake: mpsc::WeakSender<WriterRequest>) {
        let mut syncer = if self.fsync.sync_each_write() {
            Syncer::start(&self.log, wake)
        } else {
            None
        };
        let mut in_flight: Option<Written> = None;
        // Right after open when the log held many events the checkpoint did not cover.
        self.checkpoint_if_due();
        while let Some(first) = rx.blocking_recv() {
            let mut group = Vec::new();
            let mut tick = false;
            let mut close = None;
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    WriterRequest::Append(request) => group.push(request),
                    WriterRequest::Tick => tick = true,
                    WriterRequest::Synced => {}
                    WriterRequest::Close(reply) => {
                        close = Some(reply);
                        break;
                    }
                }
                if group.len() < self.max_group {
                    next = rx.try_recv().ok();
                }
            }
            if let (Some(sync), true) = (&syncer, in_flight.is_some()) {
                if let Some(result) = sync.try_result() {
                    self.finish_in_flight(&mut in_flight, result);
                }
            }
            if !group.is_empty() {
                let prepared = self.prepare(group);
                if let Some(sync) = &syncer {
                    if in_flight.is_some() && !self.finish_in_flight(&mut in_flight, sync.wait()) {
                        self.fail(prepared, &retry_later());
                        continue;
                    }
                }
                if let Some(written) = self.write(prepared) {
                    match syncer.as_mut().map(Syncer::begin) {
                        Some(true) => in_flight = Some(written),
                        Some(false) => {
                            syncer = None;
                            let synced = self.sync_written();
                            self.finish(written, Some(synced));
                        }
                        None => {
                            let synced = self.fsync.sync_each_write().then(|| self.sync_written());
                            self.finish(written, synced);
                        }
                    }
                }
            }
            let due = self.fsync.period().is_some_and(|p| self.last_sync.elapsed() >= p);
            if tick || due {
                self.sync_quietly();
            }
            let Some(reply) = close else {
                self.checkpoint_if_due();
                continue;
            };
            if let Some(sync) = &syncer {
                if in_flight.is_some() {
                    self.finish_in_flight(&mut in_flight, sync.wait());
                }
            }
            rx.close();
            let synced = self.sync();
            self.checkpoint_and_stop();
            // Release the file (and its lock) before answering: whoever awaited `close`
            // may reopen the directory at once.
            drop(syncer);
            drop(self);
            let _ = reply.send(synced);
            return;
        }
        if let (Some(sync), true) = (&syncer, in_flight.is_some()) {
            self.finish_in_flight(&mut in_flight, sync.wait());
        }
        self.sync_quietly();
        self.checkpoint_and_stop();
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

    /// Syncs the last write on the writer's own thread.
    fn sync_written(&mut self) -> std::io::Result<()> {
        self.log.sync_data()
    }

    /// Commits one group at once: decide, write, sync, apply, acknowledge.
    #[cfg(test)]
    pub(crate) fn commit(&mut self, group: Vec<AppendRequest>) {
        let prepared = self.prepare(group);
        if let Some(written) = self.write(prepared) {
            let synced = self.fsync.sync_each_write().then(|| self.sync_written());
            self.finish(written, synced);
        }
    }

    /// Decides every request of a group against the state and what is staged, and encodes
    /// the accepted batches into the buffer.
    fn prepare(&mut self, group: Vec<AppendRequest>) -> Prepared {
        self.buf.clear();
        let before = self.staged.batches.len();
        let shared = Arc::clone(&self.state);
        let state = shared.read();
        let outcomes = group
            .into_iter()
            .map(|request| {
                let outcome = decide_one(
                    &state,
                    &mut self.staged,
                    &mut self.buf,
                    request.expected_version,
                    request.events,
                );
                (request.reply, outcome)
            })
            .collect();
        Prepared {
            outcomes,
            batches: self.staged.batches.len() - before,
        }
    }

    /// Writes a prepared group (nothing may be in flight). `None` when it needs no sync and
    /// was answered already: it wrote nothing, or the write failed.
    fn write(&mut self, prepared: Prepared) -> Option<Written> {
        if prepared.batches == 0 {
            self.answer(prepared.outcomes, Vec::new());
            return None;
        }
        match self.log.write(&self.buf) {
            Ok(before) => Some(Written {
                outcomes: prepared.outcomes,
                batches: prepared.batches,
                before,
            }),
            Err(error) => {
                self.note_broken();
                self.fail(prepared, &error);
                None
            }
        }
    }

    /// Finishes the group in flight with the outcome of its sync; whether it was stored.
    fn finish_in_flight(&mut self, in_flight: &mut Option<Written>, synced: std::io::Result<()>) -> bool {
        match in_flight.take() {
            Some(written) => self.finish(written, Some(synced)),
            None => true,
        }
    }

    /// Applies and acknowledges a written group once synced (or when no sync was due); on a
    /// failed sync rolls the log back and fails the group. Whether it was stored.
    fn finish(&mut self, written: Written, synced: Option<std::io::Result<()>>) -> bool {
        if let Some(result) = synced {
            if let Err(error) = self.log.synced(written.before, result) {
                self.note_broken();
                let head = self.state.read().head();
                self.staged = Staged::new(head);
                for (reply, _) in written.outcomes {
                    let _ = reply.send(Err(error.clone()));
                }
                return false;
            }
            self.last_sync = Instant::now();
        }
        let batches = self.staged.release_front(written.batches);
        let applied = {
            let mut state = self.state.write();
            batches.iter().try_for_each(|batch| {
                let starts: Vec<u64> = batch.starts.iter().map(|s| written.before + s).collect();
                let placed = Placed {
                    starts: &starts,
                    record: written.before + batch.record,
                    end: written.before + batch.end,
                    cache: true,
                };
                state.index_batch(&batch.events, placed)
            })
        };
        if let Err(error) = applied {
            // Written but not indexed: only a reopen (which replays the log) can tell.
            tracing::error!(%error, "a written group could not be indexed; reopen the store");
            self.log.refuse(format!(
                "a written group could not be indexed ({error}); reopen the store"
            ));
            self.note_broken();
            for (reply, _) in written.outcomes {
                let _ = reply.send(Err(error.clone()));
            }
            return false;
        }
        self.answer(written.outcomes, batches.into_iter().map(|b| b.events).collect());
        true
    }

    /// Sends each request its answer, the accepted ones their stored batch (in order).
    fn answer(&self, outcomes: Vec<(Reply, Outcome)>, batches: Vec<Vec<Arc<EventEnvelope>>>) {
        let mut batches = batches.into_iter();
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

    /// Fails every request of a group that will not be written, and forgets what it staged.
    fn fail(&mut self, prepared: Prepared, error: &EventStoreError) {
        // (After a failed sync the staged batches are gone already: nothing to unstage.)
        for _ in 0..prepared.batches {
            self.staged.unstage_last();
        }
        for (reply, _) in prepared.outcomes {
            let _ = reply.send(Err(error.clone()));
        }
    }

    fn note_broken(&self) {
        if let Some(why) = self.log.broken() {
            *self.broken.lock() = Some(why.to_owned());
        }
    }
}

/// The answer to appends decided after a group whose sync failed.
fn retry_later() -> EventStoreError {
    EventStoreError::Unavailable("an earlier group failed to sync; nothing of this append was written".into())
}

#[cfg(test)]
mod tests;
