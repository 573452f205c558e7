//! A live cluster for the conformance suites: `HIVE_ELASTICSEARCH_URL` (OpenSearch started by
//! `cargo xtask test`, or an Elasticsearch 8 of the user's), a store on fresh indices per test.

use hive_store_elasticsearch::{EsOptions, EsStore, Refresh};

/// Whether a cluster is configured (a skip notice when not, a panic where backends are required).
pub fn server() -> bool {
    hive_testkit::backend::available(hive_testkit::backend::ELASTICSEARCH)
}

/// A store on indices of its own (`hive-test-<uuid>-*`), refreshing after every write.
pub async fn fresh() -> EsStore {
    let url = std::env::var(hive_testkit::backend::ELASTICSEARCH).expect("HIVE_ELASTICSEARCH_URL");
    let prefix = format!("hive-test-{}", uuid::Uuid::new_v4().simple());
    let options = EsOptions::new(url)
        .with_prefix(&prefix)
        .with_refresh(Refresh::Immediate);
    EsStore::connect(options).await.unwrap()
}

/// Deletes the store's indices when dropped (the guard of a [`hive_testkit::Held`] store).
pub fn delete_indices(store: EsStore) -> hive_testkit::CleanUp {
    hive_testkit::CleanUp::new(async move {
        if let Err(error) = store.delete_indices().await {
            eprintln!("could not delete the test indices: {error}");
        }
    })
}

/// Sends `method path` with a JSON `body` straight to the store's cluster (what an earlier
/// version of the crate, or an operator, would have written): the status and the JSON answer.
pub async fn raw(
    store: &EsStore,
    method: elasticsearch::http::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    use elasticsearch::http::headers::HeaderMap;
    use elasticsearch::http::transport::Transport;
    let transport = Transport::single_node(&store.options().url).unwrap();
    let response = transport
        .send(
            method,
            path,
            HeaderMap::new(),
            None::<&()>,
            body.map(|b| b.to_string()),
            None,
        )
        .await
        .unwrap();
    let status = response.status_code().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}
