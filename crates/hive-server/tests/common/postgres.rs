//! A PostgreSQL schema of a test's own: the service's configuration on it, the adapter on it,
//! and its drop at the end.

use std::path::Path;

use hive_server::config::Layer;
use hive_store_postgres::{PostgresOptions, PostgresStore};

/// A fresh schema on the server (`hive_it_<uuid>`), dropped when this drops, so a failing
/// assertion cleans up too.
pub struct Schema {
    pub url: String,
    pub name: String,
}

impl Schema {
    pub fn new(url: String) -> Self {
        let name = format!("hive_it_{}", uuid::Uuid::new_v4().simple());
        Self { url, name }
    }

    /// The service on this schema: events, snapshots, checkpoints and the read model (the
    /// search index in memory, rebuilt at start).
    pub fn layer(&self, data_dir: &Path) -> Layer {
        Layer {
            data_dir: Some(data_dir.display().to_string()),
            store: Some("postgres".into()),
            postgres_url: Some(self.url.clone()),
            postgres_schema: Some(self.name.clone()),
            ..Layer::default()
        }
    }

    /// The `HIVE_…` variables of a `hive serve` process on this schema (see
    /// [`super::process::Process`]).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("HIVE_STORE", "postgres".to_owned()),
            ("HIVE_POSTGRES_URL", self.url.clone()),
            ("HIVE_POSTGRES_SCHEMA", self.name.clone()),
        ]
    }

    /// The adapter's options on this schema.
    pub fn options(&self) -> PostgresOptions {
        PostgresOptions::default().with_schema(&self.name)
    }

    /// The adapter on this schema (created and migrated when missing).
    pub async fn connect(&self) -> PostgresStore {
        PostgresStore::connect(&self.url, self.options()).await.unwrap()
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (url, options) = (self.url.clone(), self.options());
        // On a thread of its own: a runtime cannot be blocked on from within another.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let store = PostgresStore::connect(&url, options)
                    .await
                    .map_err(std::io::Error::other)?;
                store.drop_schema().await.map_err(std::io::Error::other)
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test schema {}: {dropped:?}", self.name);
        }
    }
}
