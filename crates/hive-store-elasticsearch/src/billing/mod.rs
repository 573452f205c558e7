//! The Elasticsearch adapter of billing's [`PaymentSearchIndex`] (feature `billing`).

mod request;
mod response;

use std::sync::Arc;

use async_trait::async_trait;
use elasticsearch::http::Method;
use hive_billing::{
    BillingResult, BillingStoreError, BulkReport, PaymentSearchCriteria, PaymentSearchDocument, PaymentSearchIndex,
    PaymentSearchResults, Suggestion,
};
use serde_json::{json, Value};

use crate::http::{encode_id, Body, EsClient};
use crate::{BulkOp, BulkWriter, EsError, EsOptions, EsResult};

impl From<EsError> for BillingStoreError {
    fn from(error: EsError) -> Self {
        match error {
            EsError::Decode { what, reason } => BillingStoreError::Corrupt { record: what, reason },
            e if e.is_transient() => BillingStoreError::Unavailable(e.to_string()),
            e => BillingStoreError::Backend(e.to_string()),
        }
    }
}

/// The payment search index on the `payments` index (seed 004): one document per payment
/// (`_id` = payment id, the [`PaymentSearchDocument`] as `_source`), written through the
/// [`BulkWriter`] with `version_type: external_gte` on the document's global position.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use hive_billing::PaymentSearchIndex;
/// use hive_store_elasticsearch::{EsOptions, EsStore};
///
/// let store = EsStore::connect(EsOptions::new("http://localhost:9200")).await?;
/// let index = store.payment_search_index();
/// index.ensure_index().await?;
/// let suggestions = index.suggest("org-1", "clo", 5).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct EsPaymentSearchIndex {
    client: EsClient,
    options: Arc<EsOptions>,
    writer: BulkWriter,
}

impl EsPaymentSearchIndex {
    /// The index of `options.payments_index` on `client` (no request is sent).
    pub fn new(client: EsClient, options: Arc<EsOptions>) -> Self {
        let writer = BulkWriter::new(client.clone(), 500);
        Self {
            client,
            options,
            writer,
        }
    }

    /// Puts the payments template (analyzers, mapping) and creates the index unless it exists.
    pub async fn ensure_index(&self) -> EsResult<()> {
        crate::setup::ensure_payments_index(&self.client, &self.options).await
    }

    fn index_name(&self) -> &str {
        &self.options.payments_index
    }

    fn doc_path(&self, payment_id: &str) -> String {
        format!("/{}/_doc/{}", self.index_name(), encode_id(payment_id))
    }

    fn refresh(&self) -> Vec<(&'static str, String)> {
        vec![("refresh", self.options.refresh.as_param().to_owned())]
    }

    async fn search_request(&self, body: Value) -> EsResult<Value> {
        let path = format!("/{}/_search", self.index_name());
        let reply = self
            .client
            .expect(Method::Post, &path, &[], Some(Body::Json(body)), &[])
            .await?;
        Ok(reply.body)
    }
}

#[async_trait]
impl PaymentSearchIndex for EsPaymentSearchIndex {
    async fn index(&self, documents: Vec<PaymentSearchDocument>) -> BillingResult<BulkReport> {
        if documents.is_empty() {
            return Ok(BulkReport::default());
        }
        let mut ids = Vec::with_capacity(documents.len());
        let mut ops = Vec::with_capacity(documents.len());
        for document in documents {
            let doc = serde_json::to_value(&document)
                .map_err(|e| BillingStoreError::Backend(format!("cannot serialise a payment document: {e}")))?;
            ids.push(document.payment.payment_id.clone());
            ops.push(BulkOp::IndexVersioned {
                index: self.index_name().to_owned(),
                id: document.payment.payment_id,
                doc,
                version: document.position,
            });
        }
        let refresh = self.options.refresh.as_param();
        let outcome = self.writer.send(ops, Some(refresh)).await?;
        Ok(response::bulk_report(&ids, &outcome))
    }

    async fn delete(&self, payment_id: &str) -> BillingResult<bool> {
        let reply = self
            .client
            .expect(
                Method::Delete,
                &self.doc_path(payment_id),
                &self.refresh(),
                None,
                &[404],
            )
            .await?;
        Ok(reply.status != 404 && reply.body.get("result").and_then(Value::as_str) == Some("deleted"))
    }

    async fn get(&self, payment_id: &str) -> BillingResult<Option<PaymentSearchDocument>> {
        let path = self.doc_path(payment_id);
        let reply = self.client.expect(Method::Get, &path, &[], None, &[404]).await?;
        if reply.status == 404 || reply.body.get("found").and_then(Value::as_bool) != Some(true) {
            return Ok(None);
        }
        let source = reply
            .body
            .get("_source")
            .ok_or_else(|| EsError::decode(format!("GET {path}"), "no `_source`"))?;
        Ok(Some(response::document(&format!("GET {path}"), source)?))
    }

    async fn search(&self, criteria: &PaymentSearchCriteria) -> BillingResult<PaymentSearchResults> {
        let body = self.search_request(request::search_body(criteria)).await?;
        Ok(response::search_results(&body)?)
    }

    async fn suggest(&self, organization_id: &str, prefix: &str, size: usize) -> BillingResult<Vec<Suggestion>> {
        let Some(body) = request::suggest_body(organization_id, prefix) else {
            return Ok(Vec::new());
        };
        if size == 0 {
            return Ok(Vec::new());
        }
        let answer = self.search_request(body).await?;
        Ok(response::suggestions(&answer, prefix, size)?)
    }

    async fn reset(&self) -> BillingResult<()> {
        let path = format!("/{}/_delete_by_query", self.index_name());
        let query = [("conflicts", "proceed".to_owned()), ("refresh", "true".to_owned())];
        let body = json!({"query": {"match_all": {}}});
        self.client
            .expect(Method::Post, &path, &query, Some(Body::Json(body)), &[])
            .await?;
        Ok(())
    }
}
