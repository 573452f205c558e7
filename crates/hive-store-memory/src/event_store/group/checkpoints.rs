//! The writer's part in index checkpoints: deciding when, and encoding the state under its read
//! lock for the checkpoint thread (which syncs the log before it writes the checkpoint).

use std::time::Instant;

use super::GroupWriter;
use crate::event_store::index_checkpoint::encode;
use crate::log::writer::LogSink;

impl<S: LogSink> GroupWriter<S> {
    /// Takes a checkpoint when one is due.
    pub(super) fn checkpoint_if_due(&mut self) {
        let Some(checkpoints) = &mut self.checkpoints else {
            return;
        };
        if checkpoints.due(self.state.read().head()) {
            self.checkpoint();
        }
    }

    /// Takes a checkpoint of the events the newest one does not cover, if any, then waits
    /// until it is written and stops the checkpoint thread.
    pub(super) fn checkpoint_and_stop(&mut self) {
        let Some(checkpoints) = &self.checkpoints else {
            return;
        };
        if checkpoints.behind(self.state.read().head()) {
            self.checkpoint();
        }
        if let Some(checkpoints) = &mut self.checkpoints {
            checkpoints.finish();
        }
    }

    /// Encodes the state and hands the checkpoint to the checkpoint thread.
    ///
    /// The state holds only groups written to the log, and never loses one while the store
    /// lives (a group whose sync fails is never applied); the checkpoint thread syncs the log
    /// before it writes the checkpoint, so a checkpoint never covers bytes a power loss could
    /// take from the log, whatever the fsync policy. Encoding holds the read lock: readers go
    /// on, but the writer (this thread) applies nothing meanwhile.
    fn checkpoint(&mut self) {
        let Some(checkpoints) = &mut self.checkpoints else {
            return;
        };
        if self.log.broken().is_some() {
            return;
        }
        let started = Instant::now();
        let encoded = encode(&self.state.read());
        let held = started.elapsed();
        match encoded {
            Ok((file, covered)) => checkpoints.submit(file, covered, held),
            Err(reason) => tracing::warn!(%reason, "cannot take an index checkpoint"),
        }
    }
}
