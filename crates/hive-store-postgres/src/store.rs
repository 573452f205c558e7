//! [`PostgresStore`]: one connection pool, the migrated schema, and the adapters handed out
//! from it.

use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use crate::error::PostgresError;
use crate::migrations::migrate;
use crate::options::PostgresOptions;
use crate::sql::Statements;
use crate::{Notifications, PostgresCheckpointStore, PostgresEventStore, PostgresSnapshotStore};

/// What every adapter of one [`PostgresStore`] shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) pool: Pool,
    pub(crate) options: PostgresOptions,
    /// The schema, quoted (`"hive"`), to qualify table names.
    pub(crate) schema: String,
    /// The core adapters' statements on that schema.
    pub(crate) sql: Statements,
    /// Appends in flight at once: at most three quarters of the pool, so that appends queued
    /// behind the global position row never hold every connection and starve the readers.
    pub(crate) append_permits: tokio::sync::Semaphore,
    /// Where a dedicated `LISTEN` connection connects (`None`: the pool was handed in, and
    /// notifications poll).
    pub(crate) listen: Option<tokio_postgres::Config>,
}

impl Shared {
    /// The table `name` of the schema, qualified (`"hive".events`).
    pub(crate) fn table(&self, name: &str) -> String {
        format!("{}.{name}", self.schema)
    }

    /// A connection from the pool.
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, PostgresError> {
        Ok(self.pool.get().await?)
    }

    /// Runs the statement `sql` (prepared once per connection) on a pooled connection.
    pub(crate) async fn query(
        &self,
        what: &'static str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, PostgresError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await.map_err(PostgresError::query(what))?;
        client
            .query(&statement, params)
            .await
            .map_err(PostgresError::query(what))
    }

    /// [`Shared::query`] for a statement that changes rows: how many it changed.
    pub(crate) async fn execute(
        &self,
        what: &'static str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, PostgresError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await.map_err(PostgresError::query(what))?;
        client
            .execute(&statement, params)
            .await
            .map_err(PostgresError::query(what))
    }
}

/// A pool of connections to one PostgreSQL database, whose tables live in one schema
/// ([`PostgresOptions::schema`]); hands out the adapters.
///
/// [`PostgresStore::connect`] creates the schema when missing and applies the crate's
/// migrations (in one transaction under an advisory lock: instances starting at once are
/// safe).
///
/// ```no_run
/// use hive_store_postgres::{PostgresOptions, PostgresStore};
///
/// # async fn run() -> Result<(), hive_store_postgres::PostgresError> {
/// let store = PostgresStore::connect("postgres://hive@127.0.0.1:5432/hive", PostgresOptions::default()).await?;
/// store.health().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PostgresStore {
    shared: Arc<Shared>,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`, or the key/value
    /// form), without TLS, and migrates the schema.
    ///
    /// A URL that does not parse or an invalid schema name is refused before anything is
    /// opened; a server that cannot be reached is [`PostgresError::Pool`] (the ports'
    /// `Unavailable`).
    pub async fn connect(url: &str, options: PostgresOptions) -> Result<Self, PostgresError> {
        options.validate()?;
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| PostgresError::InvalidUrl(format!("{e}")))?;
        if config.get_application_name().is_none() {
            config.application_name("hive");
        }
        config.connect_timeout(options.connect_timeout);
        if let Some(timeout) = options.idle_in_transaction_timeout {
            // Added to the URL's own `options`, if any.
            let setting = format!("-c idle_in_transaction_session_timeout={}", timeout.as_millis().max(1));
            let options = match config.get_options() {
                Some(given) if !given.trim().is_empty() => format!("{given} {setting}"),
                _ => setting,
            };
            config.options(options);
        }
        let mut listen = config.clone();
        listen.application_name("hive-listener");
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.wait_timeout))
            .create_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| PostgresError::Config(e.to_string()))?;
        Self::open(pool, options, Some(listen)).await
    }

    /// Uses an existing pool (shared with the caller) and migrates the schema. Its
    /// [`PostgresStore::notifications`] poll (the pool does not say where it connects).
    pub async fn with_pool(pool: Pool, options: PostgresOptions) -> Result<Self, PostgresError> {
        Self::open(pool, options, None).await
    }

    async fn open(
        pool: Pool,
        options: PostgresOptions,
        listen: Option<tokio_postgres::Config>,
    ) -> Result<Self, PostgresError> {
        options.validate()?;
        let mut client = pool.get().await?;
        migrate(&mut client, &options).await?;
        drop(client);
        let schema = options.quoted_schema();
        let sql = Statements::new(&schema);
        let pool_size = pool.status().max_size;
        Ok(Self {
            shared: Arc::new(Shared {
                pool,
                options,
                schema,
                sql,
                listen,
                append_permits: tokio::sync::Semaphore::new(append_permits(pool_size)),
            }),
        })
    }

    /// The connection pool.
    pub(crate) fn pool(&self) -> &Pool {
        &self.shared.pool
    }

    /// What the adapters share (the billing module's adapters take it too).
    #[allow(dead_code)]
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The event store (also its look-ups, search and analytics:
    /// [`PostgresEventStore::capabilities`]).
    pub fn event_store(&self) -> PostgresEventStore {
        PostgresEventStore::new(Arc::clone(&self.shared))
    }

    /// The snapshot store.
    pub fn snapshot_store(&self) -> PostgresSnapshotStore {
        PostgresSnapshotStore::new(Arc::clone(&self.shared))
    }

    /// The checkpoint store (checkpoints and dead letters).
    pub fn checkpoint_store(&self) -> PostgresCheckpointStore {
        PostgresCheckpointStore::new(Arc::clone(&self.shared))
    }

    /// The committed head of the global log each time it moves, woken by `LISTEN`/`NOTIFY`
    /// and by a poll every [`PostgresOptions::notification_poll`] (see [`Notifications`]).
    ///
    /// # Panics
    /// Outside a Tokio runtime (it spawns the listening task).
    pub fn notifications(&self) -> Notifications {
        Notifications::spawn(Arc::clone(&self.shared))
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &PostgresOptions {
        &self.shared.options
    }

    /// The schema holding the tables.
    pub fn schema(&self) -> &str {
        &self.shared.options.schema
    }

    /// Runs `SELECT 1` on a pooled connection (readiness).
    pub async fn health(&self) -> Result<(), PostgresError> {
        let client = self.shared.client().await?;
        client
            .simple_query("SELECT 1")
            .await
            .map(drop)
            .map_err(PostgresError::query("ping"))
    }

    /// The migrations recorded in the schema: `(version, name)`, by version.
    pub async fn applied_migrations(&self) -> Result<Vec<(i32, String)>, PostgresError> {
        let client = self.shared.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT version, name FROM {} ORDER BY version",
                    self.shared.table("hive_migrations")
                ),
                &[],
            )
            .await
            .map_err(PostgresError::query("read the applied migrations"))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Drops the whole schema and everything in it (tests, demos). Irreversible.
    pub async fn drop_schema(&self) -> Result<(), PostgresError> {
        let client = self.pool().get().await?;
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.shared.schema))
            .await
            .map_err(PostgresError::query("drop the schema"))
    }
}

/// How many appends may hold a connection at once in a pool of `size`: all but a quarter
/// (at least one connection left to readers when the pool has two or more).
pub(crate) fn append_permits(size: usize) -> usize {
    if size <= 1 {
        1
    } else {
        size - (size / 4).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::append_permits;

    #[test]
    fn appends_leave_connections_to_readers() {
        assert_eq!([1, 2, 4, 16, 40].map(append_permits), [1, 1, 3, 12, 30]);
    }
}
