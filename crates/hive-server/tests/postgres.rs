//! The whole billing flow over HTTP on PostgreSQL (`store = "postgres"`, `HIVE_POSTGRES_URL`;
//! skipped with a notice when unset, a failure in CI): every query answers the same after a
//! restart of the service (the read model and its checkpoint kept in PostgreSQL), and the same
//! as on the embedded store; `/readyz` names the server.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

use std::path::Path;

mod common;

use common::flow::get;
use common::stores::{same_answers_after_a_restart, same_answers_as_the_embedded_store};
use common::Running;
use hive_domain::{CheckpointStore, EventStore};
use hive_server::config::Layer;
use hive_store_postgres::{PostgresOptions, PostgresStore};
use hive_testkit::backend;

/// A fresh schema on the server (`hive_it_<uuid>`), dropped when this drops, so a failing
/// assertion cleans up too.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn new(url: String) -> Self {
        let name = format!("hive_it_{}", uuid::Uuid::new_v4().simple());
        Self { url, name }
    }

    /// The service on this schema: events, snapshots, checkpoints and the read model (the
    /// search index in memory, rebuilt at start).
    fn layer(&self, data_dir: &Path) -> Layer {
        Layer {
            data_dir: Some(data_dir.display().to_string()),
            store: Some("postgres".into()),
            postgres_url: Some(self.url.clone()),
            postgres_schema: Some(self.name.clone()),
            ..Layer::default()
        }
    }

    /// The adapter's options on this schema.
    fn options(&self) -> PostgresOptions {
        PostgresOptions::default().with_schema(&self.name)
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

/// `/readyz` is `200`, its `postgres` check `up` and naming the server and its version.
async fn assert_ready(server: &Running, token: &str) {
    let (status, ready) = get(server, token, "/readyz", &[]).await;
    assert_eq!(status, 200, "{ready}");
    let check = &ready["checks"]["postgres"];
    assert_eq!(check["status"], "up", "{ready}");
    let backend = check["backend"].as_str().unwrap_or_default();
    let version = backend.strip_prefix("postgresql ").unwrap_or_default();
    assert!(
        version.starts_with(|c: char| c.is_ascii_digit()),
        "the check names the server and its version: {ready}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_billing_flow_on_postgres_answers_the_same_after_a_restart() {
    let Some(url) = backend::url(backend::POSTGRES) else {
        return;
    };
    let schema = Schema::new(url);
    let dir = tempfile::tempdir().unwrap();
    // The events and the read model come back from PostgreSQL; the search index catches up.
    same_answers_after_a_restart(schema.layer(dir.path()), dir.path(), assert_ready).await;
    let store = PostgresStore::connect(&schema.url, schema.options()).await.unwrap();
    let head = EventStore::head_position(&store.event_store()).await.unwrap();
    let checkpoints = CheckpointStore::list(&store.checkpoint_store()).await.unwrap();
    let positions: Vec<(&str, u64)> = checkpoints
        .iter()
        .map(|c| (c.projection.as_str(), c.position))
        .collect();
    assert_eq!(
        positions,
        [("billing.payment_read_model", head)],
        "only the read model's checkpoint is in PostgreSQL, at the log's head"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_answers_the_billing_flow_like_the_embedded_store() {
    let Some(url) = backend::url(backend::POSTGRES) else {
        return;
    };
    let schema = Schema::new(url);
    let dir = tempfile::tempdir().unwrap();
    same_answers_as_the_embedded_store(schema.layer(dir.path()), dir.path(), "PostgreSQL").await;
}
