//! [`EsCheckpointStore`]: projection checkpoints and dead letters.

use std::sync::Arc;

use async_trait::async_trait;
use elasticsearch::http::Method;
use hive_domain::{Checkpoint, CheckpointStore, DeadLetter, StoreResult};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::http::{encode_id, Body, EsClient};
use crate::search;
use crate::{EsError, EsOptions, EsResult};

/// How many documents one page of `list` or `dead_letters` reads.
pub(crate) const PAGE: usize = 1_000;

/// Checkpoints in `hive-checkpoints` (`_id` = projection name, replaced on save; the
/// [`Checkpoint`] in seed 003's names: `position`, `lastEventId`, `lastProcessedTimestamp`,
/// `version`, `updatedAt`, a document written without the last two reading as `None` and `0`)
/// and dead letters in `hive-dead-letters` (one document each, ids chosen by Elasticsearch). Loads are
/// realtime `GET`s; `list` and `dead_letters` are searches paged with `search_after`, made
/// complete by writing with the store's [`Refresh`](crate::Refresh) policy.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use hive_domain::CheckpointStore;
/// use hive_store_elasticsearch::{EsOptions, EsStore};
/// let store = EsStore::connect(EsOptions::new("http://localhost:9200")).await?;
/// let checkpoint = store.checkpoint_store().load("payments-read-model").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct EsCheckpointStore {
    client: EsClient,
    options: Arc<EsOptions>,
}

impl EsCheckpointStore {
    pub(crate) fn new(client: EsClient, options: Arc<EsOptions>) -> Self {
        Self { client, options }
    }

    fn refresh(&self) -> [(&'static str, String); 1] {
        [("refresh", self.options.refresh.as_param().to_owned())]
    }

    /// Every document matching `query`, in `sort` order (which must end on a unique key).
    async fn all<T: DeserializeOwned>(&self, index: &str, query: Value, sort: Value) -> EsResult<Vec<T>> {
        let what = format!("POST /{index}/_search");
        let body = json!({"query": query, "sort": sort});
        search::all_hits(&self.client, index, body, PAGE)
            .await?
            .iter()
            .map(|hit| search::parse_source(hit, &what))
            .collect()
    }
}

#[async_trait]
impl CheckpointStore for EsCheckpointStore {
    async fn load(&self, projection: &str) -> StoreResult<Option<Checkpoint>> {
        let path = format!("/{}/_doc/{}", self.options.checkpoints_index, encode_id(projection));
        let reply = self.client.send_checked(Method::Get, &path, &[], None, &[404]).await?;
        if reply.status == 404 || reply.body.get("found").and_then(Value::as_bool) != Some(true) {
            return Ok(None);
        }
        let source = reply.body.get("_source").cloned().unwrap_or(Value::Null);
        let checkpoint = serde_json::from_value(source)
            .map_err(|e| EsError::decode(format!("GET {path}"), format!("a checkpoint: {e}")))?;
        Ok(Some(checkpoint))
    }

    async fn save(&self, checkpoint: Checkpoint) -> StoreResult<()> {
        let path = format!(
            "/{}/_doc/{}",
            self.options.checkpoints_index,
            encode_id(&checkpoint.projection)
        );
        let body = serde_json::to_value(&checkpoint).map_err(|e| EsError::Client(format!("checkpoint: {e}")))?;
        self.client
            .send_checked(Method::Put, &path, &self.refresh(), Some(Body::Json(body)), &[])
            .await?;
        Ok(())
    }

    async fn list(&self) -> StoreResult<Vec<Checkpoint>> {
        let sort = json!([{"projection": "asc"}]);
        Ok(self
            .all(&self.options.checkpoints_index, json!({"match_all": {}}), sort)
            .await?)
    }

    async fn record_dead_letter(&self, dead_letter: DeadLetter) -> StoreResult<()> {
        let path = format!("/{}/_doc", self.options.dead_letters_index);
        let body = serde_json::to_value(&dead_letter).map_err(|e| EsError::Client(format!("dead letter: {e}")))?;
        self.client
            .send_checked(Method::Post, &path, &self.refresh(), Some(Body::Json(body)), &[])
            .await?;
        Ok(())
    }

    async fn dead_letters(&self, projection: &str) -> StoreResult<Vec<DeadLetter>> {
        let query = json!({"bool": {"filter": [{"term": {"projection": projection}}]}});
        let sort = json!([{"recordedAt": "asc"}, {"position": "asc"}, {"eventId": "asc"}]);
        Ok(self.all(&self.options.dead_letters_index, query, sort).await?)
    }

    /// One `_delete_by_query`, refreshed so that `dead_letters` no longer finds what it removed
    /// (it takes no `wait_for`); a letter deleted meanwhile by another caller is not counted.
    async fn remove_dead_letters(&self, projection: &str, positions: &[u64]) -> StoreResult<u64> {
        let mut filter = vec![json!({"term": {"projection": projection}})];
        if !positions.is_empty() {
            // `position` is a `long`: a greater position holds nothing (and would be refused);
            // dropping it must not turn a list of such positions into all of them.
            let stored: Vec<i64> = positions.iter().filter_map(|&p| i64::try_from(p).ok()).collect();
            if stored.is_empty() {
                return Ok(0);
            }
            filter.push(json!({"terms": {"position": stored}}));
        }
        let path = format!("/{}/_delete_by_query", self.options.dead_letters_index);
        let query = [("refresh", "true".to_owned()), ("conflicts", "proceed".to_owned())];
        let body = json!({"query": {"bool": {"filter": filter}}});
        let reply = self
            .client
            .send_checked(Method::Post, &path, &query, Some(Body::Json(body)), &[])
            .await?;
        let what = format!("POST {path}");
        if let Some(failure) = reply
            .body
            .get("failures")
            .and_then(Value::as_array)
            .and_then(|failures| failures.first())
        {
            return Err(EsError::decode(what, format!("a dead letter was not removed: {failure}")).into());
        }
        let deleted = reply.body.get("deleted").and_then(Value::as_u64);
        Ok(deleted.ok_or_else(|| EsError::decode(what, "no `deleted` count"))?)
    }
}
