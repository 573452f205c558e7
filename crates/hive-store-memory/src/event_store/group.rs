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
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hive_domain::{EventEnvelope, EventStoreError, StoreResult};
use parking_lot::{Mutex, RwLock};
use tokio::sync::{mpsc, oneshot};

use super::append::{decide, Decision, GroupView, Staged, StagedBatch};
use super::bodies::Placed;
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
            log,
            fsync,
            max_group: max_group.max(1),
            broken: Arc::default(),
            staged: Staged::new(head),
            buf: Vec::new(),
            last_sync: Instant::now(),
        }
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
            if let Some(reply) = close {
                if let Some(sync) = &syncer {
                    if in_flight.is_some() {
                        self.finish_in_flight(&mut in_flight, sync.wait());
                    }
                }
                rx.close();
                let synced = self.sync();
                // Release the file (and its lock) before answering: whoever awaited `close`
                // may reopen the directory at once.
                drop(syncer);
                drop(self);
                let _ = reply.send(synced);
                return;
            }
        }
        if let (Some(sync), true) = (&syncer, in_flight.is_some()) {
            self.finish_in_flight(&mut in_flight, sync.wait());
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

/// The thread that syncs the group in flight while the writer prepares the next one.
struct Syncer {
    jobs: Option<std::sync::mpsc::Sender<()>>,
    results: std::sync::mpsc::Receiver<std::io::Result<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Syncer {
    /// Starts the sync thread on a second handle of the log; `None` (the writer then syncs
    /// itself) when there is no second handle or no thread.
    fn start<S: LogSink>(log: &LogWriter<S>, wake: mpsc::WeakSender<WriterRequest>) -> Option<Self> {
        let mut sink = match log.sync_handle() {
            Ok(sink) => sink,
            Err(error) => {
                tracing::warn!(%error, "no second handle on the event log; syncing on the writer thread");
                return None;
            }
        };
        let (jobs, job_rx) = std::sync::mpsc::channel::<()>();
        let (result_tx, results) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("hive-event-log-fsync".into())
            .spawn(move || {
                while job_rx.recv().is_ok() {
                    if result_tx.send(sink.sync_data()).is_err() {
                        return;
                    }
                    if let Some(tx) = wake.upgrade() {
                        // A full queue will wake the writer anyway.
                        let _ = tx.try_send(WriterRequest::Synced);
                    }
                }
            });
        match thread {
            Ok(thread) => Some(Self {
                jobs: Some(jobs),
                results,
                thread: Some(thread),
            }),
            Err(error) => {
                tracing::warn!(%error, "cannot start the event log sync thread; syncing on the writer thread");
                None
            }
        }
    }

    /// Asks for a sync of everything written; `false` if the sync thread is gone.
    fn begin(&mut self) -> bool {
        self.jobs.as_ref().is_some_and(|jobs| jobs.send(()).is_ok())
    }

    /// The outcome of the sync asked for, if it is done.
    fn try_result(&self) -> Option<std::io::Result<()>> {
        self.results.try_recv().ok()
    }

    /// Waits for the outcome of the sync asked for.
    fn wait(&self) -> std::io::Result<()> {
        self.results
            .recv()
            .unwrap_or_else(|_| Err(std::io::Error::other("the event log sync thread stopped")))
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the event log sync thread panicked");
            }
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
            let StagedBatch { events, starts, end } = &mut staged.batches[at];
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
enum Outcome {
    /// Accepted and encoded; acknowledged once the group is written.
    Staged,
    /// Answered without writing.
    Done(StoreResult<Appended>),
}

/// Sends [`WriterRequest::Tick`] every `period` until the store is gone (for `EveryMillis`).
pub(crate) fn spawn_ticker(tx: &mpsc::Sender<WriterRequest>, period: Duration) -> std::io::Result<()> {
    let weak = tx.downgrade();
    std::thread::Builder::new()
        .name("hive-event-log-sync".into())
        .spawn(move || loop {
            std::thread::sleep(period);
            let Some(tx) = weak.upgrade() else {
                return;
            };
            if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send(WriterRequest::Tick) {
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

    #[test]
    fn the_next_group_is_decided_while_one_syncs_and_answered_after_it() {
        let sink = FlakySink::default();
        let mut writer = writer(&sink);
        let batch = vec![ev("a", 1)];
        let (first, first_answer) = request(0, batch.clone());
        let prepared = writer.prepare(vec![first]);
        let mut in_flight = writer.write(prepared);
        assert!(in_flight.is_some(), "written, waiting for its sync");
        let (again, mut again_answer) = request(0, batch);
        let (next, mut next_answer) = request(1, vec![ev("a", 2)]);
        let second = writer.prepare(vec![again, next]);
        assert_eq!(second.batches, 1, "decided against the group in flight");
        assert_eq!(writer.state.read().head(), 0, "nothing applied before the sync");
        assert!(writer.finish_in_flight(&mut in_flight, Ok(())));
        assert!(matches!(first_answer.blocking_recv(), Ok(Ok(Appended::Fresh(_)))));
        assert_eq!(writer.state.read().head(), 1);
        assert!(
            again_answer.try_recv().is_err(),
            "no answer before its own group is synced"
        );
        assert!(next_answer.try_recv().is_err());
        let mut in_flight = writer.write(second);
        assert!(writer.finish_in_flight(&mut in_flight, Ok(())));
        assert!(matches!(again_answer.blocking_recv(), Ok(Ok(Appended::Existing(_)))));
        let Ok(Ok(Appended::Fresh(stored))) = next_answer.blocking_recv() else {
            panic!("second group refused")
        };
        assert_eq!(stored[0].global_position, Some(2));
        assert_eq!(writer.state.read().head(), 2);
    }

    #[test]
    fn a_failed_sync_fails_its_group_and_the_one_decided_after_it() {
        let sink = FlakySink::default();
        let mut writer = writer(&sink);
        let (first, first_answer) = request(0, vec![ev("a", 1)]);
        let prepared = writer.prepare(vec![first]);
        let mut in_flight = writer.write(prepared);
        let (next, next_answer) = request(1, vec![ev("a", 2)]);
        let second = writer.prepare(vec![next]);
        let failed = writer.finish_in_flight(&mut in_flight, Err(std::io::Error::other("disk gone")));
        assert!(!failed);
        writer.fail(second, &retry_later());
        assert!(matches!(
            first_answer.blocking_recv().unwrap(),
            Err(EventStoreError::Unavailable(_))
        ));
        assert!(matches!(
            next_answer.blocking_recv().unwrap(),
            Err(EventStoreError::Unavailable(_))
        ));
        assert!(sink.bytes.lock().unwrap().is_empty(), "log rolled back");
        assert_eq!(writer.state.read().head(), 0);
        let (retry, retry_answer) = request(0, vec![ev("a", 1)]);
        writer.commit(vec![retry]);
        let Ok(Ok(Appended::Fresh(stored))) = retry_answer.blocking_recv() else {
            panic!("retry refused")
        };
        assert_eq!(
            stored[0].global_position,
            Some(1),
            "positions start again where the log is"
        );
    }

    #[test]
    fn the_writer_thread_pipelines_and_acknowledges_every_append() {
        let sink = FlakySink::default();
        let state: Arc<RwLock<State>> = Arc::default();
        let log = LogWriter::new(sink.clone(), "t.log", 0);
        let writer = GroupWriter::new(Arc::clone(&state), log, FsyncPolicy::Always, 4);
        let (tx, rx) = mpsc::channel(64);
        let wake = tx.downgrade();
        let thread = std::thread::spawn(move || writer.run(rx, wake));
        let answers: Vec<_> = (0..40)
            .map(|n| {
                let (request, answer) = request(0, vec![ev(&format!("s{n}"), 1)]);
                tx.blocking_send(WriterRequest::Append(request)).unwrap();
                answer
            })
            .collect();
        for answer in answers {
            assert!(matches!(answer.blocking_recv(), Ok(Ok(Appended::Fresh(_)))));
        }
        drop(tx);
        thread.join().unwrap();
        assert_eq!(state.read().head(), 40);
    }
}
