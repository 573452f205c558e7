//! Projection checkpoints and dead letters, in memory, optionally kept in `checkpoints.json`.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use hive_domain::{Checkpoint, CheckpointStore, DeadLetter, EventStoreError, StoreResult};
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use crate::log::fs;
use crate::{DurableOptions, FsyncPolicy, CHECKPOINT_FILE};

/// A [`CheckpointStore`] in memory.
///
/// [`MemoryCheckpointStore::open`] also keeps everything in `checkpoints.json`, rewritten
/// atomically (temporary file, sync, rename) on every change: a crash leaves the old or the
/// new file, never a mix.
///
/// ```
/// use hive_domain::{Checkpoint, CheckpointStore};
/// use hive_store_memory::MemoryCheckpointStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = MemoryCheckpointStore::new();
/// store.save(Checkpoint::new("payments-view", 42, None)).await?;
/// assert_eq!(store.load("payments-view").await?.map(|c| c.position), Some(42));
/// # Ok::<(), hive_domain::EventStoreError>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Default)]
pub struct MemoryCheckpointStore {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    data: RwLock<Data>,
    file: Option<Mutex<DataFile>>,
}

/// The content of `checkpoints.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    checkpoints: BTreeMap<String, Checkpoint>,
    dead_letters: Vec<DeadLetter>,
}

struct DataFile {
    path: PathBuf,
    sync: bool,
    /// Held for its lock: one store per directory.
    _lock: File,
}

impl std::fmt::Debug for MemoryCheckpointStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCheckpointStore")
            .field("projections", &self.inner.data.read().checkpoints.len())
            .field("durable", &self.inner.file.as_ref().map(|f| f.lock().path.clone()))
            .finish()
    }
}

impl MemoryCheckpointStore {
    /// An empty store that lives only in memory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens (creating when missing) a durable store kept in `dir/checkpoints.json`.
    ///
    /// Every change is synced before it is acknowledged unless `options.fsync` is
    /// [`FsyncPolicy::Never`]. An unreadable file is [`EventStoreError::Corrupt`].
    pub async fn open(dir: impl AsRef<Path>, options: DurableOptions) -> Result<Self, EventStoreError> {
        let dir = dir.as_ref().to_path_buf();
        let sync = options.fsync != FsyncPolicy::Never;
        tokio::task::spawn_blocking(move || Self::load(&dir, sync))
            .await
            .map_err(|e| EventStoreError::Backend(format!("opening the checkpoint file failed: {e}")))?
    }

    fn load(dir: &Path, sync: bool) -> StoreResult<Self> {
        fs::ensure_dir(dir)?;
        let path = dir.join(CHECKPOINT_FILE);
        let lock = fs::open_locked_log(&dir.join("checkpoints.lock"))?;
        let data = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| EventStoreError::Corrupt {
                record: CHECKPOINT_FILE.to_owned(),
                reason: format!("bad JSON: {e}; restore it from a backup or delete it to rebuild the projections"),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Data::default(),
            Err(e) => return Err(fs::io_error("read", &path, &e)),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                data: RwLock::new(data),
                file: Some(Mutex::new(DataFile {
                    path,
                    sync,
                    _lock: lock,
                })),
            }),
        })
    }

    /// Applies `change` and answers what it answered; when durable, only once the changed data
    /// is written.
    async fn change<R: Send + 'static>(&self, change: impl FnOnce(&mut Data) -> R + Send + 'static) -> StoreResult<R> {
        if self.inner.file.is_none() {
            return Ok(change(&mut self.inner.data.write()));
        }
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let Some(file) = &inner.file else {
                return Ok(change(&mut inner.data.write()));
            };
            let file = file.lock();
            let mut next = inner.data.read().clone();
            let answer = change(&mut next);
            let bytes = serde_json::to_vec_pretty(&next)
                .map_err(|e| EventStoreError::Backend(format!("cannot encode checkpoints: {e}")))?;
            fs::write_atomically(&file.path, &bytes, file.sync)?;
            *inner.data.write() = next;
            Ok(answer)
        })
        .await
        .map_err(|e| EventStoreError::Backend(format!("saving checkpoints failed: {e}")))?
    }
}

#[async_trait]
impl CheckpointStore for MemoryCheckpointStore {
    async fn load(&self, projection: &str) -> StoreResult<Option<Checkpoint>> {
        Ok(self.inner.data.read().checkpoints.get(projection).cloned())
    }

    async fn save(&self, checkpoint: Checkpoint) -> StoreResult<()> {
        self.change(move |data| {
            data.checkpoints.insert(checkpoint.projection.clone(), checkpoint);
        })
        .await
    }

    async fn list(&self) -> StoreResult<Vec<Checkpoint>> {
        Ok(self.inner.data.read().checkpoints.values().cloned().collect())
    }

    async fn record_dead_letter(&self, dead_letter: DeadLetter) -> StoreResult<()> {
        self.change(move |data| data.dead_letters.push(dead_letter)).await
    }

    async fn dead_letters(&self, projection: &str) -> StoreResult<Vec<DeadLetter>> {
        Ok(self
            .inner
            .data
            .read()
            .dead_letters
            .iter()
            .filter(|d| d.projection == projection)
            .cloned()
            .collect())
    }

    async fn remove_dead_letters(&self, projection: &str, positions: &[u64]) -> StoreResult<u64> {
        let projection = projection.to_owned();
        let positions: HashSet<u64> = positions.iter().copied().collect();
        self.change(move |data| {
            let before = data.dead_letters.len();
            let removed = |d: &DeadLetter| {
                d.projection == projection && (positions.is_empty() || positions.contains(&d.position))
            };
            data.dead_letters.retain(|d| !removed(d));
            u64::try_from(before - data.dead_letters.len()).unwrap_or(u64::MAX)
        })
        .await
    }
}
