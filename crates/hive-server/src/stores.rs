//! The stores a configuration names: the embedded ones, MongoDB, Elasticsearch or PostgreSQL.

use std::sync::Arc;

use hive_application::{ApplicationError, CatchUp, Projection, ProjectionRunner};
use hive_billing::PaymentReadModel;
use hive_domain::{CheckpointStore, SnapshotStore, StoreCapabilities};
use hive_store_elasticsearch::EsStore;
use hive_store_memory::billing::MemoryPaymentReadModel;
use hive_store_memory::{DurableOptions, FsyncPolicy, MemoryCheckpointStore, MemoryEventStore, MemorySnapshotStore};
use hive_store_mongodb::{MongoOptions, MongoStore};

use crate::app::StartError;
use crate::config::{Config, FsyncSetting, SearchKind, StoreKind};
use crate::payment_views::PaymentViews;

/// The folder of the data directory where the embedded durable store keeps the subscription
/// groups' checkpoints.
pub const SUBSCRIPTIONS_DIR: &str = "subscriptions";

/// Where events, snapshots, the read model and its checkpoint live.
pub struct Stores {
    /// The event store: its core port and the optional capabilities it has.
    pub event_store: StoreCapabilities,
    /// The snapshot store.
    pub snapshots: Arc<dyn SnapshotStore>,
    /// The payment read model.
    pub read_model: Arc<dyn PaymentReadModel>,
    /// The read model's projection checkpoints: kept where the read model is (in memory with
    /// the embedded stores: from 0 with `store = "memory"`, from the checkpoint saved in the
    /// views file with the durable one; in MongoDB beside it with MongoDB; in the
    /// Elasticsearch checkpoint index with Elasticsearch).
    pub read_model_checkpoints: Arc<dyn CheckpointStore>,
    /// The embedded log, to close at shutdown.
    pub memory_log: Option<MemoryEventStore>,
    /// The read model and search index on disk in the data directory (the embedded durable
    /// store only).
    pub payment_views: Option<PaymentViews>,
    /// The Elasticsearch connection, when `store` or `search` is `elasticsearch`.
    pub elasticsearch: Option<EsStore>,
    /// The PostgreSQL connection, when `store` is `postgres`.
    pub postgres: Option<crate::postgres::Connection>,
    /// Whether the payment read model is one every instance on this store shares (in MongoDB,
    /// Elasticsearch or PostgreSQL), rather than this process's own.
    pub read_model_shared: bool,
    /// Where the subscription groups' checkpoints are kept when not with the read model's:
    /// `<data dir>/subscriptions/checkpoints.json` on the embedded durable store (whose read
    /// model checkpoints live in memory and in the views file).
    pub subscription_checkpoints: Option<Arc<dyn CheckpointStore>>,
    /// The store's own payment read-model projection, run in place of billing's (same name,
    /// version and folding): PostgreSQL's commits each page of records with its checkpoint.
    pub read_model_projection: Option<Arc<dyn Projection>>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores").finish_non_exhaustive()
    }
}

fn store_error(what: &'static str) -> impl Fn(hive_domain::EventStoreError) -> StartError {
    move |source| StartError::Store { what, source }
}

/// Opens the stores of `config.store` (and the Elasticsearch connection when `search` needs it).
pub async fn open(config: &Config) -> Result<Stores, StartError> {
    let elasticsearch = crate::elasticsearch::connect(config).await?;
    let (events, snapshots, payment_views, subscription_checkpoints) = match config.store {
        StoreKind::Memory => (MemoryEventStore::new(), MemorySnapshotStore::new(), None, None),
        StoreKind::MemoryDurable => {
            let options = DurableOptions::default()
                .with_fsync(fsync_policy(config.fsync))
                .with_body_cache_bytes(config.body_cache_bytes);
            let events = MemoryEventStore::open(&config.data_dir, options.clone())
                .await
                .map_err(store_error("event log"))?;
            let snapshots = MemorySnapshotStore::open(&config.data_dir, options.clone())
                .await
                .map_err(store_error("snapshot log"))?;
            let groups = MemoryCheckpointStore::open(config.data_dir.join(SUBSCRIPTIONS_DIR), options)
                .await
                .map_err(store_error("subscription checkpoints"))?;
            let head = hive_domain::EventStore::head_position(&events)
                .await
                .map_err(store_error("event log"))?;
            let with_search_index = config.search == SearchKind::Memory;
            let cache_bytes = usize::try_from(config.views_cache_bytes).unwrap_or(usize::MAX);
            let views = PaymentViews::open(&config.data_dir, head, with_search_index, cache_bytes)
                .await
                .map_err(store_error("payment views"))?;
            let groups: Arc<dyn CheckpointStore> = Arc::new(groups);
            (events, snapshots, Some(views), Some(groups))
        }
        StoreKind::Mongodb => return open_mongodb(config, elasticsearch).await,
        StoreKind::Postgres => return open_postgres(config, elasticsearch).await,
        StoreKind::Elasticsearch => {
            let store = elasticsearch.ok_or_else(|| {
                StartError::Config(crate::config::ConfigError::new(
                    "elasticsearch.url",
                    None,
                    "required with store = \"elasticsearch\"",
                ))
            })?;
            return Ok(on_elasticsearch(store));
        }
    };
    Ok(Stores {
        event_store: events.capabilities(),
        snapshots: Arc::new(snapshots),
        read_model: match &payment_views {
            Some(views) => Arc::new(views.read_model.clone()),
            None => Arc::new(MemoryPaymentReadModel::new()),
        },
        read_model_checkpoints: Arc::new(MemoryCheckpointStore::new()),
        memory_log: Some(events),
        payment_views,
        elasticsearch,
        postgres: None,
        read_model_projection: None,
        read_model_shared: false,
        subscription_checkpoints,
    })
}

/// Events, snapshots, analytics and the payment read model in Elasticsearch: the read model
/// in the `payments` index (the one the search index uses with `search = "elasticsearch"`,
/// created by [`crate::elasticsearch::connect`]), its checkpoint in the checkpoint index, so a
/// restart resumes where the projection stopped (see [`catch_up_read_model_at_start`]).
fn on_elasticsearch(store: EsStore) -> Stores {
    let events = store.event_store();
    Stores {
        event_store: events.capabilities(),
        snapshots: Arc::new(store.snapshot_store()),
        read_model: Arc::new(store.payment_read_model()),
        read_model_checkpoints: Arc::new(store.checkpoint_store()),
        memory_log: None,
        payment_views: None,
        elasticsearch: Some(store),
        postgres: None,
        read_model_projection: None,
        read_model_shared: true,
        subscription_checkpoints: None,
    }
}

/// Brings the read-model projection up to date at start. A read model that outlives the
/// process (`store = "elasticsearch"`) resumes from its checkpoint, but is rebuilt (emptied,
/// then fed the whole log) when it has no checkpoint yet — the first start with the read model
/// in Elasticsearch: documents the search projection wrote before lack the read model's
/// fields (`statisticsAt`, `amountMinorUnits`…), and their positions would make the
/// projection skip them — or when its checkpoint is past the log's head (the log was
/// replaced). The others catch up (from 0 when in memory; from their checkpoint in MongoDB).
pub async fn catch_up_read_model_at_start(
    config: &Config,
    checkpoints: &dyn CheckpointStore,
    runner: &ProjectionRunner,
) -> Result<CatchUp, ApplicationError> {
    if config.store != StoreKind::Elasticsearch {
        return runner.catch_up().await;
    }
    let never_ran = checkpoints.load(runner.name()).await?.is_none();
    let status = runner.status().await?;
    if never_ran || status.position > status.head {
        tracing::warn!(
            projection = runner.name(),
            checkpoint = status.position,
            head = status.head,
            never_ran,
            "the payment read model in Elasticsearch does not match this event log: rebuilding it"
        );
        return runner.rebuild().await;
    }
    runner.catch_up().await
}

/// Events, snapshots, checkpoints and the payment read model in MongoDB.
async fn open_mongodb(config: &Config, elasticsearch: Option<EsStore>) -> Result<Stores, StartError> {
    let uri = config
        .mongodb_uri
        .as_deref()
        .ok_or_else(|| StartError::Io("`mongodb.uri` is not set".into()))?;
    let options = MongoOptions::default().with_database(config.mongodb_database.clone());
    let store = MongoStore::connect(uri, options)
        .await
        .map_err(store_error("MongoDB"))?;
    if !store.uses_transactions() {
        tracing::warn!("MongoDB is a standalone server: appends use the lease fallback; prefer a replica set");
    }
    let read_model = store
        .payment_read_model()
        .await
        .map_err(store_error("MongoDB payment read model"))?;
    let events = store.event_store();
    Ok(Stores {
        event_store: events.capabilities(),
        snapshots: Arc::new(store.snapshot_store()),
        read_model: Arc::new(read_model),
        read_model_checkpoints: Arc::new(store.checkpoint_store()),
        memory_log: None,
        payment_views: None,
        elasticsearch,
        postgres: None,
        read_model_projection: None,
        read_model_shared: true,
        subscription_checkpoints: None,
    })
}

/// Events, snapshots, checkpoints and the payment read model in PostgreSQL, in one schema. The
/// read model's projection is the adapter's: each page of the log is committed with its
/// checkpoint, so a restart resumes exactly where the last page stopped.
async fn open_postgres(config: &Config, elasticsearch: Option<EsStore>) -> Result<Stores, StartError> {
    let connection = crate::postgres::connect(config).await?;
    let store = connection.store();
    let events = store.event_store();
    let read_model = store.payment_read_model();
    // Decoding with no upcasters, as the billing module hive-server builds.
    let projection = read_model.projection(Arc::default());
    Ok(Stores {
        event_store: events.capabilities(),
        snapshots: Arc::new(store.snapshot_store()),
        read_model: Arc::new(read_model),
        read_model_checkpoints: Arc::new(store.checkpoint_store()),
        memory_log: None,
        payment_views: None,
        elasticsearch,
        postgres: Some(connection.clone()),
        read_model_shared: true,
        subscription_checkpoints: None,
        read_model_projection: Some(Arc::new(projection)),
    })
}

fn fsync_policy(setting: FsyncSetting) -> FsyncPolicy {
    match setting {
        FsyncSetting::Always => FsyncPolicy::Always,
        FsyncSetting::Never => FsyncPolicy::Never,
        FsyncSetting::EveryMillis(ms) => FsyncPolicy::EveryMillis(ms),
    }
}
