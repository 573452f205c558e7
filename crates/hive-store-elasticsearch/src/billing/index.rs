//! [`PaymentsIndex`]: the `payments` index both billing ports work on (set-up, realtime reads,
//! versioned writes, searches, reset).

use std::sync::Arc;

use elasticsearch::http::Method;
use serde_json::{json, Value};

use hive_billing::PaymentKey;

use super::document::EsPaymentDocument;
use crate::http::{encode_id, Body, EsClient};
use crate::search::{hits, MAX_RESULT_WINDOW};
use crate::{BulkOp, BulkOutcome, BulkWriter, EsError, EsOptions, EsResult};

/// The keyword field holding a document's key text (its `_id`), sorted on by `list_keys`.
pub(crate) const KEY_FIELD: &str = "paymentKey";

/// Documents per `_bulk` request of a versioned write.
pub(crate) const BULK_BATCH: usize = 500;

/// The `payments` index of `options`, shared by the search index and the read model.
#[derive(Debug, Clone)]
pub(crate) struct PaymentsIndex {
    client: EsClient,
    options: Arc<EsOptions>,
    writer: BulkWriter,
}

impl PaymentsIndex {
    pub(crate) fn new(client: EsClient, options: Arc<EsOptions>) -> Self {
        let writer = BulkWriter::new(client.clone(), BULK_BATCH);
        Self {
            client,
            options,
            writer,
        }
    }

    pub(crate) fn client(&self) -> &EsClient {
        &self.client
    }

    pub(crate) fn name(&self) -> &str {
        &self.options.payments_index
    }

    /// `/{index}/_doc/{key}`, the key (`{organizationId}/{paymentId}`) percent-encoded.
    pub(crate) fn doc_path(&self, key: &PaymentKey) -> String {
        format!("/{}/_doc/{}", self.name(), encode_id(key.as_str()))
    }

    /// The `refresh` parameter of writes ([`crate::Refresh`] of the options).
    pub(crate) fn refresh(&self) -> Vec<(&'static str, String)> {
        vec![("refresh", self.options.refresh.as_param().to_owned())]
    }

    /// Puts the payments template (analyzers, mapping), creates the index unless it exists,
    /// and puts the mapping on the index (an index created by an earlier version gains the
    /// fields added since: `statisticsAt`, `amountMinorUnits`, `subMillisecondNanos`).
    pub(crate) async fn ensure(&self) -> EsResult<()> {
        crate::setup::ensure_payments_index(&self.client, &self.options).await?;
        let path = format!("/{}/_mapping", self.name());
        self.client
            .send_checked(
                Method::Put,
                &path,
                &[],
                Some(Body::Json(crate::mapping::payments())),
                &[],
            )
            .await?;
        Ok(())
    }

    /// Realtime `GET` of a payment's `_source` (`None` when missing).
    pub(crate) async fn get_source(&self, key: &PaymentKey) -> EsResult<Option<(String, Value)>> {
        let path = self.doc_path(key);
        let mut reply = self.client.send_checked(Method::Get, &path, &[], None, &[404]).await?;
        if reply.status == 404 || reply.body.get("found").and_then(Value::as_bool) != Some(true) {
            return Ok(None);
        }
        let what = format!("GET {path}");
        match reply.body.get_mut("_source").map(Value::take) {
            Some(source) => Ok(Some((what, source))),
            None => Err(crate::EsError::decode(what, "no `_source`")),
        }
    }

    /// Realtime `_mget` of `ids` (key texts, each at most once): the `_source` of each found
    /// document, in any order.
    pub(crate) async fn mget_sources(&self, ids: &[&str]) -> EsResult<Vec<Value>> {
        let path = format!("/{}/_mget", self.name());
        let reply = self
            .client
            .send_checked(Method::Post, &path, &[], Some(Body::Json(json!({"ids": ids}))), &[])
            .await?;
        let what = format!("POST {path}");
        let docs = reply
            .body
            .get("docs")
            .and_then(Value::as_array)
            .ok_or_else(|| crate::EsError::decode(&what, "no `docs`"))?;
        let mut sources = Vec::with_capacity(docs.len());
        for doc in docs {
            if let Some(error) = doc.get("error") {
                return Err(crate::EsError::decode(&what, format!("a document failed: {error}")));
            }
            if doc.get("found").and_then(Value::as_bool) == Some(true) {
                let source = doc
                    .get("_source")
                    .ok_or_else(|| crate::EsError::decode(&what, "a found document without `_source`"))?;
                sources.push(source.clone());
            }
        }
        Ok(sources)
    }

    /// Indexes `documents` in order with `version = position, version_type = external_gte`
    /// (a document whose stored position is greater is answered 409 and left as it is),
    /// refreshing per the options; one `_bulk` per [`BULK_BATCH`] documents. Every item's
    /// outcome, in order.
    pub(crate) async fn write(&self, documents: &[EsPaymentDocument]) -> EsResult<BulkOutcome> {
        let mut outcome = BulkOutcome::default();
        let refresh = self.options.refresh.as_param();
        for chunk in documents.chunks(BULK_BATCH) {
            let ops = chunk
                .iter()
                .map(|document| {
                    Ok(BulkOp::IndexVersioned {
                        index: self.name().to_owned(),
                        id: document.id().to_owned(),
                        doc: document.to_source()?,
                        version: document.position(),
                    })
                })
                .collect::<EsResult<Vec<_>>>()?;
            outcome.items.extend(self.writer.send(ops, Some(refresh)).await?.items);
        }
        Ok(outcome)
    }

    /// Writes one document as [`write`](Self::write) does, with one `PUT _doc`: whether it was
    /// written (`false`: the stored position is greater).
    pub(crate) async fn write_one(&self, document: &EsPaymentDocument) -> EsResult<bool> {
        let mut query = self.refresh();
        query.push(("version", document.position().to_string()));
        query.push(("version_type", "external_gte".to_owned()));
        let reply = self
            .client
            .send_checked(
                Method::Put,
                &format!("/{}/_doc/{}", self.name(), encode_id(document.id())),
                &query,
                Some(Body::Json(document.to_source()?)),
                &[409],
            )
            .await?;
        Ok(reply.status != 409)
    }

    /// Up to `limit` keys of stored documents greater than `after`, ascending (of
    /// `organization_id` only, when given): `_source: false`, sorted on the `paymentKey`
    /// keyword (byte order, the order of [`PaymentKey`]), pages of up to
    /// [`MAX_RESULT_WINDOW`] walked with `search_after`, each `_id` parsed back as a key.
    pub(crate) async fn list_keys(
        &self,
        organization_id: Option<&str>,
        after: Option<&PaymentKey>,
        limit: usize,
    ) -> EsResult<Vec<PaymentKey>> {
        let what = format!("POST /{}/_search (list_keys)", self.name());
        let query = match organization_id {
            Some(organization) => json!({"bool": {"filter": [{"term": {"organizationId": organization}}]}}),
            None => json!({"match_all": {}}),
        };
        let mut keys: Vec<PaymentKey> = Vec::with_capacity(limit.min(MAX_RESULT_WINDOW as usize));
        let mut after = after.map(|key| json!([key.as_str()]));
        while keys.len() < limit {
            let size = (limit - keys.len()).min(MAX_RESULT_WINDOW as usize);
            let mut body = json!({
                "_source": false,
                "query": query,
                "sort": [{KEY_FIELD: "asc"}],
                "size": size,
                "track_total_hits": false
            });
            if let Some(after) = after.take() {
                body["search_after"] = after;
            }
            let answer = self.search(body).await?;
            let found = hits(&answer, &what)?;
            for hit in found {
                let id = hit
                    .get("_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| EsError::decode(&what, "a hit without `_id`"))?;
                let key = id
                    .parse::<PaymentKey>()
                    .map_err(|e| EsError::decode(&what, format!("document `{id}`: {e}")))?;
                keys.push(key);
            }
            if found.len() < size {
                break;
            }
            after = keys.last().map(|last| json!([last.as_str()]));
        }
        Ok(keys)
    }

    /// `POST {index}/_search` with `body`.
    pub(crate) async fn search(&self, body: Value) -> EsResult<Value> {
        let path = format!("/{}/_search", self.name());
        let reply = self
            .client
            .send_checked(Method::Post, &path, &[], Some(Body::Json(body)), &[])
            .await?;
        Ok(reply.body)
    }

    /// Empties the index: deletes it and creates it again from its template.
    ///
    /// Not a `_delete_by_query`: a deleted document leaves a version tombstone (its version
    /// plus one) for `index.gc_deletes` (60 s), and the rebuild that follows a reset writes the
    /// same payments at the same positions, which `external_gte` would then refuse as stale
    /// — the rebuilt index would stay empty for a minute. A new index has no tombstones.
    pub(crate) async fn reset(&self) -> EsResult<()> {
        let path = format!("/{}", self.name());
        self.client
            .send_checked(Method::Delete, &path, &[], None, &[404])
            .await?;
        self.ensure().await
    }
}
