//! Snapshots: the latest per aggregate, in memory, optionally backed by `snapshots.log`.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use hive_domain::{EventStoreError, Snapshot, SnapshotStore, StoreResult};
use parking_lot::{Mutex, RwLock};

use crate::log::reader::{replay, Rejected};
use crate::log::writer::LogWriter;
use crate::log::{fs, record};
use crate::{DurableOptions, FsyncPolicy, SNAPSHOT_LOG_FILE};

/// Superseded records tolerated in `snapshots.log` before it is compacted on open.
const COMPACT_AFTER: u64 = 1_024;

/// A [`SnapshotStore`] keeping the latest snapshot of every aggregate in memory; a save with a
/// lower version than the stored one is ignored.
///
/// [`MemorySnapshotStore::open`] also appends every kept snapshot to `snapshots.log` (same
/// record framing as the event log) and replays it on open, the highest version winning.
///
/// ```
/// use hive_domain::{Snapshot, SnapshotStore};
/// use hive_store_memory::MemorySnapshotStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = MemorySnapshotStore::new();
/// let snapshot = |version| Snapshot {
///     aggregate_id: "payment-1".into(),
///     aggregate_type: "Payment".into(),
///     version,
///     state: serde_json::json!({"status": "paid"}),
///     timestamp: chrono::Utc::now(),
/// };
/// store.save(snapshot(7)).await?;
/// store.save(snapshot(3)).await?; // older: ignored
/// assert_eq!(store.load("payment-1").await?.map(|s| s.version), Some(7));
/// # Ok::<(), hive_domain::EventStoreError>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Default)]
pub struct MemorySnapshotStore {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    snapshots: RwLock<HashMap<String, Snapshot>>,
    log: Option<Mutex<SnapshotLog>>,
}

struct SnapshotLog {
    writer: LogWriter<File>,
    sync: bool,
    path: PathBuf,
}

impl std::fmt::Debug for MemorySnapshotStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySnapshotStore")
            .field("aggregates", &self.inner.snapshots.read().len())
            .field("durable", &self.inner.log.as_ref().map(|l| l.lock().path.clone()))
            .finish()
    }
}

fn is_newer(stored: Option<&Snapshot>, candidate: &Snapshot) -> bool {
    stored.is_none_or(|s| candidate.version >= s.version)
}

impl MemorySnapshotStore {
    /// An empty store that lives only in memory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens (creating when missing) a durable store backed by `dir/snapshots.log`.
    ///
    /// Saves are synced unless `options.fsync` is [`FsyncPolicy::Never`]. A torn tail is cut off
    /// with a warning; damage in the middle is [`EventStoreError::Corrupt`]. When most records
    /// are superseded, the file is compacted (rewritten atomically) on open.
    pub async fn open(dir: impl AsRef<Path>, options: DurableOptions) -> Result<Self, EventStoreError> {
        let dir = dir.as_ref().to_path_buf();
        let sync = options.fsync != FsyncPolicy::Never;
        tokio::task::spawn_blocking(move || Self::load(&dir, sync))
            .await
            .map_err(|e| EventStoreError::Backend(format!("opening the snapshot log failed: {e}")))?
    }

    fn load(dir: &Path, sync: bool) -> StoreResult<Self> {
        fs::ensure_dir(dir)?;
        let path = dir.join(SNAPSHOT_LOG_FILE);
        let mut file = fs::open_locked_log(&path)?;
        let mut snapshots: HashMap<String, Snapshot> = HashMap::new();
        let replayed = replay(&mut file, &path, |_, payload| {
            let snapshot: Snapshot =
                serde_json::from_slice(payload).map_err(|e| Rejected::Undecodable(format!("bad JSON: {e}")))?;
            if is_newer(snapshots.get(&snapshot.aggregate_id), &snapshot) {
                snapshots.insert(snapshot.aggregate_id.clone(), snapshot);
            }
            Ok(())
        })?;
        let mut len = replayed.len;
        if replayed.records > COMPACT_AFTER && replayed.records > 2 * snapshots.len() as u64 {
            let mut buf = Vec::new();
            for snapshot in snapshots.values() {
                record::encode_json(&mut buf, snapshot)?;
            }
            fs::write_atomically(&path, &buf, true)?;
            file = fs::open_locked_log(&path)?;
            len = buf.len() as u64;
            tracing::info!(file = %path.display(), kept = snapshots.len(), "compacted the snapshot log");
        }
        let writer = LogWriter::new(file, path.display().to_string(), len);
        Ok(Self {
            inner: Arc::new(Inner {
                snapshots: RwLock::new(snapshots),
                log: Some(Mutex::new(SnapshotLog { writer, sync, path })),
            }),
        })
    }

    /// Writes `snapshot` to the log (when durable) and keeps it, unless a newer one is stored.
    fn save_blocking(&self, snapshot: Snapshot) -> StoreResult<()> {
        let Some(log) = &self.inner.log else {
            let mut snapshots = self.inner.snapshots.write();
            if is_newer(snapshots.get(&snapshot.aggregate_id), &snapshot) {
                snapshots.insert(snapshot.aggregate_id.clone(), snapshot);
            }
            return Ok(());
        };
        let mut log = log.lock();
        if !is_newer(self.inner.snapshots.read().get(&snapshot.aggregate_id), &snapshot) {
            return Ok(());
        }
        let mut buf = Vec::new();
        record::encode_json(&mut buf, &snapshot)?;
        let sync = log.sync;
        log.writer.append(&buf, sync)?;
        self.inner
            .snapshots
            .write()
            .insert(snapshot.aggregate_id.clone(), snapshot);
        Ok(())
    }
}

#[async_trait]
impl SnapshotStore for MemorySnapshotStore {
    async fn save(&self, snapshot: Snapshot) -> StoreResult<()> {
        if self.inner.log.is_none() {
            return self.save_blocking(snapshot);
        }
        if !is_newer(self.inner.snapshots.read().get(&snapshot.aggregate_id), &snapshot) {
            return Ok(());
        }
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.save_blocking(snapshot))
            .await
            .map_err(|e| EventStoreError::Backend(format!("saving a snapshot failed: {e}")))?
    }

    async fn load(&self, aggregate_id: &str) -> StoreResult<Option<Snapshot>> {
        Ok(self.inner.snapshots.read().get(aggregate_id).cloned())
    }
}
