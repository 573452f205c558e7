//! [`MongoOptions`]: database, collection names, concerns, transactions, retention.

use std::time::Duration;

use mongodb::options::{ReadConcern, WriteConcern};

/// The collection names (the seed's by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionNames {
    /// The events: `events`.
    pub events: String,
    /// The latest snapshot of each aggregate: `snapshots`.
    pub snapshots: String,
    /// Projection checkpoints: `projections_metadata`.
    pub projections_metadata: String,
    /// Events projections could not apply: `projection_dead_letters`.
    pub dead_letters: String,
    /// The global-position counter document `{_id: "global"}`: `event_counters`.
    pub counters: String,
    /// The payment read model (feature `billing`): `payment_read_models`.
    pub payment_read_models: String,
}

impl Default for CollectionNames {
    fn default() -> Self {
        Self {
            events: "events".into(),
            snapshots: "snapshots".into(),
            projections_metadata: "projections_metadata".into(),
            dead_letters: "projection_dead_letters".into(),
            counters: "event_counters".into(),
            payment_read_models: "payment_read_models".into(),
        }
    }
}

/// How multi-event appends are made atomic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransactionMode {
    /// Transactions when the deployment supports them (a replica set or a sharded cluster),
    /// the lease fallback on a standalone server.
    #[default]
    Auto,
    /// Always transactions (fails on a standalone server).
    Always,
    /// Never transactions: the lease-and-watermark fallback (see the crate documentation).
    Never,
}

/// Everything configurable about the MongoDB adapters.
///
/// ```
/// use std::time::Duration;
/// use hive_store_mongodb::{MongoOptions, TransactionMode};
///
/// let options = MongoOptions::default()
///     .with_database("hive_dev")
///     .with_transactions(TransactionMode::Auto)
///     .with_retention(Duration::from_secs(5 * 365 * 24 * 3600));
/// assert_eq!(options.database, "hive_dev");
/// assert_eq!(options.collections.events, "events");
/// ```
#[derive(Debug, Clone)]
pub struct MongoOptions {
    /// The database (default `Gyroscops Cloud`, the seed's).
    pub database: String,
    /// The collection names.
    pub collections: CollectionNames,
    /// Write concern of every write (default `majority`).
    pub write_concern: WriteConcern,
    /// Read concern of every read (default `majority`).
    pub read_concern: ReadConcern,
    /// Transactions or the fallback.
    pub transactions: TransactionMode,
    /// How long an append retries transient transaction errors (write conflicts between
    /// concurrent appends) before it gives up with [`hive_domain::EventStoreError::Unavailable`].
    pub retry_timeout: Duration,
    /// How long a fallback writer may hold the append lease before another may take it over.
    pub lease_ttl: Duration,
    /// Opt-in retention: a TTL index deleting events older than this. `None` (the default)
    /// keeps the audit trail forever.
    pub retention: Option<Duration>,
    /// Whether to create the look-up indexes of `events` (default `true`). Without them every
    /// answer is the same, only slower to find; the unique indexes that enforce correctness
    /// are always created. Test servers where each index costs (SecantusDB) may turn them off.
    pub lookup_indexes: bool,
}

impl Default for MongoOptions {
    fn default() -> Self {
        Self {
            database: "Gyroscops Cloud".into(),
            collections: CollectionNames::default(),
            write_concern: WriteConcern::majority(),
            read_concern: ReadConcern::majority(),
            transactions: TransactionMode::Auto,
            retry_timeout: Duration::from_secs(30),
            lease_ttl: Duration::from_secs(30),
            retention: None,
            lookup_indexes: true,
        }
    }
}

impl MongoOptions {
    /// Sets the database.
    #[must_use]
    pub fn with_database(mut self, database: impl Into<String>) -> Self {
        self.database = database.into();
        self
    }

    /// Sets the collection names.
    #[must_use]
    pub fn with_collections(mut self, collections: CollectionNames) -> Self {
        self.collections = collections;
        self
    }

    /// Sets the write concern.
    #[must_use]
    pub fn with_write_concern(mut self, write_concern: WriteConcern) -> Self {
        self.write_concern = write_concern;
        self
    }

    /// Sets the read concern.
    #[must_use]
    pub fn with_read_concern(mut self, read_concern: ReadConcern) -> Self {
        self.read_concern = read_concern;
        self
    }

    /// Sets the transaction mode.
    #[must_use]
    pub fn with_transactions(mut self, mode: TransactionMode) -> Self {
        self.transactions = mode;
        self
    }

    /// Sets how long appends retry transient errors.
    #[must_use]
    pub fn with_retry_timeout(mut self, timeout: Duration) -> Self {
        self.retry_timeout = timeout;
        self
    }

    /// Sets the fallback's lease time.
    #[must_use]
    pub fn with_lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }

    /// Creates the look-up indexes of `events` or not (see [`MongoOptions::lookup_indexes`]).
    #[must_use]
    pub fn with_lookup_indexes(mut self, create: bool) -> Self {
        self.lookup_indexes = create;
        self
    }

    /// Opts in to deleting events older than `age` (a TTL index on `timestamp`). Read the
    /// crate documentation first: it deletes the audit trail.
    #[must_use]
    pub fn with_retention(mut self, age: Duration) -> Self {
        self.retention = Some(age);
        self
    }
}
