//! Appending groups of records: one write, an optional sync, and a roll-back to the length
//! before the group when anything fails.

use std::fs::File;
use std::io::Write;

use hive_domain::EventStoreError;

/// Where a [`LogWriter`] writes: a file, or a fake in tests.
pub(crate) trait LogSink: Send + 'static {
    /// Writes all of `bytes` at the end.
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    /// Forces written data to stable storage.
    fn sync_data(&mut self) -> std::io::Result<()>;
    /// Cuts the sink back to `len` bytes.
    fn truncate(&mut self, len: u64) -> std::io::Result<()>;
    /// A second handle on the same sink (to sync it from another thread).
    fn try_clone(&self) -> std::io::Result<Self>
    where
        Self: Sized;
}

impl LogSink for File {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        Write::write_all(self, bytes)
    }

    fn sync_data(&mut self) -> std::io::Result<()> {
        File::sync_data(self)
    }

    fn truncate(&mut self, len: u64) -> std::io::Result<()> {
        self.set_len(len)?;
        File::sync_data(self)
    }

    fn try_clone(&self) -> std::io::Result<Self> {
        File::try_clone(self)
    }
}

/// Appends encoded record groups to a sink, keeping its length and sync state.
pub(crate) struct LogWriter<S: LogSink = File> {
    sink: S,
    name: String,
    len: u64,
    unsynced: bool,
    broken: Option<String>,
}

impl<S: LogSink> LogWriter<S> {
    /// A writer appending to `sink`, which is `len` bytes long; `name` is used in errors.
    pub(crate) fn new(sink: S, name: impl Into<String>, len: u64) -> Self {
        Self {
            sink,
            name: name.into(),
            len,
            unsynced: false,
            broken: None,
        }
    }

    /// Appends `bytes` (whole records) with one write, then syncs when `sync` is true.
    ///
    /// On failure the sink is cut back to its length before the call and the error is
    /// [`EventStoreError::Unavailable`]: nothing of the group is in the log. When even the
    /// roll-back fails, the writer is broken and refuses every later group with
    /// [`EventStoreError::Backend`] (reopening the store replays what really is on disk).
    pub(crate) fn append(&mut self, bytes: &[u8], sync: bool) -> Result<(), EventStoreError> {
        let before = self.write(bytes)?;
        if sync {
            let synced = self.sink.sync_data();
            self.synced(before, synced)?;
        }
        Ok(())
    }

    /// Appends `bytes` (whole records) with one write and no sync; returns the length before
    /// them, to hand to [`LogWriter::synced`] once they are synced (possibly by another
    /// handle). A failed write is rolled back as in [`LogWriter::append`].
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<u64, EventStoreError> {
        if let Some(why) = &self.broken {
            return Err(EventStoreError::Backend(why.clone()));
        }
        let before = self.len;
        match self.sink.write_all(bytes) {
            Ok(()) => {
                self.len += bytes.len() as u64;
                self.unsynced = true;
                Ok(before)
            }
            Err(error) => Err(self.roll_back(before, &error)),
        }
    }

    /// Records the outcome of syncing everything written so far, the last write having
    /// started at length `before`: on success nothing is left unsynced; on failure the sink
    /// is cut back to `before` as in [`LogWriter::append`].
    pub(crate) fn synced(&mut self, before: u64, result: std::io::Result<()>) -> Result<(), EventStoreError> {
        match result {
            Ok(()) => {
                self.unsynced = false;
                Ok(())
            }
            Err(error) => Err(self.roll_back(before, &error)),
        }
    }

    /// Syncs the sink now (report the outcome with [`LogWriter::synced`]).
    pub(crate) fn sync_data(&mut self) -> std::io::Result<()> {
        self.sink.sync_data()
    }

    /// A second handle on the sink, to sync it from another thread.
    pub(crate) fn sync_handle(&self) -> std::io::Result<S> {
        self.sink.try_clone()
    }

    /// Cuts the sink back to `before` after `error`; the error to report.
    fn roll_back(&mut self, before: u64, error: &std::io::Error) -> EventStoreError {
        if let Err(rollback) = self.sink.truncate(before) {
            let why = format!(
                "writing `{}` failed ({error}) and rolling it back failed too ({rollback}); \
                 reopen the store to recover",
                self.name
            );
            tracing::error!(file = %self.name, %error, %rollback, "event log writer broken");
            self.broken = Some(why.clone());
            return EventStoreError::Backend(why);
        }
        self.len = before;
        self.unsynced = false;
        tracing::warn!(file = %self.name, %error, "append to the log failed; nothing was written");
        EventStoreError::Unavailable(format!("writing `{}` failed: {error}; nothing was written", self.name))
    }

    /// Syncs data written without a sync, if any.
    pub(crate) fn sync(&mut self) -> Result<(), EventStoreError> {
        if !self.unsynced || self.broken.is_some() {
            return Ok(());
        }
        self.sink
            .sync_data()
            .map_err(|e| EventStoreError::Unavailable(format!("syncing `{}` failed: {e}", self.name)))?;
        self.unsynced = false;
        Ok(())
    }

    /// Makes the writer refuse every later group with [`EventStoreError::Backend`] saying `why`.
    pub(crate) fn refuse(&mut self, why: String) {
        self.broken = Some(why);
    }

    /// Why the writer refuses to write, if it does.
    pub(crate) fn broken(&self) -> Option<&str> {
        self.broken.as_deref()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// An in-memory sink whose next operations can be made to fail.
    #[derive(Clone, Default)]
    pub(crate) struct FlakySink {
        pub(crate) bytes: Arc<Mutex<Vec<u8>>>,
        pub(crate) fail_write: Arc<Mutex<bool>>,
        pub(crate) fail_sync: Arc<Mutex<bool>>,
        pub(crate) fail_truncate: Arc<Mutex<bool>>,
    }

    fn fail(flag: &Mutex<bool>) -> std::io::Result<()> {
        if *flag.lock().unwrap() {
            Err(std::io::Error::other("injected failure"))
        } else {
            Ok(())
        }
    }

    impl LogSink for FlakySink {
        fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
            // A failing write still writes half, like a full disk would.
            self.bytes.lock().unwrap().extend_from_slice(&bytes[..bytes.len() / 2]);
            fail(&self.fail_write)?;
            self.bytes.lock().unwrap().extend_from_slice(&bytes[bytes.len() / 2..]);
            Ok(())
        }

        fn sync_data(&mut self) -> std::io::Result<()> {
            fail(&self.fail_sync)
        }

        fn truncate(&mut self, len: u64) -> std::io::Result<()> {
            fail(&self.fail_truncate)?;
            self.bytes.lock().unwrap().truncate(len as usize);
            Ok(())
        }

        fn try_clone(&self) -> std::io::Result<Self> {
            Ok(self.clone())
        }
    }

    #[test]
    fn a_failed_write_is_rolled_back() {
        let sink = FlakySink::default();
        let mut writer = LogWriter::new(sink.clone(), "t.log", 0);
        writer.append(b"good", true).unwrap();
        *sink.fail_write.lock().unwrap() = true;
        assert!(matches!(
            writer.append(b"lost", true),
            Err(EventStoreError::Unavailable(_))
        ));
        assert_eq!(&*sink.bytes.lock().unwrap(), b"good");
        *sink.fail_write.lock().unwrap() = false;
        *sink.fail_sync.lock().unwrap() = true;
        assert!(writer.append(b"unsynced", true).is_err());
        assert_eq!(&*sink.bytes.lock().unwrap(), b"good");
        *sink.fail_sync.lock().unwrap() = false;
        writer.append(b"more", false).unwrap();
        writer.sync().unwrap();
        assert_eq!(&*sink.bytes.lock().unwrap(), b"goodmore");
    }

    #[test]
    fn a_failed_roll_back_breaks_the_writer() {
        let sink = FlakySink::default();
        let mut writer = LogWriter::new(sink.clone(), "t.log", 0);
        *sink.fail_write.lock().unwrap() = true;
        *sink.fail_truncate.lock().unwrap() = true;
        assert!(matches!(writer.append(b"xx", true), Err(EventStoreError::Backend(_))));
        *sink.fail_write.lock().unwrap() = false;
        assert!(matches!(writer.append(b"yy", true), Err(EventStoreError::Backend(_))));
        assert!(writer.broken().is_some());
    }
}
