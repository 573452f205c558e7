//! The bulk writer (seed 004, done right): buffered index / update (`doc_as_upsert`) / delete
//! operations flushed by size and by interval, retried with backoff on 429/503, and every
//! item's outcome reported — a failed item is never only logged.

use std::sync::Arc;
use std::time::Duration;

use elasticsearch::http::Method;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::http::{is_mapping_error, Body, EsClient};
use crate::{EsError, EsResult};

/// One buffered operation.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkOp {
    /// Index (create or replace) a document.
    Index {
        /// The index.
        index: String,
        /// The document id.
        id: String,
        /// The document.
        doc: Value,
    },
    /// Index a document unless the stored one has a greater version (`version_type:
    /// external_gte`; the item then fails with 409 `version_conflict_engine_exception`).
    IndexVersioned {
        /// The index.
        index: String,
        /// The document id.
        id: String,
        /// The document.
        doc: Value,
        /// The external version (e.g. a global position).
        version: u64,
    },
    /// Partial update, inserting the document when missing (`doc_as_upsert`).
    Upsert {
        /// The index.
        index: String,
        /// The document id.
        id: String,
        /// The fields to set.
        doc: Value,
    },
    /// Delete a document.
    Delete {
        /// The index.
        index: String,
        /// The document id.
        id: String,
    },
}

impl BulkOp {
    fn write_to(&self, out: &mut String) {
        let (action, source) = match self {
            BulkOp::Index { index, id, doc } => (json!({"index": {"_index": index, "_id": id}}), Some(doc.clone())),
            BulkOp::IndexVersioned {
                index,
                id,
                doc,
                version,
            } => (
                json!({"index": {"_index": index, "_id": id, "version": version, "version_type": "external_gte"}}),
                Some(doc.clone()),
            ),
            BulkOp::Upsert { index, id, doc } => (
                json!({"update": {"_index": index, "_id": id}}),
                Some(json!({"doc": doc, "doc_as_upsert": true})),
            ),
            BulkOp::Delete { index, id } => (json!({"delete": {"_index": index, "_id": id}}), None),
        };
        out.push_str(&action.to_string());
        out.push('\n');
        if let Some(source) = source {
            out.push_str(&source.to_string());
            out.push('\n');
        }
    }
}

/// The outcome of one item of a bulk request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkItem {
    /// `index`, `create`, `update` or `delete`.
    pub action: String,
    /// The index.
    pub index: String,
    /// The document id.
    pub id: String,
    /// The item's HTTP status.
    pub status: u16,
    /// `created`, `updated`, `deleted`, `not_found`, `noop` (successes).
    pub result: Option<String>,
    /// The error type and reason (failures).
    pub error: Option<(String, String)>,
}

impl BulkItem {
    /// Whether the item failed (a delete of a missing document is not a failure).
    pub fn is_failure(&self) -> bool {
        self.error.is_some()
    }

    /// The item's failure as a typed error.
    pub fn to_error(&self) -> Option<EsError> {
        let (kind, reason) = self.error.clone()?;
        Some(match self.status {
            429 => EsError::TooManyRequests { kind, reason },
            503 => EsError::Unavailable { kind, reason },
            _ if is_mapping_error(&kind, &reason) => EsError::MappingConflict {
                index: self.index.clone(),
                kind,
                reason,
            },
            status => EsError::Status {
                status,
                method: format!("bulk {}", self.action),
                path: format!("/{}/_doc/{}", self.index, self.id),
                kind,
                reason,
            },
        })
    }
}

/// Every item of a bulk answer, in request order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkOutcome {
    /// The items.
    pub items: Vec<BulkItem>,
}

impl BulkOutcome {
    /// Parses a `_bulk` answer (`errors` is not trusted alone: each item is read).
    pub fn parse(body: &Value) -> EsResult<Self> {
        let items = body
            .get("items")
            .and_then(Value::as_array)
            .ok_or_else(|| EsError::decode("POST /_bulk", "no `items` array"))?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let (action, detail) = item
                .as_object()
                .and_then(|o| o.iter().next())
                .ok_or_else(|| EsError::decode("POST /_bulk", "an empty item"))?;
            let text = |key: &str| detail.get(key).and_then(Value::as_str).map(str::to_owned);
            let error = detail.get("error").map(|e| {
                let kind = e.get("type").and_then(Value::as_str).unwrap_or("unknown").to_owned();
                let reason = e.get("reason").and_then(Value::as_str).unwrap_or_default().to_owned();
                (kind, reason)
            });
            out.push(BulkItem {
                action: action.clone(),
                index: text("_index").unwrap_or_default(),
                id: text("_id").unwrap_or_default(),
                status: detail
                    .get("status")
                    .and_then(Value::as_u64)
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or(0),
                result: text("result"),
                error,
            });
        }
        Ok(Self { items: out })
    }

    /// The failed items.
    pub fn failures(&self) -> impl Iterator<Item = &BulkItem> {
        self.items.iter().filter(|i| i.is_failure())
    }

    /// The first failure, as a typed error naming `what`.
    pub(crate) fn first_error(&self, _what: &str) -> Option<EsError> {
        self.failures().next().and_then(BulkItem::to_error)
    }
}

/// Buffers operations and sends them as `_bulk` requests.
///
/// ```no_run
/// # async fn demo() -> Result<(), hive_store_elasticsearch::EsError> {
/// use hive_store_elasticsearch::{BulkOp, BulkWriter, EsClient};
/// let client = EsClient::new("http://localhost:9200", std::time::Duration::from_secs(30))?;
/// let writer = BulkWriter::new(client, 500);
/// writer.push(BulkOp::Delete { index: "payments".into(), id: "pay-1".into() }).await?;
/// let outcome = writer.flush().await?;
/// for failed in outcome.failures() {
///     eprintln!("{} {}: {:?}", failed.action, failed.id, failed.error);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BulkWriter {
    client: EsClient,
    buffer: Arc<Mutex<Vec<BulkOp>>>,
    max_ops: usize,
    max_retries: u32,
    backoff: Duration,
}

impl BulkWriter {
    /// A writer flushing every `max_ops` operations.
    pub fn new(client: EsClient, max_ops: usize) -> Self {
        Self {
            client,
            buffer: Arc::new(Mutex::new(Vec::new())),
            max_ops: max_ops.max(1),
            max_retries: 5,
            backoff: Duration::from_millis(100),
        }
    }

    /// Sets the retries on 429/503 and the first backoff (doubled each time).
    #[must_use]
    pub fn with_retries(mut self, max_retries: u32, backoff: Duration) -> Self {
        self.max_retries = max_retries;
        self.backoff = backoff;
        self
    }

    /// Buffers an operation; flushes (and returns the outcome) when the buffer is full.
    pub async fn push(&self, op: BulkOp) -> EsResult<Option<BulkOutcome>> {
        let full = {
            let mut buffer = self.buffer.lock().await;
            buffer.push(op);
            buffer.len() >= self.max_ops
        };
        if full {
            return self.flush().await.map(Some);
        }
        Ok(None)
    }

    /// Sends what is buffered (nothing to send: an empty outcome).
    pub async fn flush(&self) -> EsResult<BulkOutcome> {
        let ops = std::mem::take(&mut *self.buffer.lock().await);
        self.send(ops, None).await
    }

    /// Sends `ops` now, retrying the request on 429/503 and the items rejected with 429.
    pub async fn send(&self, ops: Vec<BulkOp>, refresh: Option<&str>) -> EsResult<BulkOutcome> {
        let mut pending: Vec<(usize, BulkOp)> = ops.into_iter().enumerate().collect();
        let mut done: Vec<Option<BulkItem>> = vec![None; pending.len()];
        let mut attempt = 0;
        while !pending.is_empty() {
            let mut lines = String::new();
            pending.iter().for_each(|(_, op)| op.write_to(&mut lines));
            let query: Vec<(&str, String)> = refresh.map(|r| ("refresh", r.to_owned())).into_iter().collect();
            let result = self
                .client
                .send_checked(Method::Post, "/_bulk", &query, Some(Body::NdJson(lines)), &[])
                .await;
            let outcome = match result {
                Ok(reply) => BulkOutcome::parse(&reply.body)?,
                Err(e) if e.is_transient() && attempt < self.max_retries => {
                    attempt += 1;
                    tokio::time::sleep(self.backoff * 2u32.pow(attempt - 1)).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut retry = Vec::new();
            for ((slot, op), item) in pending.into_iter().zip(outcome.items) {
                if item.status == 429 && attempt < self.max_retries {
                    retry.push((slot, op));
                } else if let Some(cell) = done.get_mut(slot) {
                    *cell = Some(item);
                }
            }
            pending = retry;
            if !pending.is_empty() {
                attempt += 1;
                tokio::time::sleep(self.backoff * 2u32.pow(attempt - 1)).await;
            }
        }
        Ok(BulkOutcome {
            items: done.into_iter().flatten().collect(),
        })
    }

    /// Flushes every `every` until the returned task is aborted; each outcome goes to `report`.
    pub fn spawn_interval_flush(
        &self,
        every: Duration,
        report: impl Fn(EsResult<BulkOutcome>) + Send + Sync + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let writer = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            loop {
                ticker.tick().await;
                if writer.buffer.lock().await.is_empty() {
                    continue;
                }
                report(writer.flush().await);
            }
        })
    }

    /// Creates an index with a mapping (`PUT /{index}`); an existing index is fine.
    pub async fn create_index(&self, index: &str, mappings: Value) -> EsResult<()> {
        let body = json!({"mappings": mappings});
        let reply = self
            .client
            .send(Method::Put, &format!("/{index}"), &[], Some(Body::Json(body)))
            .await?;
        match reply.status {
            200..=299 => Ok(()),
            400 if reply.error_type() == "resource_already_exists_exception" => Ok(()),
            _ => Err(crate::http::status_error("PUT", &format!("/{index}"), &reply)),
        }
    }

    /// Deletes an index (`DELETE /{index}`); a missing index is fine.
    pub async fn delete_index(&self, index: &str) -> EsResult<()> {
        self.client
            .send_checked(Method::Delete, &format!("/{index}"), &[], None, &[404])
            .await
            .map(|_| ())
    }

    /// `POST /{index}/_refresh`: makes every write searchable.
    pub async fn refresh(&self, index: &str) -> EsResult<()> {
        self.client
            .send_checked(Method::Post, &format!("/{index}/_refresh"), &[], None, &[])
            .await
            .map(|_| ())
    }
}
