//! [`CapturedLog`]: an in-memory writer for what a test's tracing subscriber (or any
//! `io::Write` user) prints.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// A shared byte buffer to write a log into; clones write to the same buffer. As a tracing
/// writer: `.with_writer(move || log.clone())`.
#[derive(Debug, Clone, Default)]
pub struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl CapturedLog {
    /// Everything written so far, as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }

    fn bytes(&self) -> MutexGuard<'_, Vec<u8>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.bytes().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
