//! The whole billing flow over HTTP on a real Elasticsearch or OpenSearch cluster
//! (`HIVE_ELASTICSEARCH_URL`; skipped with a notice when unset, a failure in CI), with
//! `store = "elasticsearch"` and `search = "elasticsearch"`: every query answers the same
//! after a restart of the service, and the same as on the embedded store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

use std::path::Path;

mod common;

use common::flow::get;
use common::groups::group_survives_a_restart;
use common::stores::{same_answers_after_a_restart, same_answers_as_the_embedded_store};
use common::Running;
use hive_server::config::Layer;
use hive_testkit::backend;

/// Fresh indices on the cluster (prefix `hive-it-<uuid>`), deleted when dropped, so a failing
/// assertion cleans up too.
struct Indices {
    url: String,
    prefix: String,
}

impl Indices {
    fn new(url: String) -> Self {
        let prefix = format!("hive-it-{}", uuid::Uuid::new_v4().simple());
        Self { url, prefix }
    }

    /// The service on these indices: the event store, the read model and the search index.
    fn layer(&self, data_dir: &Path) -> Layer {
        Layer {
            data_dir: Some(data_dir.display().to_string()),
            store: Some("elasticsearch".into()),
            search: Some("elasticsearch".into()),
            elasticsearch_url: Some(self.url.clone()),
            elasticsearch_index_prefix: Some(self.prefix.clone()),
            ..Layer::default()
        }
    }
}

impl Drop for Indices {
    fn drop(&mut self) {
        let options = hive_store_elasticsearch::EsOptions::new(self.url.clone()).with_prefix(&self.prefix);
        // On a thread of its own: a runtime cannot be blocked on from within another.
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let store = hive_store_elasticsearch::EsStore::lazy(options).map_err(std::io::Error::other)?;
            runtime.block_on(store.delete_indices()).map_err(std::io::Error::other)
        })
        .join();
        if !matches!(deleted, Ok(Ok(()))) {
            eprintln!("could not delete the test indices {}-*: {deleted:?}", self.prefix);
        }
    }
}

/// `/readyz` is `200` and its `elasticsearch` check names the engine and its version. The
/// check may be `degraded` (yellow) rather than `up`: the health is the whole cluster's, and
/// yellow for a moment while another test creates its indices on the same node.
async fn assert_ready(server: &Running, token: &str) {
    let (status, ready) = get(server, token, "/readyz", &[]).await;
    assert_eq!(status, 200, "{ready}");
    let check = &ready["checks"]["elasticsearch"];
    assert!(check["status"] == "up" || check["status"] == "degraded", "{ready}");
    let engine = check["backend"].as_str().unwrap_or_default();
    assert!(
        engine.starts_with("opensearch ") || engine.starts_with("elasticsearch "),
        "the check names the engine and version: {ready}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_the_whole_billing_flow_on_elasticsearch_answers_the_same_after_a_restart() {
    let Some(url) = backend::url(backend::ELASTICSEARCH) else {
        return;
    };
    let indices = Indices::new(url);
    let dir = tempfile::tempdir().unwrap();
    // The event store, the read model and the search index resume from the cluster.
    same_answers_after_a_restart(indices.layer(dir.path()), dir.path(), assert_ready).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_elasticsearch_answers_the_billing_flow_like_the_embedded_store() {
    let Some(url) = backend::url(backend::ELASTICSEARCH) else {
        return;
    };
    let indices = Indices::new(url);
    let dir = tempfile::tempdir().unwrap();
    same_answers_as_the_embedded_store(indices.layer(dir.path()), dir.path(), "Elasticsearch").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_a_subscription_group_on_elasticsearch_keeps_its_checkpoint_and_parked_events() {
    let Some(url) = backend::url(backend::ELASTICSEARCH) else {
        return;
    };
    let indices = Indices::new(url);
    let dir = tempfile::tempdir().unwrap();
    group_survives_a_restart(indices.layer(dir.path()), dir.path()).await;
}
