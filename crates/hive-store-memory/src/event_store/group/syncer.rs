//! Syncing beside the writer: the thread that syncs the group in flight while the writer
//! prepares the next one (`FsyncPolicy::Always`), and the tick of `FsyncPolicy::EveryMillis`.

use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc;

use super::WriterRequest;
use crate::log::writer::{LogSink, LogWriter};

/// The thread that syncs the group in flight while the writer prepares the next one.
pub(super) struct Syncer {
    jobs: Option<std::sync::mpsc::Sender<()>>,
    results: std::sync::mpsc::Receiver<std::io::Result<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Syncer {
    /// Starts the sync thread on a second handle of the log; `None` (the writer then syncs
    /// itself) when there is no second handle or no thread.
    pub(super) fn start<S: LogSink>(log: &LogWriter<S>, wake: mpsc::WeakSender<WriterRequest>) -> Option<Self> {
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
    pub(super) fn begin(&mut self) -> bool {
        self.jobs.as_ref().is_some_and(|jobs| jobs.send(()).is_ok())
    }

    /// The outcome of the sync asked for, if it is done.
    pub(super) fn try_result(&self) -> Option<std::io::Result<()>> {
        self.results.try_recv().ok()
    }

    /// Waits for the outcome of the sync asked for.
    pub(super) fn wait(&self) -> std::io::Result<()> {
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
