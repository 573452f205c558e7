//! The checkpoint thread: for each checkpoint the writer encoded it syncs the log (so that the
//! bytes the checkpoint covers, all written before it was encoded, are durable first), seals
//! the checkpoint, writes it to a temporary file, syncs it and renames it over
//! `index.checkpoint`, one at a time.

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::encode::Covered;
use super::format::seal;
use crate::log::fs::write_atomically;
use crate::INDEX_CHECKPOINT_FILE;

/// An encoded checkpoint on its way to the file.
struct Job {
    file: Vec<u8>,
    covered: Covered,
    /// How long encoding it held the state's read lock.
    held: Duration,
}

/// The writer's handle on the checkpoint thread, and when the next checkpoint is due.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    every: u64,
    /// The events of the newest checkpoint written, being written or loaded on open.
    covered: u64,
    /// A checkpoint is being written.
    busy: bool,
    jobs: Option<mpsc::Sender<Job>>,
    done: mpsc::Receiver<()>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread writing `dir`'s checkpoints, one every `every` events past the
    /// `covered` ones (those of the checkpoint loaded on open), after `sync_log` synced the
    /// log. `None` when `every` is 0, or, after a warning, when no thread can be started.
    pub(crate) fn start(
        dir: &Path,
        every: u64,
        covered: u64,
        mut sync_log: impl FnMut() -> std::io::Result<()> + Send + 'static,
    ) -> Option<Self> {
        if every == 0 {
            return None;
        }
        let path = dir.join(INDEX_CHECKPOINT_FILE);
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("hive-event-index-checkpoint".into())
            .spawn(move || {
                while let Ok(job) = job_rx.recv() {
                    write(&path, job, &mut sync_log);
                    if done_tx.send(()).is_err() {
                        return;
                    }
                }
            });
        match thread {
            Ok(thread) => Some(Self {
                every,
                covered,
                busy: false,
                jobs: Some(jobs),
                done,
                thread: Some(thread),
            }),
            Err(error) => {
                tracing::warn!(%error, "cannot start the index checkpoint thread; no checkpoints");
                None
            }
        }
    }

    /// Whether a checkpoint is due at head `head`: `every` events or more since the newest
    /// one, and none being written.
    pub(crate) fn due(&mut self, head: u64) -> bool {
        while self.done.try_recv().is_ok() {
            self.busy = false;
        }
        !self.busy && head >= self.covered.saturating_add(self.every)
    }

    /// Whether events past the newest checkpoint are stored.
    pub(crate) fn behind(&self, head: u64) -> bool {
        head > self.covered
    }

    /// Hands an encoded checkpoint to the thread; `held` is how long encoding held the lock.
    pub(crate) fn submit(&mut self, file: Vec<u8>, covered: Covered, held: Duration) {
        let Some(jobs) = &self.jobs else {
            return;
        };
        let events = covered.events;
        if jobs.send(Job { file, covered, held }).is_ok() {
            self.busy = true;
            self.covered = events;
        }
    }

    /// Waits until the checkpoints handed over are written, and stops the thread.
    pub(crate) fn finish(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the index checkpoint thread panicked");
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Syncs the log, then seals and writes one checkpoint (atomically, synced); a failure is only
/// logged: the next open replays more of the log.
fn write(path: &Path, job: Job, sync_log: &mut impl FnMut() -> std::io::Result<()>) {
    let started = Instant::now();
    let Job {
        mut file,
        covered,
        held,
    } = job;
    if let Err(error) = sync_log() {
        tracing::warn!(
            file = %path.display(),
            events = covered.events,
            %error,
            "no index checkpoint: the event log could not be synced"
        );
        return;
    }
    let synced = started.elapsed();
    seal(&mut file);
    match write_atomically(path, &file, true) {
        Ok(()) => tracing::debug!(
            file = %path.display(),
            events = covered.events,
            log_bytes = covered.log_len,
            bytes = file.len(),
            lock_held_ms = held.as_secs_f64() * 1e3,
            log_sync_ms = synced.as_secs_f64() * 1e3,
            write_ms = (started.elapsed() - synced).as_secs_f64() * 1e3,
            "index checkpoint written"
        ),
        Err(error) => tracing::warn!(
            file = %path.display(),
            events = covered.events,
            %error,
            "cannot write the index checkpoint; the next open replays more of the event log"
        ),
    }
}
