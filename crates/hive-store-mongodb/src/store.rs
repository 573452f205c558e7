//! [`MongoStore`]: one connection, the collections, and the adapters handed out from it.

use std::sync::Arc;

use bson::{doc, Document};
use hive_domain::{EventStoreError, StoreResult};
use mongodb::options::{ClientOptions, CollectionOptions, TransactionOptions};
use mongodb::{Client, Collection, Database};

use crate::error::{backend, store_error};
use crate::{setup, MongoCheckpointStore, MongoEventStore, MongoOptions, MongoSnapshotStore, TransactionMode};

/// What every adapter of one [`MongoStore`] shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) database: Database,
    pub(crate) options: MongoOptions,
    /// Whether appends run in transactions (else the lease fallback).
    pub(crate) transactions: bool,
    /// Appends of this process queue here: they would conflict on the position counter and
    /// commit one at a time anyway, so waiting in line (fairly) beats retrying against the
    /// server. Writers in other processes still conflict and retry.
    pub(crate) append_gate: tokio::sync::Mutex<()>,
    /// Set once the server refused `$dateTrunc` (trends then fold hourly groups).
    pub(crate) no_date_trunc: std::sync::atomic::AtomicBool,
}

impl Shared {
    /// A collection with the configured read and write concerns.
    pub(crate) fn collection(&self, name: &str) -> Collection<Document> {
        let options = CollectionOptions::builder()
            .read_concern(self.options.read_concern.clone())
            .write_concern(self.options.write_concern.clone())
            .build();
        self.database.collection_with_options(name, options)
    }

    /// The options of every append transaction.
    pub(crate) fn transaction_options(&self) -> TransactionOptions {
        TransactionOptions::builder()
            .read_concern(self.options.read_concern.clone())
            .write_concern(self.options.write_concern.clone())
            .build()
    }
}

/// A connection to one MongoDB database holding Hive's collections; hands out the adapters.
///
/// [`MongoStore::connect`] creates the indexes (idempotently) and finds out whether the
/// deployment runs transactions (a replica set or a sharded cluster does; a standalone server
/// does not, and then appends use the fallback described in the crate documentation).
///
/// ```no_run
/// use hive_domain::EventStore;
/// use hive_store_mongodb::{MongoOptions, MongoStore};
///
/// # async fn run() -> Result<(), hive_domain::EventStoreError> {
/// let store = MongoStore::connect("mongodb://127.0.0.1:27017/?replicaSet=rs0", MongoOptions::default()).await?;
/// let events = store.event_store();
/// assert_eq!(events.stream_version("payment-1").await?, 0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MongoStore {
    shared: Arc<Shared>,
}

impl MongoStore {
    /// Connects to `uri`, creates the collections' indexes and detects transaction support.
    ///
    /// A URI the driver cannot parse is [`EventStoreError::Backend`]; a server that cannot be
    /// reached is [`EventStoreError::Unavailable`].
    pub async fn connect(uri: &str, options: MongoOptions) -> StoreResult<Self> {
        let mut client_options = ClientOptions::parse(uri)
            .await
            .map_err(|e| EventStoreError::Backend(format!("invalid MongoDB URI: {e}")))?;
        client_options.app_name.get_or_insert_with(|| "hive".to_owned());
        let client = Client::with_options(client_options).map_err(backend("client"))?;
        Self::with_client(client, options).await
    }

    /// Uses an existing client (its pool is shared).
    pub async fn with_client(client: Client, options: MongoOptions) -> StoreResult<Self> {
        let database = client.database(&options.database);
        let supported = setup::supports_transactions(&database).await?;
        let transactions = match options.transactions {
            TransactionMode::Auto => supported,
            TransactionMode::Always if !supported => {
                return Err(EventStoreError::Backend(
                    "transactions were required but the MongoDB deployment is a standalone server; \
                     run it as a replica set (even of one node) or use TransactionMode::Auto"
                        .into(),
                ))
            }
            TransactionMode::Always => true,
            TransactionMode::Never => false,
        };
        let shared = Arc::new(Shared {
            client,
            database,
            options,
            transactions,
            append_gate: tokio::sync::Mutex::new(()),
            no_date_trunc: std::sync::atomic::AtomicBool::new(false),
        });
        setup::create_indexes(&shared).await?;
        Ok(Self { shared })
    }

    #[cfg_attr(not(feature = "billing"), allow(dead_code))]
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The event store (also the event analytics).
    pub fn event_store(&self) -> MongoEventStore {
        MongoEventStore::new(Arc::clone(&self.shared))
    }

    /// The snapshot store.
    pub fn snapshot_store(&self) -> MongoSnapshotStore {
        MongoSnapshotStore::new(Arc::clone(&self.shared))
    }

    /// The checkpoint store (`projections_metadata` and the dead letters).
    pub fn checkpoint_store(&self) -> MongoCheckpointStore {
        MongoCheckpointStore::new(Arc::clone(&self.shared))
    }

    /// Whether appends run in transactions (`false`: the lease fallback).
    pub fn uses_transactions(&self) -> bool {
        self.shared.transactions
    }

    /// The driver client.
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.shared.database
    }

    /// Pings the server (readiness).
    pub async fn health(&self) -> StoreResult<()> {
        ping(&self.shared).await
    }

    /// Drops the whole database (tests, demos). Irreversible.
    pub async fn drop_database(&self) -> StoreResult<()> {
        self.shared.database.drop().await.map_err(backend("drop database"))
    }
}

/// `{ping: 1}` on the database.
pub(crate) async fn ping(shared: &Shared) -> StoreResult<()> {
    shared
        .database
        .run_command(doc! { "ping": 1 })
        .await
        .map(drop)
        .map_err(|e| store_error("ping", &e))
}
