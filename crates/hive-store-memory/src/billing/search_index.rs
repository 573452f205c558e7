//! [`MemoryPaymentSearchIndex`]: payment search documents in memory, fuzzy full text.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use hive_billing::{
    BillingResult, BulkReport, PaymentSearchCriteria, PaymentSearchDocument, PaymentSearchIndex, PaymentSearchResults,
    Suggestion,
};
use parking_lot::RwLock;

#[derive(Debug, Default)]
struct State {
    documents: HashMap<String, PaymentSearchDocument>,
    by_organization: HashMap<String, BTreeSet<String>>,
}

impl State {
    fn of_organization(&self, organization_id: &str) -> impl Iterator<Item = &PaymentSearchDocument> {
        self.by_organization
            .get(organization_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.documents.get(id))
    }
}

/// A [`PaymentSearchIndex`] in memory: fuzzy matching (edit distance per Elasticsearch's
/// `fuzziness: AUTO`), scoring, ordering and suggestions exactly as `hive-billing`'s reference
/// functions define them. Clones share the same data.
///
/// ```
/// use hive_billing::PaymentSearchIndex;
/// use hive_store_memory::billing::MemoryPaymentSearchIndex;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let index = MemoryPaymentSearchIndex::new();
/// assert!(index.suggest("org-1", "clo", 5).await.unwrap().is_empty());
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryPaymentSearchIndex {
    state: Arc<RwLock<State>>,
}

impl MemoryPaymentSearchIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of documents held.
    pub fn len(&self) -> usize {
        self.state.read().documents.len()
    }

    /// True when no document is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every document, by payment id (to compare indexes in tests).
    pub fn snapshot(&self) -> Vec<PaymentSearchDocument> {
        let state = self.state.read();
        let mut documents: Vec<_> = state.documents.values().cloned().collect();
        documents.sort_by(|a, b| a.payment.payment_id.cmp(&b.payment.payment_id));
        documents
    }
}

#[async_trait]
impl PaymentSearchIndex for MemoryPaymentSearchIndex {
    async fn index(&self, documents: Vec<PaymentSearchDocument>) -> BillingResult<BulkReport> {
        let mut state = self.state.write();
        let mut report = BulkReport::default();
        for document in documents {
            let id = document.payment.payment_id.clone();
            if let Some(stored) = state.documents.get(&id) {
                if stored.position > document.position {
                    report.stale.push(id);
                    continue;
                }
                let old_organization = stored.payment.organization_id.clone();
                if let Some(ids) = state.by_organization.get_mut(&old_organization) {
                    ids.remove(&id);
                }
            }
            state
                .by_organization
                .entry(document.payment.organization_id.clone())
                .or_default()
                .insert(id.clone());
            state.documents.insert(id.clone(), document);
            report.indexed.push(id);
        }
        Ok(report)
    }

    async fn delete(&self, payment_id: &str) -> BillingResult<bool> {
        let mut state = self.state.write();
        let Some(removed) = state.documents.remove(payment_id) else {
            return Ok(false);
        };
        if let Some(ids) = state.by_organization.get_mut(&removed.payment.organization_id) {
            ids.remove(payment_id);
        }
        Ok(true)
    }

    async fn get(&self, payment_id: &str) -> BillingResult<Option<PaymentSearchDocument>> {
        Ok(self.state.read().documents.get(payment_id).cloned())
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
        let mut state = self.state.write();
        state.documents.clear();
        state.by_organization.clear();
        Ok(())
    }
}
