//! The embedded durable store's payment read model and search index, saved in its data
//! directory with the checkpoints of their projections: a restart loads them and replays only
//! the events after those checkpoints, instead of the whole log.
//!
//! Each is saved (atomically: temporary file, sync, rename) every [`SAVE_EVERY`] while the
//! service runs and once more at shutdown, unless its projection has not moved since its file
//! was written. A view's checkpoint is read before the view is
//! written, so the file never holds less than its checkpoint says; events after it are applied
//! again at the next start, which projections skip by position. A file that cannot be read,
//! or that is ahead of the log (another data directory's, or a log cut back), is set aside
//! with a warning and the view is rebuilt from the log.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hive_domain::{Checkpoint, CheckpointStore, EventStoreError};
use hive_store_memory::billing::{MemoryPaymentReadModel, MemoryPaymentSearchIndex};

/// The read model's file in the data directory.
pub const READ_MODEL_FILE: &str = "payments.read-model";
/// The search index's file in the data directory.
pub const SEARCH_INDEX_FILE: &str = "payments.search-index";
/// How often the views are saved while the service runs.
pub const SAVE_EVERY: Duration = Duration::from_secs(60);

/// The two views of the embedded durable store and what their files held at start.
#[derive(Debug, Clone)]
pub struct SavedViews {
    dir: PathBuf,
    /// The payment read model (loaded from its file, or empty).
    pub read_model: MemoryPaymentReadModel,
    /// The payment search index (loaded from its file, or empty).
    pub search_index: MemoryPaymentSearchIndex,
    read_model_at: Option<Checkpoint>,
    search_index_at: Option<Checkpoint>,
}

/// One loaded view: `None` when its file is missing, unreadable or ahead of the log.
fn usable<V>(
    loaded: Result<Option<(V, Checkpoint)>, EventStoreError>,
    path: &Path,
    head: u64,
) -> Option<(V, Checkpoint)> {
    match loaded {
        Ok(Some((view, checkpoint))) if checkpoint.position <= head => Some((view, checkpoint)),
        Ok(Some((_, checkpoint))) => {
            tracing::warn!(
                file = %path.display(),
                checkpoint = checkpoint.position,
                head,
                "saved view is ahead of the event log: rebuilding it"
            );
            None
        }
        Ok(None) => None,
        Err(error) => {
            tracing::warn!(file = %path.display(), %error, "saved view cannot be read: rebuilding it");
            None
        }
    }
}

impl SavedViews {
    /// Loads the views saved in `dir` for a log whose head is `head`; the search index only
    /// when `with_search_index` (the in-memory index is the one in use).
    pub fn load(dir: &Path, head: u64, with_search_index: bool) -> Self {
        let read_model_path = dir.join(READ_MODEL_FILE);
        let search_index_path = dir.join(SEARCH_INDEX_FILE);
        let read_model = usable(
            MemoryPaymentReadModel::load_from(&read_model_path),
            &read_model_path,
            head,
        );
        let search_index = with_search_index
            .then(|| {
                usable(
                    MemoryPaymentSearchIndex::load_from(&search_index_path),
                    &search_index_path,
                    head,
                )
            })
            .flatten();
        let (read_model, read_model_at) =
            read_model.map_or_else(|| (MemoryPaymentReadModel::new(), None), |(v, c)| (v, Some(c)));
        let (search_index, search_index_at) =
            search_index.map_or_else(|| (MemoryPaymentSearchIndex::new(), None), |(v, c)| (v, Some(c)));
        if let Some(at) = &read_model_at {
            tracing::info!(
                payments = read_model.len(),
                checkpoint = at.position,
                "payment read model loaded"
            );
        }
        if let Some(at) = &search_index_at {
            tracing::info!(
                documents = search_index.len(),
                checkpoint = at.position,
                "payment search index loaded"
            );
        }
        Self {
            dir: dir.to_path_buf(),
            read_model,
            search_index,
            read_model_at,
            search_index_at,
        }
    }

    /// Puts the loaded views' checkpoints back where their projections look for them (the
    /// search index's only when it is the one in use), before the projections catch up.
    pub async fn restore(
        &self,
        read_model: &dyn CheckpointStore,
        search_index: Option<&dyn CheckpointStore>,
    ) -> Result<(), EventStoreError> {
        if let Some(at) = &self.read_model_at {
            read_model.save(at.clone()).await?;
        }
        if let (Some(at), Some(store)) = (&self.search_index_at, search_index) {
            store.save(at.clone()).await?;
        }
        Ok(())
    }
}

/// Saves [`SavedViews`] with the checkpoints their projections have reached.
#[derive(Clone)]
pub struct ViewSaver {
    views: SavedViews,
    read_model: (Arc<dyn CheckpointStore>, String),
    search_index: Option<(Arc<dyn CheckpointStore>, String)>,
    /// The checkpoint positions of the files on disk (read model, search index): a view whose
    /// projection has not moved since is not written again.
    on_disk: Arc<Mutex<[Option<u64>; 2]>>,
}

impl std::fmt::Debug for ViewSaver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewSaver")
            .field("dir", &self.views.dir)
            .finish_non_exhaustive()
    }
}

impl ViewSaver {
    /// Saves `views`: the read model with the checkpoint of projection `read_model.1` in
    /// `read_model.0`, and the search index likewise when it is the one in use (`Some`).
    pub fn new(
        views: SavedViews,
        read_model: (Arc<dyn CheckpointStore>, String),
        search_index: Option<(Arc<dyn CheckpointStore>, String)>,
    ) -> Self {
        let on_disk = [
            views.read_model_at.as_ref().map(|at| at.position),
            views.search_index_at.as_ref().map(|at| at.position),
        ];
        Self {
            views,
            read_model,
            search_index,
            on_disk: Arc::new(Mutex::new(on_disk)),
        }
    }

    /// Saves both views now (synced to stable storage); a view whose projection has no
    /// checkpoint yet, or has not moved since its file was written, is not written.
    pub async fn save(&self) -> Result<(), EventStoreError> {
        let on_disk = *self.on_disk.lock().unwrap_or_else(PoisonError::into_inner);
        let moved = |at: Option<Checkpoint>, written: Option<u64>| at.filter(|at| Some(at.position) != written);
        let read_model_at = moved(self.read_model.0.load(&self.read_model.1).await?, on_disk[0]);
        let search_index_at = match &self.search_index {
            Some((store, name)) => moved(store.load(name).await?, on_disk[1]),
            None => None,
        };
        let views = self.views.clone();
        let written = Arc::clone(&self.on_disk);
        tokio::task::spawn_blocking(move || {
            let record = |slot: usize, at: &Checkpoint| {
                written.lock().unwrap_or_else(PoisonError::into_inner)[slot] = Some(at.position);
            };
            if let Some(at) = read_model_at {
                views.read_model.save_to(&views.dir.join(READ_MODEL_FILE), &at, true)?;
                record(0, &at);
            }
            if let Some(at) = search_index_at {
                views
                    .search_index
                    .save_to(&views.dir.join(SEARCH_INDEX_FILE), &at, true)?;
                record(1, &at);
            }
            Ok(())
        })
        .await
        .map_err(|e| EventStoreError::Backend(format!("saving the views failed: {e}")))?
    }

    /// Saves every [`SAVE_EVERY`] until `stop` turns true (the final save is the caller's, after
    /// the projections have stopped).
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                () = tokio::time::sleep(SAVE_EVERY) => {}
            }
            if let Err(error) = self.save().await {
                tracing::warn!(%error, "saving the payment views failed; retrying later");
            }
        }
    }
}
