//! [`MemoryPaymentReadModel`]: payment views in memory, indexed by organization.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use async_trait::async_trait;
use hive_billing::{
    organization_order, BillingResult, DailyBucket, PaymentList, PaymentReadModel, PaymentRecord, PaymentStatistics,
};
use hive_domain::{Page, TimeRange};
use parking_lot::RwLock;

#[derive(Debug, Default)]
struct State {
    records: BTreeMap<String, PaymentRecord>,
    by_organization: HashMap<String, BTreeSet<String>>,
}

impl State {
    fn of_organization(&self, organization_id: &str) -> impl Iterator<Item = &PaymentRecord> {
        self.by_organization
            .get(organization_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.records.get(id))
    }
}

/// A [`PaymentReadModel`] in memory. Clones share the same data.
///
/// ```
/// use hive_billing::PaymentReadModel;
/// use hive_store_memory::billing::MemoryPaymentReadModel;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let read_model = MemoryPaymentReadModel::new();
/// assert!(read_model.get("payment-1").await.unwrap().is_none());
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryPaymentReadModel {
    state: Arc<RwLock<State>>,
}

impl MemoryPaymentReadModel {
    /// An empty read model.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of payments held.
    pub fn len(&self) -> usize {
        self.state.read().records.len()
    }

    /// True when no payment is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every record, by payment id (to compare read models in tests).
    pub fn snapshot(&self) -> Vec<PaymentRecord> {
        self.state.read().records.values().cloned().collect()
    }
}

#[async_trait]
impl PaymentReadModel for MemoryPaymentReadModel {
    async fn upsert(&self, record: PaymentRecord) -> BillingResult<bool> {
        let mut state = self.state.write();
        let id = record.payment.payment_id.clone();
        if let Some(stored) = state.records.get(&id) {
            if stored.position > record.position {
                return Ok(false);
            }
            let old_organization = stored.payment.organization_id.clone();
            if let Some(ids) = state.by_organization.get_mut(&old_organization) {
                ids.remove(&id);
            }
        }
        state
            .by_organization
            .entry(record.payment.organization_id.clone())
            .or_default()
            .insert(id.clone());
        state.records.insert(id, record);
        Ok(true)
    }

    async fn get(&self, payment_id: &str) -> BillingResult<Option<PaymentRecord>> {
        Ok(self.state.read().records.get(payment_id).cloned())
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

    async fn list_ids(
        &self,
        organization_id: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> BillingResult<Vec<String>> {
        let state = self.state.read();
        let lower = after.map_or(Bound::Unbounded, |a| Bound::Excluded(a.to_owned()));
        let ids: Vec<String> = match organization_id {
            Some(organization) => state
                .by_organization
                .get(organization)
                .map(|ids| ids.range((lower, Bound::Unbounded)).take(limit).cloned().collect())
                .unwrap_or_default(),
            None => state
                .records
                .range((lower, Bound::Unbounded))
                .take(limit)
                .map(|(id, _)| id.clone())
                .collect(),
        };
        Ok(ids)
    }

    async fn reset(&self) -> BillingResult<()> {
        let mut state = self.state.write();
        state.records.clear();
        state.by_organization.clear();
        Ok(())
    }
}
