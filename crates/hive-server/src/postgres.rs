//! The PostgreSQL connection of `store = "postgres"`: opened (and the schema migrated) at
//! start, the `/readyz` check of the server, and the events every instance commits, which the
//! projections wake on.

use std::sync::Arc;

use async_trait::async_trait;
use hive_domain::EventEnvelope;
use hive_http::{Readiness, ReadinessCheck};
use hive_store_postgres::tokio_postgres::{self, NoTls};
use hive_store_postgres::{PostgresOptions, PostgresStore};
use tokio::sync::broadcast;

use crate::app::StartError;
use crate::config::{Config, ConfigError};

/// The options `config` gives the adapter: its schema, when one is set.
pub fn options(config: &Config) -> PostgresOptions {
    match &config.postgres_schema {
        Some(schema) => PostgresOptions::default().with_schema(schema.clone()),
        None => PostgresOptions::default(),
    }
}

/// How many committed events the live feed holds for a projection that has not woken yet (one
/// that falls further behind is told it lagged, and catches up from the log all the same).
const LIVE_EVENTS_CAPACITY: usize = 1024;

/// Connects to `postgres.url`, creates the schema when missing and applies the adapter's
/// migrations (one instance at a time: they run under an advisory lock), and reads the
/// server's version for `/readyz`.
pub async fn connect(config: &Config) -> Result<Connection, StartError> {
    let url = config.postgres_url.as_deref().map(str::trim).unwrap_or_default();
    if url.is_empty() {
        return Err(ConfigError::new("postgres.url", None, "required with store = \"postgres\"").into());
    }
    let store = PostgresStore::connect(url, options(config))
        .await
        .map_err(|error| StartError::Store {
            what: "PostgreSQL store",
            source: error.into(),
        })?;
    let version = match server_version(url).await {
        Ok(version) => Some(version),
        Err(error) => {
            tracing::warn!(%error, "cannot read the PostgreSQL server's version: /readyz leaves it out");
            None
        }
    };
    tracing::info!(
        schema = store.schema(),
        version = version.as_deref().unwrap_or("unknown"),
        "connected to PostgreSQL, schema migrated"
    );
    Ok(Connection { store, version })
}

/// The server's `server_version` (`16.4`, `15.18 (Debian 15.18-0+deb12u1)`), on a connection of
/// its own, closed after.
async fn server_version(url: &str) -> Result<String, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    let driver = tokio::spawn(connection);
    let version = client.query_one("SHOW server_version", &[]).await;
    drop(client);
    let _ = driver.await;
    Ok(version?.get(0))
}

/// The PostgreSQL store of this process and the server's version, read at start. It is the
/// `/readyz` entry `postgres`: a `SELECT 1` on a pooled connection, its `backend` naming the
/// server and its version (`postgresql 16.4`).
#[derive(Clone)]
pub struct Connection {
    store: PostgresStore,
    version: Option<String>,
}

impl Connection {
    /// The store (its pool, its schema).
    pub fn store(&self) -> &PostgresStore {
        &self.store
    }

    /// The events any instance commits on this schema, from now on (see
    /// [`PostgresStore::live_events`]): what `hive serve`'s projections wake on, so they follow
    /// the other instances' appends as soon as they commit rather than at their next poll. The
    /// feed (and its listening connection) stops once every receiver is dropped.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn live_events(&self) -> broadcast::Receiver<Arc<EventEnvelope>> {
        self.store.live_events(LIVE_EVENTS_CAPACITY)
    }
}

#[async_trait]
impl ReadinessCheck for Connection {
    fn name(&self) -> &str {
        "postgres"
    }

    async fn check(&self) -> Readiness {
        match self.store.health().await {
            Ok(()) => Readiness::Up,
            Err(error) => Readiness::Down(error.to_string()),
        }
    }

    fn backend(&self) -> Option<String> {
        Some(match &self.version {
            Some(version) => format!("postgresql {version}"),
            None => "postgresql".to_owned(),
        })
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("schema", &self.store.schema())
            .field("version", &self.version)
            .finish()
    }
}
