//! Commit documents: one per append, created with `op_type=create` under the id
//! `{aggregateId}@{expectedVersion}`, so two writers at one version cannot both succeed.

use chrono::{DateTime, Utc};
use elasticsearch::http::Method;
use hive_domain::EventEnvelope;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::http::{encode_id, Body};
use crate::search::{first_source, hits, parse_source};
use crate::{EsError, EsResult};

use super::EsEventStore;

/// One append: the stream's events `fromVersion + 1 ..= toVersion` and, once sequenced, the
/// global position of the first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CommitDoc {
    pub(crate) aggregate_id: String,
    pub(crate) from_version: u64,
    pub(crate) to_version: u64,
    pub(crate) count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) position: Option<u64>,
    pub(crate) committed_at: DateTime<Utc>,
    #[serde(default)]
    pub(crate) events: Vec<EventEnvelope>,
}

impl CommitDoc {
    pub(crate) fn new(aggregate_id: &str, expected_version: u64, events: Vec<EventEnvelope>) -> Self {
        let count = events.len() as u64;
        Self {
            aggregate_id: aggregate_id.to_owned(),
            from_version: expected_version,
            to_version: expected_version + count,
            count,
            position: None,
            committed_at: Utc::now(),
            events,
        }
    }

    /// `{aggregateId}@{fromVersion}`.
    pub(crate) fn id(&self) -> String {
        commit_id(&self.aggregate_id, self.from_version)
    }

    /// The events with their global positions (when sequenced).
    pub(crate) fn positioned_events(&self) -> Vec<EventEnvelope> {
        self.events
            .iter()
            .enumerate()
            .map(|(i, event)| {
                let mut event = event.clone();
                event.global_position = self.position.map(|p| p + i as u64);
                event
            })
            .collect()
    }
}

/// The id of the commit that starts after `from_version`.
pub(crate) fn commit_id(aggregate_id: &str, from_version: u64) -> String {
    format!("{aggregate_id}@{from_version}")
}

/// The outcome of a create.
pub(crate) enum Created {
    Yes,
    AlreadyExists,
}

impl EsEventStore {
    /// `GET {commits}/_doc/{id}` (realtime: sees a commit before any refresh).
    pub(crate) async fn get_commit(&self, id: &str) -> EsResult<Option<CommitDoc>> {
        let path = format!("/{}/_doc/{}", self.options.commits_index, encode_id(id));
        let reply = self.client.send_checked(Method::Get, &path, &[], None, &[404]).await?;
        if reply.status == 404 || reply.body.get("found") == Some(&Value::Bool(false)) {
            return Ok(None);
        }
        parse_source(&reply.body, &path).map(Some)
    }

    /// Realtime `_mget` of the commits `ids`: one entry per id, in order (`None` when missing).
    pub(crate) async fn get_commits(&self, ids: &[&str]) -> EsResult<Vec<Option<CommitDoc>>> {
        let path = format!("/{}/_mget", self.options.commits_index);
        let body = json!({"ids": ids});
        let reply = self
            .client
            .send_checked(Method::Post, &path, &[], Some(Body::Json(body)), &[])
            .await?;
        let docs = reply
            .body
            .get("docs")
            .and_then(Value::as_array)
            .ok_or_else(|| EsError::decode(&path, "no `docs` array"))?;
        if docs.len() != ids.len() {
            return Err(EsError::decode(
                &path,
                format!("{} docs for {} ids", docs.len(), ids.len()),
            ));
        }
        docs.iter()
            .map(|doc| match doc.get("found").and_then(Value::as_bool) {
                Some(true) => parse_source(doc, &path).map(Some),
                _ => Ok(None),
            })
            .collect()
    }

    /// `PUT {commits}/_create/{id}`: 201, or 409 when a commit already took that version.
    pub(crate) async fn create_commit(&self, commit: &CommitDoc) -> EsResult<Created> {
        let path = format!("/{}/_create/{}", self.options.commits_index, encode_id(&commit.id()));
        let body = serde_json::to_value(commit).map_err(|e| EsError::decode("commit", e))?;
        let reply = self
            .client
            .send_checked(Method::Put, &path, &[], Some(Body::Json(body)), &[409])
            .await?;
        Ok(if reply.status == 409 {
            Created::AlreadyExists
        } else {
            Created::Yes
        })
    }

    /// The commits of a stream ending at or after `min_to`, by version, after `search_after`
    /// (near-real-time: the caller completes the tail with [`Self::get_commit`]).
    pub(crate) async fn search_commits(
        &self,
        aggregate_id: &str,
        min_to: u64,
        search_after: Option<u64>,
        size: usize,
    ) -> EsResult<Vec<CommitDoc>> {
        let mut body = json!({
            "size": size,
            "query": {"bool": {"filter": [
                {"term": {"aggregateId": aggregate_id}},
                {"range": {"toVersion": {"gte": min_to}}}
            ]}},
            "sort": [{"fromVersion": "asc"}]
        });
        if let Some(after) = search_after {
            body["search_after"] = json!([after]);
        }
        let path = format!("/{}/_search", self.options.commits_index);
        let reply = self
            .client
            .send_checked(Method::Post, &path, &[], Some(Body::Json(body)), &[])
            .await?;
        hits(&reply.body, &path)?
            .iter()
            .map(|hit| parse_source(hit, &path))
            .collect()
    }

    /// The latest commit the search sees (near-real-time), without its events.
    pub(crate) async fn last_searchable_commit(&self, aggregate_id: &str) -> EsResult<Option<CommitDoc>> {
        let body = json!({
            "size": 1,
            "_source": {"excludes": ["events"]},
            "query": {"term": {"aggregateId": aggregate_id}},
            "sort": [{"toVersion": "desc"}]
        });
        first_source(&self.client, &self.options.commits_index, body).await
    }

    /// The stream's current version and its last commit: the searchable prefix, then realtime
    /// GETs of `{id}@{toVersion}` until one is missing.
    pub(crate) async fn tip(&self, aggregate_id: &str) -> EsResult<(u64, Option<CommitDoc>)> {
        let mut last = self.last_searchable_commit(aggregate_id).await?;
        let mut version = last.as_ref().map_or(0, |c| c.to_version);
        while let Some(next) = self.get_commit(&commit_id(aggregate_id, version)).await? {
            version = next.to_version;
            last = Some(next);
        }
        Ok((version, last))
    }
}
