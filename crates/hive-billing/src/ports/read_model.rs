//! The `PaymentReadModel` port: the payment read model repository.

use std::cmp::Ordering;

use async_trait::async_trait;
use hive_domain::{Page, TimeRange};
use serde::{Deserialize, Serialize};

use crate::{BillingResult, DailyBucket, PaymentKey, PaymentStatistics, PaymentView};

/// A stored read-model entry: the view and the global position of the last event applied to
/// it (what makes the projection idempotent: an event at or below it is skipped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRecord {
    /// The payment as clients see it.
    pub payment: PaymentView,
    /// Global position of the last event applied.
    pub position: u64,
}

/// One page of payments and the number of all matches.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PaymentList {
    /// The page.
    pub items: Vec<PaymentView>,
    /// All matches.
    pub total: u64,
}

/// The order of [`PaymentReadModel::list_by_organization`]: `processedAt` descending, payments
/// never processed (pending, failed) last, then `paymentId` ascending. This is MongoDB's
/// `{processedAt: -1, paymentId: 1}` (a missing field sorts lowest, so last when descending)
/// and Elasticsearch's `[{processedAt: {order: desc, missing: _last}}, {paymentId: asc}]`.
pub fn organization_order(a: &PaymentView, b: &PaymentView) -> Ordering {
    match (a.processed_at, b.processed_at) {
        (Some(x), Some(y)) => y.cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
    .then_with(|| a.payment_id.cmp(&b.payment_id))
}

/// Where payment views are kept and how they are read.
///
/// Every method is scoped by what it is given; the query handlers pass the caller's
/// organization. Every adapter reproduces the semantics documented on each method (the
/// `hive-testkit` billing suite checks them against the reference functions of this crate).
#[async_trait]
pub trait PaymentReadModel: Send + Sync {
    /// Stores `record` under its [`PaymentKey`] (`PaymentKey::of_view`) unless the stored
    /// record of that payment has a greater `position`
    /// (equal positions overwrite: re-applying is harmless). Returns whether it was written.
    async fn upsert(&self, record: PaymentRecord) -> BillingResult<bool>;

    /// The record of a payment.
    async fn get(&self, key: &PaymentKey) -> BillingResult<Option<PaymentRecord>>;

    /// The records of several payments at once: one entry per key, in the order of `keys`
    /// (`None` for an unknown payment; a key given twice is answered twice).
    ///
    /// The default calls [`get`](Self::get) for each key; adapters override it with one read.
    async fn get_many(&self, keys: &[&PaymentKey]) -> BillingResult<Vec<Option<PaymentRecord>>> {
        let mut records = Vec::with_capacity(keys.len());
        for key in keys {
            records.push(self.get(key).await?);
        }
        Ok(records)
    }

    /// Stores each record as [`upsert`](Self::upsert) does, in order (a record is not written
    /// when the stored record of that payment has a greater `position`); returns how many were
    /// written. On an error, the records before the failing one may have been written.
    ///
    /// The default calls [`upsert`](Self::upsert) for each record; adapters override it with
    /// one write.
    async fn upsert_many(&self, records: Vec<PaymentRecord>) -> BillingResult<usize> {
        let mut written = 0;
        for record in records {
            if self.upsert(record).await? {
                written += 1;
            }
        }
        Ok(written)
    }

    /// The organization's payments in [`organization_order`], one page, and their total.
    async fn list_by_organization(&self, organization_id: &str, page: Page) -> BillingResult<PaymentList>;

    /// Statistics of the organization's payments whose [`PaymentView::statistics_at`] lies in
    /// `range` (half-open), as [`PaymentStatistics::compute`] defines them.
    async fn statistics(&self, organization_id: &str, range: TimeRange) -> BillingResult<PaymentStatistics>;

    /// Daily buckets of the same payments, as [`PaymentStatistics::daily_buckets`] defines them.
    async fn trends(&self, organization_id: &str, range: TimeRange) -> BillingResult<Vec<DailyBucket>>;

    /// Up to `limit` payment keys greater than `after`, ascending (all organizations when
    /// `organization_id` is `None`): keyset paging for synchronisation.
    async fn list_keys(
        &self,
        organization_id: Option<&str>,
        after: Option<&PaymentKey>,
        limit: usize,
    ) -> BillingResult<Vec<PaymentKey>>;

    /// Deletes every record (before a rebuild).
    async fn reset(&self) -> BillingResult<()>;
}
