//! [`MemoryPaymentReadModel`]: payment views in memory, keyed by payment key and indexed by
//! organization.

use std::sync::Arc;

use async_trait::async_trait;
use hive_billing::{
    organization_order, BillingResult, DailyBucket, PaymentKey, PaymentList, PaymentReadModel, PaymentRecord,
    PaymentStatistics,
};
use hive_domain::{Page, TimeRange};
use parking_lot::RwLock;

use super::keyed::{Keyed, Upserted};

/// A [`PaymentReadModel`] in memory: each record under its [`PaymentKey`]. Clones share the
/// same data.
///
/// ```
/// use hive_billing::{PaymentKey, PaymentReadModel};
/// use hive_store_memory::billing::MemoryPaymentReadModel;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let read_model = MemoryPaymentReadModel::new();
/// assert!(read_model.get(&PaymentKey::new("org-1", "payment-1")).await.unwrap().is_none());
/// assert!(read_model.list_keys(Some("org-1"), None, 10).await.unwrap().is_empty());
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryPaymentReadModel {
    state: Arc<RwLock<Keyed<PaymentRecord>>>,
}

impl MemoryPaymentReadModel {
    /// An empty read model.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of payments held.
    pub fn len(&self) -> usize {
        self.state.read().len()
    }

    /// True when no payment is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every record, ascending by payment key (to compare read models in tests).
    pub fn snapshot(&self) -> Vec<PaymentRecord> {
        self.state.read().values().cloned().collect()
    }
}

#[async_trait]
impl PaymentReadModel for MemoryPaymentReadModel {
    async fn upsert(&self, record: PaymentRecord) -> BillingResult<bool> {
        Ok(self.state.write().upsert(record).1 == Upserted::Written)
    }

    async fn get(&self, key: &PaymentKey) -> BillingResult<Option<PaymentRecord>> {
        Ok(self.state.read().get(key).cloned())
    }

    /// Under one read lock.
    async fn get_many(&self, keys: &[&PaymentKey]) -> BillingResult<Vec<Option<PaymentRecord>>> {
        let state = self.state.read();
        Ok(keys.iter().map(|key| state.get(key).cloned()).collect())
    }

    /// Under one write lock; each record is moved into place (no copy).
    async fn upsert_many(&self, records: Vec<PaymentRecord>) -> BillingResult<usize> {
        let mut state = self.state.write();
        Ok(records
            .into_iter()
            .map(|record| usize::from(state.upsert(record).1 == Upserted::Written))
            .sum())
    }

    async fn list_by_organization(&self, organization_id: &str, page: Page) -> BillingResult<PaymentList> {
        let state = self.state.read();
        let mut payments: Vec<_> = state.of_organization(organization_id).map(|r| &r.payment).collect();
        payments.sort_by(|a, b| organization_order(a, b));
        Ok(PaymentList {
            total: payments.len() as u64,
            items: payments
                .into_iter()
                .skip(page.offset_usize())
                .take(page.limit_usize())
                .cloned()
                .collect(),
        })
    }

    async fn statistics(&self, organization_id: &str, range: TimeRange) -> BillingResult<PaymentStatistics> {
        let state = self.state.read();
        let payments = state.of_organization(organization_id).map(|r| &r.payment);
        Ok(PaymentStatistics::compute(payments, organization_id, &range))
    }

    async fn trends(&self, organization_id: &str, range: TimeRange) -> BillingResult<Vec<DailyBucket>> {
        let state = self.state.read();
        let payments = state.of_organization(organization_id).map(|r| &r.payment);
        Ok(PaymentStatistics::daily_buckets(payments, organization_id, &range))
    }

    async fn list_keys(
        &self,
        organization_id: Option<&str>,
        after: Option<&PaymentKey>,
        limit: usize,
    ) -> BillingResult<Vec<PaymentKey>> {
        Ok(self.state.read().keys(organization_id, after, limit))
    }

    async fn reset(&self) -> BillingResult<()> {
        self.state.write().clear();
        Ok(())
    }
}
