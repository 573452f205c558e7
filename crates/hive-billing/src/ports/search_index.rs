//! The `PaymentSearchIndex` port: full-text search over payments.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{
    BillingResult, PaymentKey, PaymentSearchCriteria, PaymentSearchDocument, PaymentSearchResults, Suggestion,
};

/// One document a bulk write could not store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkFailure {
    /// The payment.
    pub key: PaymentKey,
    /// Why.
    pub reason: String,
}

/// The per-item outcome of a bulk write (nothing is only logged: every failure is reported).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkReport {
    /// Written.
    pub indexed: Vec<PaymentKey>,
    /// Not written because the index holds a document with a greater position.
    pub stale: Vec<PaymentKey>,
    /// Not written because of an error.
    pub failed: Vec<BulkFailure>,
}

impl BulkReport {
    /// True when no item failed.
    pub fn is_success(&self) -> bool {
        self.failed.is_empty()
    }
}

/// The payment search index (Elasticsearch in production).
///
/// Matching, scoring, ordering and suggestions follow the reference functions of
/// [`PaymentSearchCriteria`] and [`Suggestion`]; the `hive-testkit` billing suite checks them.
#[async_trait]
pub trait PaymentSearchIndex: Send + Sync {
    /// Writes every document (under its payment's [`PaymentKey`]) unless the index holds one
    /// of that payment with a greater `position` (then it is `stale`); reports each item.
    async fn index(&self, documents: Vec<PaymentSearchDocument>) -> BillingResult<BulkReport>;

    /// Removes a payment's document; returns whether there was one.
    async fn delete(&self, key: &PaymentKey) -> BillingResult<bool>;

    /// A payment's document.
    async fn get(&self, key: &PaymentKey) -> BillingResult<Option<PaymentSearchDocument>>;

    /// Up to `limit` keys of indexed documents greater than `after`, ascending (all
    /// organizations when `organization_id` is `None`): how verification finds documents that
    /// only the index holds.
    async fn list_keys(
        &self,
        organization_id: Option<&str>,
        after: Option<&PaymentKey>,
        limit: usize,
    ) -> BillingResult<Vec<PaymentKey>>;

    /// The matches of `criteria` (see [`PaymentSearchCriteria::search`]).
    async fn search(&self, criteria: &PaymentSearchCriteria) -> BillingResult<PaymentSearchResults>;

    /// Up to `size` completions of `prefix` among the organization's descriptions
    /// (see [`Suggestion::suggest`]).
    async fn suggest(&self, organization_id: &str, prefix: &str, size: usize) -> BillingResult<Vec<Suggestion>>;

    /// Deletes every document (before a rebuild).
    async fn reset(&self) -> BillingResult<()>;
}
