//! The payment search index a configuration names, and where its projection's checkpoint lives.

use std::sync::Arc;

use hive_application::{ApplicationError, CatchUp, ProjectionRunner};
use hive_billing::PaymentSearchIndex;
use hive_domain::CheckpointStore;
use hive_store_elasticsearch::EsStore;
use hive_store_memory::billing::MemoryPaymentSearchIndex;
use hive_store_memory::MemoryCheckpointStore;

use crate::config::{Config, SearchKind, StoreKind};
use crate::payment_views::PaymentViews;

/// The search index and its projection's checkpoints.
pub struct SearchIndex {
    /// The index the search projection writes and the search queries read.
    pub index: Arc<dyn PaymentSearchIndex>,
    /// Where the search projection's checkpoint is kept.
    pub checkpoints: Arc<dyn CheckpointStore>,
    /// Whether the index outlives the process (Elasticsearch): its checkpoint is then kept
    /// beside it, and several instances on one shared log share it (fed by the lease holder).
    pub persistent: bool,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("persistent", &self.persistent)
            .finish_non_exhaustive()
    }
}

/// `search = "memory"`: the embedded index, its projection's checkpoint in memory. With the
/// embedded durable store the index is on disk in the data directory, its checkpoint saved
/// beside it and put back at start (`views`, see [`crate::payment_views`]); otherwise it is in
/// memory, rebuilt from the log.
/// `search = "elasticsearch"`: the index in Elasticsearch, its checkpoint in the adapter's
/// checkpoint index, so a restart resumes where the projection stopped.
pub fn open(config: &Config, elasticsearch: Option<&EsStore>, views: Option<&PaymentViews>) -> SearchIndex {
    match (config.search, elasticsearch) {
        (SearchKind::Elasticsearch, Some(store)) => SearchIndex {
            index: Arc::new(store.payment_search_index()),
            checkpoints: Arc::new(store.checkpoint_store()),
            persistent: true,
        },
        _ => SearchIndex {
            index: match views.and_then(|views| views.search_index.clone()) {
                Some(on_disk) => Arc::new(on_disk),
                None => Arc::new(MemoryPaymentSearchIndex::new()),
            },
            checkpoints: Arc::new(MemoryCheckpointStore::new()),
            persistent: false,
        },
    }
}

/// Brings the search projection up to date at start. A persistent index is rebuilt (emptied,
/// then fed the whole log) when it cannot match the log: with `store = "memory"` (the log
/// starts empty at every run) or when its checkpoint is past the log's head (the log was
/// replaced, e.g. a new data directory); otherwise it resumes from its checkpoint.
pub async fn catch_up_at_start(
    config: &Config,
    search: &SearchIndex,
    runner: &ProjectionRunner,
) -> Result<CatchUp, ApplicationError> {
    if !search.persistent {
        return runner.catch_up().await;
    }
    let status = runner.status().await?;
    if config.store == StoreKind::Memory || status.position > status.head {
        tracing::warn!(
            projection = runner.name(),
            checkpoint = status.position,
            head = status.head,
            "the search index does not match this event log: rebuilding it"
        );
        return runner.rebuild().await;
    }
    runner.catch_up().await
}
