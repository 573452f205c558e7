//! A keyed collection saved to one file with the projection checkpoint it reflects, and loaded
//! back: the embedded read model and search index survive a restart without replaying the log.
//!
//! The file is one record of the crate's framing (magic, length, CRC-32, JSON payload), written
//! atomically (temporary file, sync, rename, sync of the directory).

use std::path::Path;
use std::sync::Arc;

use hive_domain::{Checkpoint, EventStoreError};
use parking_lot::RwLock;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::keyed::{Keyed, Versioned};
use crate::log::{fs, record};

/// The version of the saved layout; another version is not read (the view is rebuilt).
const FORMAT: u32 = 1;

/// What is written: the layout version, the checkpoint and every entry.
#[derive(Serialize)]
struct SavedRef<'a, V> {
    format: u32,
    checkpoint: &'a Checkpoint,
    entries: Vec<&'a V>,
}

/// What is read back.
#[derive(Deserialize)]
struct Saved<V> {
    format: u32,
    checkpoint: Checkpoint,
    entries: Vec<V>,
}

fn corrupt(path: &Path, reason: impl Into<String>) -> EventStoreError {
    EventStoreError::Corrupt {
        record: path.display().to_string(),
        reason: reason.into(),
    }
}

impl<V: Versioned + Serialize> Keyed<V> {
    /// Writes every entry and `checkpoint` to `path`, atomically; synced when `sync`.
    pub(super) fn save(&self, path: &Path, checkpoint: &Checkpoint, sync: bool) -> Result<(), EventStoreError> {
        let saved = SavedRef {
            format: FORMAT,
            checkpoint,
            entries: self.values().collect(),
        };
        let mut bytes = Vec::new();
        record::encode_json(&mut bytes, &saved)?;
        fs::write_atomically(path, &bytes, sync)
    }
}

impl<V: Versioned + DeserializeOwned> Keyed<V> {
    /// The entries and checkpoint saved at `path`; `None` when there is no such file. A file
    /// that is cut short, damaged or of another layout is [`EventStoreError::Corrupt`].
    pub(super) fn load(path: &Path) -> Result<Option<(Self, Checkpoint)>, EventStoreError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(EventStoreError::Unavailable(format!(
                    "cannot read {}: {e}",
                    path.display()
                )))
            }
        };
        match record::valid_frame_at(&bytes) {
            Some(end) if end == bytes.len() => {}
            _ => return Err(corrupt(path, "not one whole record with a valid checksum")),
        }
        let saved: Saved<V> = serde_json::from_slice(&bytes[record::HEADER_LEN..])
            .map_err(|e| corrupt(path, format!("undecodable: {e}")))?;
        if saved.format != FORMAT {
            return Err(corrupt(
                path,
                format!("layout {} (this build reads {FORMAT})", saved.format),
            ));
        }
        let mut keyed = Keyed::default();
        for entry in saved.entries {
            keyed.upsert(entry);
        }
        Ok(Some((keyed, saved.checkpoint)))
    }
}

/// A keyed collection as the adapters hold it.
pub(super) type Shared<V> = Arc<RwLock<Keyed<V>>>;

/// [`Keyed::load`], shared as the adapters hold their state.
pub(super) fn load_shared<V: Versioned + DeserializeOwned>(
    path: &Path,
) -> Result<Option<(Shared<V>, Checkpoint)>, EventStoreError> {
    Ok(Keyed::load(path)?.map(|(keyed, checkpoint)| (Arc::new(RwLock::new(keyed)), checkpoint)))
}
