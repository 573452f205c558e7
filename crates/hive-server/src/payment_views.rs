//! The embedded durable store's payment read model and search index, on disk in
//! `payments.views` in its data directory ([`PaymentViewsFile`]), each with the saved
//! checkpoint of its projection: a restart puts those checkpoints back where the projections
//! look for them and replays only the events after them, instead of the whole log.
//!
//! The views are written as their projections apply events (without syncing); their
//! checkpoints are saved (synced, which makes the views' writes durable too) every
//! [`SAVE_EVERY`] while the service runs and once more at shutdown, when their projection has
//! moved. A checkpoint is read from its projection before it is saved, so the file never holds
//! less than its checkpoint says; events after it are applied again at the next start, which
//! projections skip by position.
//!
//! A file that cannot be opened (damaged, foreign), or whose checkpoints are ahead of the log
//! (another data directory's, or a log cut back), is set aside as `payments.views.unusable`
//! with a warning, and the views are rebuilt from the log. So is a view with no checkpoint (a
//! crash before its first save): it is emptied and fed the whole log. The JSON files of earlier
//! versions (`payments.read-model`, `payments.search-index`) are removed at start: the views
//! are rebuilt from the log once.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hive_billing::{BillingStoreError, PaymentReadModel, PaymentSearchIndex};
use hive_domain::{Checkpoint, CheckpointStore, EventStoreError};
use hive_store_memory::billing::disk::{DiskPaymentReadModel, DiskPaymentSearchIndex, DiskView, PaymentViewsFile};
pub use hive_store_memory::PAYMENT_VIEWS_FILE;

/// Where an unusable views file is moved (replacing an earlier one).
pub const SET_ASIDE_FILE: &str = "payments.views.unusable";
/// The files earlier versions saved the views in (JSON, whole): removed at start.
pub const LEGACY_FILES: [&str; 2] = ["payments.read-model", "payments.search-index"];
/// How often the views' checkpoints are saved while the service runs.
pub const SAVE_EVERY: Duration = Duration::from_secs(60);

/// The two views of the embedded durable store and the checkpoints saved with them.
#[derive(Debug, Clone)]
pub struct PaymentViews {
    /// The payment read model.
    pub read_model: DiskPaymentReadModel,
    /// The payment search index, when it is the one in use (`search = "memory"`).
    pub search_index: Option<DiskPaymentSearchIndex>,
    read_model_at: Option<Checkpoint>,
    search_index_at: Option<Checkpoint>,
}

impl PaymentViews {
    /// Opens the views in `dir` for a log whose head is `head`, with a page cache of
    /// `cache_bytes`; the search index only when `with_search_index` (the embedded index is the
    /// one in use). An unusable file is set aside and replaced by an empty one; a view without
    /// a checkpoint is emptied. Fails only when no file can be opened at all.
    pub async fn open(
        dir: &Path,
        head: u64,
        with_search_index: bool,
        cache_bytes: usize,
    ) -> Result<Self, EventStoreError> {
        remove_legacy_files(dir);
        let path = dir.join(PAYMENT_VIEWS_FILE);
        let views = match PaymentViewsFile::open(&path, cache_bytes).await {
            Ok(file) => match Self::of(&file, with_search_index).await {
                Ok(views) if views.fit(head) => Some(views),
                Ok(views) => {
                    tracing::warn!(
                        file = %path.display(),
                        read_model = ?views.read_model_at.as_ref().map(|at| at.position),
                        search_index = ?views.search_index_at.as_ref().map(|at| at.position),
                        head,
                        "saved payment views are ahead of the event log: rebuilding them"
                    );
                    None
                }
                Err(error) => {
                    tracing::warn!(file = %path.display(), %error, "saved payment views cannot be read: rebuilding them");
                    None
                }
            },
            Err(error) => {
                tracing::warn!(file = %path.display(), %error, "saved payment views cannot be opened: rebuilding them");
                None
            }
        };
        let views = match views {
            Some(views) => views,
            None => {
                // Every handle on the unusable file is gone by now (the views above were dropped).
                set_aside(dir)?;
                Self::of(&PaymentViewsFile::open(&path, cache_bytes).await?, with_search_index).await?
            }
        };
        views.empty_unsaved().await?;
        views.log_loaded().await;
        Ok(views)
    }

    /// The views of `file` and their saved checkpoints.
    async fn of(file: &PaymentViewsFile, with_search_index: bool) -> Result<Self, EventStoreError> {
        let read_model = file.read_model();
        let search_index = with_search_index.then(|| file.search_index());
        let read_model_at = read_model.checkpoint().await?;
        let search_index_at = match &search_index {
            Some(index) => index.checkpoint().await?,
            None => None,
        };
        Ok(Self {
            read_model,
            search_index,
            read_model_at,
            search_index_at,
        })
    }

    /// Whether no checkpoint is past the log's head.
    fn fit(&self, head: u64) -> bool {
        [&self.read_model_at, &self.search_index_at]
            .into_iter()
            .flatten()
            .all(|at| at.position <= head)
    }

    /// Empties a view that has payments but no checkpoint: it is fed the whole log again.
    async fn empty_unsaved(&self) -> Result<(), EventStoreError> {
        if self.read_model_at.is_none() && self.read_model.payment_count().await? > 0 {
            self.read_model.reset().await.map_err(store_error)?;
        }
        if let (Some(index), None) = (&self.search_index, &self.search_index_at) {
            if index.payment_count().await? > 0 {
                index.reset().await.map_err(store_error)?;
            }
        }
        Ok(())
    }

    async fn log_loaded(&self) {
        if let Some(at) = &self.read_model_at {
            let payments = self.read_model.payment_count().await.unwrap_or_default();
            tracing::info!(payments, checkpoint = at.position, "payment read model opened");
        }
        if let (Some(index), Some(at)) = (&self.search_index, &self.search_index_at) {
            let documents = index.payment_count().await.unwrap_or_default();
            tracing::info!(documents, checkpoint = at.position, "payment search index opened");
        }
    }

    /// Puts the views' saved checkpoints back where their projections look for them (the
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

/// A billing port's error as the store error it came from.
fn store_error(error: BillingStoreError) -> EventStoreError {
    match error {
        BillingStoreError::Unavailable(message) => EventStoreError::Unavailable(message),
        BillingStoreError::Corrupt { record, reason } => EventStoreError::Corrupt { record, reason },
        BillingStoreError::Backend(message) => EventStoreError::Backend(message),
    }
}

/// Removes the files earlier versions saved the views in, saying so once.
fn remove_legacy_files(dir: &Path) {
    let present: Vec<PathBuf> = LEGACY_FILES
        .iter()
        .map(|name| dir.join(name))
        .filter(|path| path.exists())
        .collect();
    if present.is_empty() {
        return;
    }
    tracing::info!(
        files = ?present,
        replaced_by = PAYMENT_VIEWS_FILE,
        "the saved payment views of an earlier version are replaced: removing them (the views are rebuilt from the log)"
    );
    for path in present {
        if let Err(error) = std::fs::remove_file(&path) {
            tracing::warn!(file = %path.display(), %error, "cannot remove an earlier version's saved view");
        }
    }
}

/// Moves an unusable views file aside, replacing an earlier one.
fn set_aside(dir: &Path) -> Result<(), EventStoreError> {
    let (from, to) = (dir.join(PAYMENT_VIEWS_FILE), dir.join(SET_ASIDE_FILE));
    match std::fs::rename(&from, &to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(EventStoreError::Unavailable(format!(
            "cannot move `{}` aside to `{}`: {e}",
            from.display(),
            to.display()
        ))),
    }
}

/// One view to save: the view, and its projection's checkpoint store and name.
#[derive(Clone)]
struct Saved {
    view: Arc<dyn DiskView>,
    checkpoints: Arc<dyn CheckpointStore>,
    projection: String,
}

/// Saves the checkpoints [`PaymentViews`]' projections have reached into the views file.
#[derive(Clone)]
pub struct ViewSaver {
    views: Vec<Saved>,
}

impl std::fmt::Debug for ViewSaver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let projections: Vec<&str> = self.views.iter().map(|v| v.projection.as_str()).collect();
        f.debug_struct("ViewSaver").field("projections", &projections).finish()
    }
}

impl ViewSaver {
    /// Saves the checkpoints of `views`: the read model's from projection `read_model.1` in
    /// `read_model.0`, and the search index's likewise when it is the one in use (`Some`).
    pub fn new(
        views: &PaymentViews,
        read_model: (Arc<dyn CheckpointStore>, String),
        search_index: Option<(Arc<dyn CheckpointStore>, String)>,
    ) -> Self {
        let mut saved = vec![Saved {
            view: Arc::new(views.read_model.clone()),
            checkpoints: read_model.0,
            projection: read_model.1,
        }];
        if let (Some(index), Some((checkpoints, projection))) = (&views.search_index, search_index) {
            saved.push(Saved {
                view: Arc::new(index.clone()),
                checkpoints,
                projection,
            });
        }
        Self { views: saved }
    }

    /// Saves each view's checkpoint now (synced to stable storage); a view whose projection has
    /// no checkpoint yet, or has not moved since its checkpoint was saved, is left as it is.
    pub async fn save(&self) -> Result<(), EventStoreError> {
        for saved in &self.views {
            let Some(at) = saved.checkpoints.load(&saved.projection).await? else {
                continue;
            };
            let on_disk = saved.view.checkpoint().await?;
            if on_disk.is_none_or(|on_disk| on_disk.position != at.position) {
                saved.view.save_checkpoint(&at).await?;
            }
        }
        Ok(())
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
                tracing::warn!(%error, "saving the payment views' checkpoints failed; retrying later");
            }
        }
    }
}
