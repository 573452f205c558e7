//! [`EsSnapshotStore`]: the latest snapshot per aggregate, one document each.

use std::sync::Arc;

use async_trait::async_trait;
use elasticsearch::http::Method;
use hive_domain::{Snapshot, SnapshotStore, StoreResult};
use serde_json::Value;

use crate::http::{encode_id, Body, EsClient};
use crate::{EsError, EsOptions, EsResult};

/// Snapshots in `hive-snapshots`: `_id` = aggregate id, the [`Snapshot`] as `_source` (its
/// `state` stored, not indexed). A save is `PUT _doc/{id}?version={version}&version_type=external_gte`:
/// Elasticsearch itself keeps the newer one (an equal version replaces, a lower one is
/// answered 409 and ignored), in one request and without a script.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use hive_domain::SnapshotStore;
/// use hive_store_elasticsearch::{EsOptions, EsStore};
/// let store = EsStore::connect(EsOptions::new("http://localhost:9200")).await?;
/// let latest = store.snapshot_store().load("pay-1").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct EsSnapshotStore {
    client: EsClient,
    options: Arc<EsOptions>,
}

impl EsSnapshotStore {
    pub(crate) fn new(client: EsClient, options: Arc<EsOptions>) -> Self {
        Self { client, options }
    }

    fn path(&self, aggregate_id: &str) -> String {
        format!("/{}/_doc/{}", self.options.snapshots_index, encode_id(aggregate_id))
    }

    async fn put(&self, snapshot: &Snapshot) -> EsResult<()> {
        let body = serde_json::to_value(snapshot).map_err(|e| EsError::Client(format!("snapshot: {e}")))?;
        let query = [
            ("version", snapshot.version.to_string()),
            ("version_type", "external_gte".to_owned()),
            ("refresh", self.options.refresh.as_param().to_owned()),
        ];
        let path = self.path(&snapshot.aggregate_id);
        let reply = self
            .client
            .send_checked(Method::Put, &path, &query, Some(Body::Json(body)), &[409])
            .await?;
        if reply.status == 409 && reply.error_type() != "version_conflict_engine_exception" {
            return Err(crate::http::status_error("PUT", &path, &reply));
        }
        Ok(())
    }

    async fn get(&self, aggregate_id: &str) -> EsResult<Option<Snapshot>> {
        let path = self.path(aggregate_id);
        let reply = self.client.send_checked(Method::Get, &path, &[], None, &[404]).await?;
        if reply.status == 404 || reply.body.get("found").and_then(Value::as_bool) != Some(true) {
            return Ok(None);
        }
        let source = reply
            .body
            .get("_source")
            .cloned()
            .ok_or_else(|| EsError::decode(format!("GET {path}"), "no `_source`"))?;
        serde_json::from_value(source)
            .map(Some)
            .map_err(|e| EsError::decode(format!("GET {path}"), format!("a snapshot: {e}")))
    }
}

#[async_trait]
impl SnapshotStore for EsSnapshotStore {
    async fn save(&self, snapshot: Snapshot) -> StoreResult<()> {
        Ok(self.put(&snapshot).await?)
    }

    async fn load(&self, aggregate_id: &str) -> StoreResult<Option<Snapshot>> {
        Ok(self.get(aggregate_id).await?)
    }
}
