//! [`EsStore`]: one cluster connection and the adapters built on it.

use std::sync::Arc;

use crate::http::EsClient;
use crate::{ClusterInfo, EsEventStore, EsOptions, EsResult};

/// A connection to a cluster, the indices set up, and the adapters sharing it.
///
/// ```no_run
/// # async fn demo() -> Result<(), hive_store_elasticsearch::EsError> {
/// use hive_store_elasticsearch::{EsOptions, EsStore};
/// let store = EsStore::connect(EsOptions::new("http://localhost:9200")).await?;
/// let events = store.event_store();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct EsStore {
    client: EsClient,
    options: Arc<EsOptions>,
    info: Option<ClusterInfo>,
}

impl EsStore {
    /// Connects, reads which engine answers (`GET /`) and creates the index templates and
    /// indices that are missing.
    pub async fn connect(options: EsOptions) -> EsResult<Self> {
        let mut store = Self::lazy(options)?;
        store.info = Some(ClusterInfo::fetch(&store.client).await?);
        crate::setup::ensure_event_indices(&store.client, &store.options).await?;
        Ok(store)
    }

    /// A store on `options` without any request (indices must exist).
    pub fn lazy(options: EsOptions) -> EsResult<Self> {
        let client = EsClient::new(&options.url, options.timeout)?;
        Ok(Self {
            client,
            options: Arc::new(options),
            info: None,
        })
    }

    /// The engine and version found by [`connect`](Self::connect) (`None` for a
    /// [`lazy`](Self::lazy) store).
    pub fn cluster_info(&self) -> Option<&ClusterInfo> {
        self.info.as_ref()
    }

    /// The options.
    pub fn options(&self) -> &EsOptions {
        &self.options
    }

    /// The client.
    pub fn client(&self) -> &EsClient {
        &self.client
    }

    /// The event store.
    pub fn event_store(&self) -> EsEventStore {
        EsEventStore::new(self.client.clone(), self.options.clone())
    }

    /// The payment search index (feature `billing`; create it with
    /// [`EsPaymentSearchIndex::ensure_index`](crate::EsPaymentSearchIndex::ensure_index)).
    #[cfg(feature = "billing")]
    pub fn payment_search_index(&self) -> crate::EsPaymentSearchIndex {
        crate::EsPaymentSearchIndex::new(self.client.clone(), self.options.clone())
    }

    /// The payment read model on the same `payments` index as the search index (feature
    /// `billing`; create the index with
    /// [`EsPaymentReadModel::ensure_index`](crate::EsPaymentReadModel::ensure_index)).
    #[cfg(feature = "billing")]
    pub fn payment_read_model(&self) -> crate::EsPaymentReadModel {
        crate::EsPaymentReadModel::new(self.client.clone(), self.options.clone())
    }

    /// The snapshot store.
    pub fn snapshot_store(&self) -> crate::EsSnapshotStore {
        crate::EsSnapshotStore::new(self.client.clone(), self.options.clone())
    }

    /// The checkpoint (and dead-letter) store.
    pub fn checkpoint_store(&self) -> crate::EsCheckpointStore {
        crate::EsCheckpointStore::new(self.client.clone(), self.options.clone())
    }

    /// `GET _cluster/health`: the status (`green` or `yellow`), an error when red or unreachable.
    pub async fn health(&self) -> EsResult<String> {
        crate::setup::cluster_health(&self.client).await
    }

    /// Deletes every index and template of these options (test clean-up).
    pub async fn delete_indices(&self) -> EsResult<()> {
        let o = &self.options;
        crate::setup::delete_indices(
            &self.client,
            &[
                &o.events_index,
                &o.commits_index,
                &o.sequence_index,
                &o.snapshots_index,
                &o.checkpoints_index,
                &o.dead_letters_index,
                &o.payments_index,
            ],
        )
        .await
    }
}
