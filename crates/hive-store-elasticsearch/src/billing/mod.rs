//! The Elasticsearch adapters of billing's [`PaymentSearchIndex`] and
//! [`PaymentReadModel`](hive_billing::PaymentReadModel) (feature `billing`), both on the
//! `payments` index and its one [`EsPaymentDocument`] per payment.

mod aggregations;
mod document;
mod index;
mod read_model;
mod request;
mod response;

use std::sync::Arc;

use async_trait::async_trait;
use hive_billing::{
    BillingResult, BillingStoreError, BulkReport, PaymentKey, PaymentSearchCriteria, PaymentSearchDocument,
    PaymentSearchIndex, PaymentSearchResults, Suggestion,
};
use serde_json::Value;

pub use document::{EsPaymentDocument, SubMillisecondNanos};
use index::PaymentsIndex;
pub use read_model::EsPaymentReadModel;

use crate::http::EsClient;
use crate::{EsError, EsOptions, EsResult};

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
/// (`_id` = its [`PaymentKey`], `{organizationId}/{paymentId}`, so two organizations' `pay-1`
/// never collide; the [`EsPaymentDocument`] of its [`PaymentSearchDocument`] as `_source`), written through the [`BulkWriter`](crate::BulkWriter) with `version_type:
/// external_gte` on the document's global position. The [`EsPaymentReadModel`] of the same
/// options writes the same documents to the same index.
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
    index: PaymentsIndex,
}

impl EsPaymentSearchIndex {
    /// The index of `options.payments_index` on `client` (no request is sent).
    pub fn new(client: EsClient, options: Arc<EsOptions>) -> Self {
        Self {
            index: PaymentsIndex::new(client, options),
        }
    }

    /// Puts the payments template (analyzers, mapping), creates the index unless it exists,
    /// and puts the mapping on it (an existing index gains the fields added since it was
    /// created).
    pub async fn ensure_index(&self) -> EsResult<()> {
        self.index.ensure().await
    }
}

#[async_trait]
impl PaymentSearchIndex for EsPaymentSearchIndex {
    /// One `_bulk` per 500 documents, each an [`EsPaymentDocument`] indexed with
    /// `version = position, version_type = external_gte`.
    async fn index(&self, documents: Vec<PaymentSearchDocument>) -> BillingResult<BulkReport> {
        if documents.is_empty() {
            return Ok(BulkReport::default());
        }
        let documents: Vec<EsPaymentDocument> = documents.into_iter().map(EsPaymentDocument::new).collect();
        let keys: Vec<PaymentKey> = documents.iter().map(EsPaymentDocument::key).collect();
        let outcome = self.index.write(&documents).await?;
        Ok(response::bulk_report(&keys, &outcome))
    }

    /// Deletes at the document's own external version (its position): a plain delete would
    /// leave a tombstone one version higher, and the document could not be written back at
    /// its position (a `search sync` after a delete reported it stale). A document replaced by
    /// a newer one between the read and the delete is kept (`false`).
    async fn delete(&self, key: &PaymentKey) -> BillingResult<bool> {
        let path = self.index.doc_path(key);
        let client = self.index.client();
        let found = client
            .send_checked(elasticsearch::http::Method::Get, &path, &[], None, &[404])
            .await?;
        let version = found.body.get("_version").and_then(Value::as_u64);
        let Some(version) = version.filter(|_| found.body.get("found").and_then(Value::as_bool) == Some(true)) else {
            return Ok(false);
        };
        let mut params = self.index.refresh();
        params.push(("version", version.to_string()));
        params.push(("version_type", "external_gte".to_owned()));
        let reply = client
            .send_checked(elasticsearch::http::Method::Delete, &path, &params, None, &[404, 409])
            .await?;
        Ok(reply.status < 300 && reply.body.get("result").and_then(Value::as_str) == Some("deleted"))
    }

    async fn get(&self, key: &PaymentKey) -> BillingResult<Option<PaymentSearchDocument>> {
        match self.index.get_source(key).await? {
            Some((what, source)) => Ok(Some(document::search_document(&what, &source)?)),
            None => Ok(None),
        }
    }

    /// Sorted on the `paymentKey` keyword, paged with `search_after` (see
    /// [`EsPaymentReadModel`]'s `list_keys`: the same documents).
    async fn list_keys(
        &self,
        organization_id: Option<&str>,
        after: Option<&PaymentKey>,
        limit: usize,
    ) -> BillingResult<Vec<PaymentKey>> {
        Ok(self.index.list_keys(organization_id, after, limit).await?)
    }

    async fn search(&self, criteria: &PaymentSearchCriteria) -> BillingResult<PaymentSearchResults> {
        let body = self.index.search(request::search_body(criteria)).await?;
        Ok(response::search_results(&body)?)
    }

    async fn suggest(&self, organization_id: &str, prefix: &str, size: usize) -> BillingResult<Vec<Suggestion>> {
        let Some(body) = request::suggest_body(organization_id, prefix) else {
            return Ok(Vec::new());
        };
        if size == 0 {
            return Ok(Vec::new());
        }
        let answer = self.index.search(body).await?;
        Ok(response::suggestions(&answer, prefix, size)?)
    }

    /// Deletes the index and creates it again (see [`EsPaymentReadModel`]'s `reset`: a
    /// `_delete_by_query` would leave version tombstones that refuse the rebuild's writes).
    /// The read model on the same index is emptied too.
    async fn reset(&self) -> BillingResult<()> {
        Ok(self.index.reset().await?)
    }
}
