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
    /// Stores `record` unless the stored record of that payment has a greater position;
    /// whether it was written. Moves the payment between organizations only when it changed.
    fn upsert(&mut self, record: PaymentRecord) -> bool {
        match self.records.get_mut(&record.payment.payment_id) {
            Some(stored) if stored.position > record.position => false,
            Some(stored) => {
                if stored.payment.organization_id != record.payment.organization_id {
                    let id = &record.payment.payment_id;
                    if let Some(ids) = self.by_organization.get_mut(&stored.payment.organization_id) {
                        ids.remove(id);
                    }
                    self.by_organization
                        .entry(record.payment.organization_id.clone())
                        .or_default()
                        .insert(id.clone());
                }
                *stored = record;
                true
            }
            None => {
                let id = record.payment.payment_id.clone();
                match self.by_organization.get_mut(&record.payment.organization_id) {
                    Some(ids) => {
                        ids.insert(id.clone());
                    }
                    None => {
                        self.by_organization
                            .insert(record.payment.organization_id.clone(), BTreeSet::from([id.clone()]));
                    }
                }
                self.records.insert(id, record);
                true
            }
        }
    }

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
        Ok(self.state.write().upsert(record))
    }

    async fn get(&self, payment_id: &str) -> BillingResult<Option<PaymentRecord>> {
        Ok(self.state.read().records.get(payment_id).cloned())
    }

    /// Under one read lock.
    async fn get_many(&self, ids: &[&str]) -> BillingResult<Vec<Option<PaymentRecord>>> {
        let state = self.state.read();
        Ok(ids.iter().map(|id| state.records.get(*id).cloned()).collect())
    }

    /// Under one write lock; each record is moved into place (no copy).
    async fn upsert_many(&self, records: Vec<PaymentRecord>) -> BillingResult<usize> {
        let mut state = self.state.write();
        Ok(records
            .into_iter()
            .map(|record| usize::from(state.upsert(record)))
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
