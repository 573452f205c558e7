//! The check of the records an index checkpoint covers, made in the background once the store
//! is open: opening from a checkpoint does not read the covered part of `events.log`, so that
//! a start costs the same whatever the history's size; this thread reads it once, frame by
//! frame, as a full replay would have.
//!
//! Damage found there (a record whose checksum no longer matches: the disk, or a hand on the
//! file) is reported as a full replay would report it: an error is logged naming
//! `events.log@<offset>`, the index checkpoint is removed (so the next open replays the whole
//! log and refuses it), and from then on the store's health check and appends answer
//! [`EventStoreError::Corrupt`].

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use hive_domain::EventStoreError;
use parking_lot::Mutex;

use crate::log::reader::verify_frames;
use crate::{EVENT_LOG_FILE, INDEX_CHECKPOINT_FILE};

/// What the check found wrong, shared with the store (`None` while intact or unchecked).
pub(crate) type Damage = Arc<Mutex<Option<EventStoreError>>>;

/// Checks the first `covered` bytes of the log read through `log` on a thread of its own,
/// recording what is damaged in `damage`. `dir` is the store's directory.
pub(crate) fn spawn(log: File, covered: u64, dir: &Path, damage: Damage) {
    let owned = dir.to_path_buf();
    let spawned = std::thread::Builder::new()
        .name("hive-event-log-verify".into())
        .spawn(move || check(&log, covered, &owned, &damage));
    if let Err(error) = spawned {
        tracing::warn!(dir = %dir.display(), %error, "cannot start the event log check");
    }
}

/// Reads `covered` bytes of `log`, frame by frame; records and reports damage.
fn check(log: &File, covered: u64, dir: &Path, damage: &Damage) {
    let started = Instant::now();
    let found = match verify_frames(log, covered) {
        Ok(Ok(())) => {
            tracing::debug!(
                dir = %dir.display(),
                bytes = covered,
                elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                "event log records covered by the index checkpoint verified"
            );
            return;
        }
        Ok(Err((offset, reason))) => EventStoreError::Corrupt {
            record: format!("{EVENT_LOG_FILE}@{offset}"),
            reason: format!("{reason} (a record the index checkpoint covers)"),
        },
        Err(error) => {
            // Not damage: the file could not be read now. The next open checks again.
            tracing::warn!(dir = %dir.display(), %error, "cannot read the event log to check it");
            return;
        }
    };
    tracing::error!(
        dir = %dir.display(),
        error = %found,
        "event log damaged; appends are refused, and the next open replays the whole log and reports it"
    );
    let checkpoint = dir.join(INDEX_CHECKPOINT_FILE);
    if let Err(error) = std::fs::remove_file(&checkpoint) {
        tracing::warn!(file = %checkpoint.display(), %error, "cannot remove the index checkpoint");
    }
    *damage.lock() = Some(found);
}
