//! Opening from a checkpoint: read, checked against `events.log` (long enough, and the last
//! record it covers is the one it names, whole), decoded. A checkpoint that cannot be used is reported
//! with a warning saying why, and the caller replays the whole log. The covered records are
//! not read here (a start would grow with the history): the store checks them in the
//! background once open (`event_store::scrub`).

use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use super::decode;
use super::encode::Covered;
use super::format;
use crate::event_store::bodies::LogBodies;
use crate::event_store::index::State;
use crate::event_store::streams::{StreamKey, Streams};
use crate::log::fs::{read_exact_at, temp_path};
use crate::log::record::{Header, HEADER_LEN as RECORD_HEADER_LEN};
use crate::{EVENT_LOG_FILE, INDEX_CHECKPOINT_FILE};

/// A state loaded from a checkpoint, and what the checkpoint covers.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The index of the covered events.
    pub(crate) state: State,
    /// What the checkpoint covers: replay the log from `covered.log_len` on.
    pub(crate) covered: Covered,
}

/// The state of `dir`'s checkpoint, its bodies in `bodies` (a log with no event indexed yet),
/// when the checkpoint is valid and covers the start of `log` (hashing stream ids with `key`).
/// `None` otherwise, after a warning saying why (none for a new, empty log).
pub(crate) fn load(dir: &Path, log: &File, key: StreamKey, bodies: LogBodies) -> Option<Loaded> {
    let path = dir.join(INDEX_CHECKPOINT_FILE);
    // What a write cut short left (the lock on the log says no one is writing it now).
    let _ = std::fs::remove_file(temp_path(&path));
    let log_len = match log.metadata() {
        Ok(metadata) => metadata.len(),
        Err(error) => {
            tracing::warn!(file = %path.display(), %error, "cannot size the event log; replaying it whole");
            return None;
        }
    };
    match read(&path, log, log_len, key, bodies) {
        Ok(Some(loaded)) => Some(loaded),
        Ok(None) => {
            if log_len > 0 {
                tracing::warn!(file = %path.display(), "no index checkpoint; replaying the whole event log");
            }
            None
        }
        Err(reason) => {
            tracing::warn!(file = %path.display(), %reason, "index checkpoint not used; replaying the whole event log");
            None
        }
    }
}

/// The checkpoint at `path`: `Ok(None)` when there is none, `Err` saying why it cannot be used.
fn read(path: &Path, log: &File, log_len: u64, key: StreamKey, bodies: LogBodies) -> Result<Option<Loaded>, String> {
    let started = Instant::now();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("cannot read it: {error}")),
    };
    let read = started.elapsed();
    let mut content = format::open(&bytes)?;
    let meta = decode::meta(&mut content)?;
    if meta.key_fingerprint != Streams::new(key).fingerprint() {
        return Err("it was made with another stream key (events.key was replaced)".into());
    }
    check_log(&meta.covered, log, log_len)?;
    let started_decode = Instant::now();
    let state = decode::state(content, &meta.covered, key, bodies)?;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    tracing::debug!(
        file = %path.display(),
        bytes = bytes.len(),
        read_ms = ms(read),
        decode_ms = ms(started_decode.elapsed()),
        "index checkpoint loaded"
    );
    Ok(Some(Loaded {
        state,
        covered: meta.covered,
    }))
}

/// Why the log (`log_len` bytes) does not start with the records `covered` describes, if so.
fn check_log(covered: &Covered, log: &File, log_len: u64) -> Result<(), String> {
    if covered.log_len > log_len {
        return Err(format!(
            "it covers {} bytes of {EVENT_LOG_FILE}, which holds {log_len} (cut back or replaced)",
            covered.log_len
        ));
    }
    let mut header = [0; RECORD_HEADER_LEN];
    read_exact_at(log, &mut header, covered.last_record)
        .map_err(|e| format!("cannot read {EVENT_LOG_FILE}@{}: {e}", covered.last_record))?;
    if header != covered.last_header {
        return Err(format!(
            "the record at {EVENT_LOG_FILE}@{} is not the one it covers (the log was replaced)",
            covered.last_record
        ));
    }
    // The last covered record whole: a log cut inside it and written on (a torn tail padded
    // back to the covered length) keeps its header but not its payload.
    let frame = Header::parse(&header)
        .ok_or_else(|| format!("the record at {EVENT_LOG_FILE}@{} has no frame", covered.last_record))?;
    let mut payload = vec![0; frame.len as usize];
    read_exact_at(log, &mut payload, covered.last_record + RECORD_HEADER_LEN as u64)
        .map_err(|e| format!("cannot read {EVENT_LOG_FILE}@{}: {e}", covered.last_record))?;
    if !frame.checks(&payload) {
        return Err(format!(
            "the last record it covers, {EVENT_LOG_FILE}@{}, is damaged (a torn tail)",
            covered.last_record
        ));
    }
    Ok(())
}
