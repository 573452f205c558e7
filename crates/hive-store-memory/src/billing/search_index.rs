//! [`MemoryPaymentSearchIndex`]: payment search documents in memory, fuzzy full text.

use std::sync::Arc;

use async_trait::async_trait;
use hive_billing::{
    BillingResult, BulkReport, PaymentKey, PaymentSearchCriteria, PaymentSearchDocument, PaymentSearchIndex,
    PaymentSearchResults, Suggestion,
};
use parking_lot::RwLock;

use super::keyed::{Keyed, Upserted};

/// A [`PaymentSearchIndex`] in memory: each document under its [`PaymentKey`]; fuzzy matching
/// (edit distance per Elasticsearch's `fuzziness: AUTO`), scoring, ordering and suggestions
/// exactly as `hive-billing`'s reference functions define them. Clones share the same data.
///
/// ```
/// use hive_billing::{PaymentKey, PaymentSearchIndex};
/// use hive_store_memory::billing::MemoryPaymentSearchIndex;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let index = MemoryPaymentSearchIndex::new();
/// assert!(index.suggest("org-1", "clo", 5).await.unwrap().is_empty());
/// assert!(!index.delete(&PaymentKey::new("org-1", "payment-1")).await.unwrap());
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryPaymentSearchIndex {
    state: Arc<RwLock<Keyed<PaymentSearchDocument>>>,
}

impl MemoryPaymentSearchIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of documents held.
    pub fn len(&self) -> usize {
        self.state.read().len()
    }

    /// True when no document is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every document, ascending by payment key (to compare indexes in tests).
    pub fn snapshot(&self) -> Vec<PaymentSearchDocument> {
        self.state.read().values().cloned().collect()
    }
}

#[async_trait]
impl PaymentSearchIndex for MemoryPaymentSearchIndex {
    async fn index(&self, documents: Vec<PaymentSearchDocument>) -> BillingResult<BulkReport> {
        let mut state = self.state.write();
        let mut report = BulkReport::default();
        for document in documents {
            match state.upsert(document) {
                (key, Upserted::Written) => report.indexed.push(key),
                (key, Upserted::Stale) => report.stale.push(key),
            }
        }
        Ok(report)
    }

    async fn delete(&self, key: &PaymentKey) -> BillingResult<bool> {
        Ok(self.state.write().remove(key).is_some())
    }

    async fn get(&self, key: &PaymentKey) -> BillingResult<Option<PaymentSearchDocument>> {
        Ok(self.state.read().get(key).cloned())
    }

    async fn list_keys(
        &self,
        organization_id: Option<&str>,
        after: Option<&PaymentKey>,
        limit: usize,
    ) -> BillingResult<Vec<PaymentKey>> {
        Ok(self.state.read().keys(organization_id, after, limit))
    }

    async fn search(&self, criteria: &PaymentSearchCriteria) -> BillingResult<PaymentSearchResults> {
        let state = self.state.read();
        Ok(criteria.search(state.of_organization(&criteria.organization_id)))
    }

    async fn suggest(&self, organization_id: &str, prefix: &str, size: usize) -> BillingResult<Vec<Suggestion>> {
        let state = self.state.read();
        Ok(Suggestion::suggest(
            state.of_organization(organization_id),
            organization_id,
            prefix,
            size,
        ))
    }

    async fn reset(&self) -> BillingResult<()> {
        self.state.write().clear();
        Ok(())
    }
}
