//! The gap-free global position: one sequence document (`{sequence}/_doc/global`) updated with
//! `if_seq_no`/`if_primary_term`, which records the last allocated range *and the commit it
//! belongs to*, so whoever allocates the next range first finishes publishing that commit.

use std::time::Duration;

use elasticsearch::http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::http::{encode_id, Body};
use crate::{EsError, EsResult};

use super::commit::CommitDoc;
use super::EsEventStore;

/// How often the engine retries the update that marks a commit published when another writer
/// updates it at the same time.
const RETRY_ON_CONFLICT: &str = "5";

/// The id of the sequence document.
pub(crate) const SEQUENCE_ID: &str = "global";

/// The sequence document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SequenceDoc {
    /// The last allocated global position.
    pub(crate) position: u64,
    /// The commit that got the last range.
    #[serde(default)]
    pub(crate) last_commit: Option<String>,
    /// The first position of that range.
    #[serde(default)]
    pub(crate) last_from: u64,
}

/// The sequence document and its optimistic-concurrency token.
pub(crate) struct Versioned {
    pub(crate) doc: SequenceDoc,
    pub(crate) token: Option<(u64, u64)>,
}

impl EsEventStore {
    /// `GET {sequence}/_doc/global` (realtime).
    pub(crate) async fn read_sequence(&self) -> EsResult<Versioned> {
        let path = format!("/{}/_doc/{SEQUENCE_ID}", self.options.sequence_index);
        let reply = self.client.send_checked(Method::Get, &path, &[], None, &[404]).await?;
        if reply.status == 404 || reply.body.get("found") == Some(&Value::Bool(false)) {
            return Ok(Versioned {
                doc: SequenceDoc::default(),
                token: None,
            });
        }
        let doc = crate::search::parse_source(&reply.body, &path)?;
        let seq_no = reply.body.get("_seq_no").and_then(Value::as_u64);
        let term = reply.body.get("_primary_term").and_then(Value::as_u64);
        let token = seq_no
            .zip(term)
            .ok_or_else(|| EsError::decode(&path, "no `_seq_no`/`_primary_term`"))?;
        Ok(Versioned {
            doc,
            token: Some(token),
        })
    }

    /// Writes the next sequence document if nobody moved it since `token`: `true` when written,
    /// `false` on a 409.
    async fn write_sequence(&self, next: &SequenceDoc, token: Option<(u64, u64)>) -> EsResult<bool> {
        let body = Body::Json(serde_json::to_value(next).map_err(|e| EsError::decode("sequence", e))?);
        let index = &self.options.sequence_index;
        let reply = match token {
            None => {
                let path = format!("/{index}/_create/{SEQUENCE_ID}");
                self.client
                    .send_checked(Method::Put, &path, &[], Some(body), &[409])
                    .await?
            }
            Some((seq_no, term)) => {
                let path = format!("/{index}/_doc/{SEQUENCE_ID}");
                let query = [("if_seq_no", seq_no.to_string()), ("if_primary_term", term.to_string())];
                self.client
                    .send_checked(Method::Put, &path, &query, Some(body), &[409])
                    .await?
            }
        };
        Ok(reply.status != 409)
    }

    /// Gives `commit` its global positions (idempotent: a commit already sequenced keeps its
    /// range) and publishes its events. Returns the first position.
    pub(crate) async fn sequence(&self, commit: &CommitDoc) -> EsResult<u64> {
        let id = commit.id();
        let full;
        let commit = if commit.events.len() as u64 == commit.count {
            commit
        } else {
            // A commit found by search comes without its events: publish the stored one.
            full = self
                .get_commit(&id)
                .await?
                .ok_or_else(|| EsError::decode("sequence", format!("commit `{id}` vanished")))?;
            &full
        };
        let mut attempt = 0u32;
        loop {
            let current = self.read_sequence().await?;
            if current.doc.last_commit.as_deref() == Some(id.as_str()) {
                self.publish(commit, current.doc.last_from).await?;
                return Ok(current.doc.last_from);
            }
            // The commit the sequence names last, and this one, in one realtime `_mget`.
            let previous = current.doc.last_commit.as_deref();
            let ids: Vec<&str> = previous.into_iter().chain([id.as_str()]).collect();
            let mut found = self.get_commits(&ids).await?.into_iter();
            if let Some(previous) = previous {
                self.ensure_published(previous, found.next().flatten(), current.doc.last_from)
                    .await?;
            }
            // Another writer may have sequenced this commit already (appending after it).
            if let Some(position) = found.next().flatten().and_then(|c| c.position) {
                return Ok(position);
            }
            let next = SequenceDoc {
                position: current.doc.position + commit.count,
                last_commit: Some(id.clone()),
                last_from: current.doc.position + 1,
            };
            if self.write_sequence(&next, current.token).await? {
                self.publish(commit, next.last_from).await?;
                return Ok(next.last_from);
            }
            attempt += 1;
            let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0] % 8);
            tokio::time::sleep(Duration::from_millis(u64::from(attempt.min(6)) * 2 + jitter)).await;
        }
    }

    /// Publishes the commit `id` (as read: `stored`) at `from` unless it carries a position
    /// already.
    async fn ensure_published(&self, id: &str, stored: Option<CommitDoc>, from: u64) -> EsResult<()> {
        match stored {
            Some(commit) if commit.position.is_none() => self.publish(&commit, from).await,
            Some(_) => Ok(()),
            None => Err(EsError::decode(
                "sequence",
                format!("the sequence names commit `{id}`, which does not exist"),
            )),
        }
    }

    /// Indexes the commit's events with their positions (searchable when this returns), then
    /// marks the commit with its position. Both steps are idempotent.
    pub(crate) async fn publish(&self, commit: &CommitDoc, from: u64) -> EsResult<()> {
        let mut positioned = commit.clone();
        positioned.position = Some(from);
        let index = &self.options.events_index;
        let mut lines = String::new();
        for event in positioned.positioned_events() {
            let action =
                json!({"index": {"_index": index, "_id": format!("{}:{}", event.aggregate_id, event.version)}});
            let mut doc = serde_json::to_value(&event).map_err(|e| EsError::decode("event", e))?;
            doc[crate::mapping::SEARCH_TEXT] = json!(hive_domain::searchable_text(&event));
            lines.push_str(&action.to_string());
            lines.push('\n');
            lines.push_str(&doc.to_string());
            lines.push('\n');
        }
        let query = [("refresh", self.options.refresh.as_param().to_owned())];
        let reply = self
            .client
            .send_checked(Method::Post, "/_bulk", &query, Some(Body::NdJson(lines)), &[])
            .await?;
        let outcome = crate::bulk::BulkOutcome::parse(&reply.body)?;
        if let Some(error) = outcome.first_error(index) {
            return Err(error);
        }
        // Writers finishing the same commit race on this update; each sets the same position,
        // so the engine retries its read-modify-write instead of answering 409.
        let path = format!("/{}/_update/{}", self.options.commits_index, encode_id(&commit.id()));
        let body = json!({"doc": {"position": from}});
        let query = [("retry_on_conflict", RETRY_ON_CONFLICT.to_owned())];
        self.client
            .send_checked(Method::Post, &path, &query, Some(Body::Json(body)), &[])
            .await?;
        Ok(())
    }

    /// The last published global position.
    pub(crate) async fn published_head(&self) -> EsResult<u64> {
        let current = self.read_sequence().await?;
        match current.doc.last_commit.as_deref() {
            None => Ok(current.doc.position),
            Some(id) => match self.get_commit(id).await?.and_then(|c| c.position) {
                Some(_) => Ok(current.doc.position),
                None => Ok(current.doc.last_from.saturating_sub(1)),
            },
        }
    }
}
