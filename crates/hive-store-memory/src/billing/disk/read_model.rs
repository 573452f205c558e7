//! [`DiskPaymentReadModel`]: the payment read model in the views file.

use async_trait::async_trait;
use hive_billing::{
    organization_order, BillingResult, DailyBucket, PaymentKey, PaymentList, PaymentReadModel, PaymentRecord,
    PaymentStatistics, PaymentView,
};
use hive_domain::{Checkpoint, EventStoreError, Page, TimeRange};

use super::tables::READ_MODEL;
use super::{DiskView, PaymentViewsFile};
use crate::billing::keyed::Upserted;

/// A [`PaymentReadModel`] in a [`PaymentViewsFile`], with the semantics of
/// [`MemoryPaymentReadModel`](crate::billing::MemoryPaymentReadModel): each record under its
/// [`PaymentKey`], a greater stored position wins (equal positions overwrite), keys ascending
/// by their text. Listing, statistics and trends decode the organization's records and apply
/// `hive-billing`'s reference functions to them. Clones share the file.
///
/// Writes commit without syncing; [`DiskView::save_checkpoint`] makes them durable.
///
/// ```
/// use chrono::Utc;
/// use hive_billing::{PaymentKey, PaymentReadModel, PaymentRecord};
/// use hive_domain::Checkpoint;
/// use hive_store_memory::billing::disk::{DiskView, PaymentViewsFile};
/// use hive_testkit::billing::pending_payment;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("payments.views");
/// let read_model = PaymentViewsFile::open(&path, 8 << 20).await?.read_model();
/// let payment = pending_payment("org-1", "pay-1", Utc::now());
/// assert!(read_model.upsert(PaymentRecord { payment, position: 3 }).await?);
/// read_model.save_checkpoint(&Checkpoint::new("payments", 3, None)).await?;
/// drop(read_model);
///
/// let read_model = PaymentViewsFile::open(&path, 8 << 20).await?.read_model();
/// assert_eq!(read_model.checkpoint().await?.map(|c| c.position), Some(3));
/// let key = PaymentKey::new("org-1", "pay-1");
/// assert_eq!(read_model.get(&key).await?.map(|r| r.position), Some(3));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct DiskPaymentReadModel {
    file: PaymentViewsFile,
}

impl DiskPaymentReadModel {
    pub(super) fn new(file: PaymentViewsFile) -> Self {
        Self { file }
    }

    /// `answer` over the organization's payments (ascending by key), all on a blocking thread.
    async fn over_organization<T: Send + 'static>(
        &self,
        organization_id: &str,
        answer: impl FnOnce(&str, Vec<PaymentView>) -> T + Send + 'static,
    ) -> Result<T, EventStoreError> {
        let organization = organization_id.to_owned();
        self.file
            .run(move |db| {
                let records = READ_MODEL.of_organization(db, &organization)?;
                Ok(answer(
                    &organization,
                    records.into_iter().map(|(view, _)| view).collect(),
                ))
            })
            .await
    }
}

fn record((payment, position): (PaymentView, u64)) -> PaymentRecord {
    PaymentRecord { payment, position }
}

#[async_trait]
impl DiskView for DiskPaymentReadModel {
    async fn checkpoint(&self) -> Result<Option<Checkpoint>, EventStoreError> {
        self.file.run(|db| READ_MODEL.checkpoint(db)).await
    }

    async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), EventStoreError> {
        let checkpoint = checkpoint.clone();
        self.file
            .run(move |db| READ_MODEL.save_checkpoint(db, &checkpoint))
            .await
    }

    async fn payment_count(&self) -> Result<u64, EventStoreError> {
        self.file.run(|db| READ_MODEL.len(db)).await
    }
}

#[async_trait]
impl PaymentReadModel for DiskPaymentReadModel {
    async fn upsert(&self, record: PaymentRecord) -> BillingResult<bool> {
        Ok(self.upsert_many(vec![record]).await? == 1)
    }

    async fn get(&self, key: &PaymentKey) -> BillingResult<Option<PaymentRecord>> {
        Ok(self.get_many(&[key]).await?.pop().flatten())
    }

    /// In one read transaction.
    async fn get_many(&self, keys: &[&PaymentKey]) -> BillingResult<Vec<Option<PaymentRecord>>> {
        let keys: Vec<PaymentKey> = keys.iter().map(|&key| key.clone()).collect();
        let found = self.file.run(move |db| READ_MODEL.get_many(db, &keys)).await?;
        Ok(found.into_iter().map(|found| found.map(record)).collect())
    }

    /// In one write transaction.
    async fn upsert_many(&self, records: Vec<PaymentRecord>) -> BillingResult<usize> {
        let views = records.into_iter().map(|r| (r.payment, r.position));
        let outcomes = self.file.run(move |db| READ_MODEL.upsert(db, views)).await?;
        Ok(outcomes.iter().filter(|(_, what)| *what == Upserted::Written).count())
    }

    async fn list_by_organization(&self, organization_id: &str, page: Page) -> BillingResult<PaymentList> {
        let list = self.over_organization(organization_id, move |_, mut payments| {
            payments.sort_by(organization_order);
            PaymentList {
                total: payments.len() as u64,
                items: payments
                    .into_iter()
                    .skip(page.offset_usize())
                    .take(page.limit_usize())
                    .collect(),
            }
        });
        Ok(list.await?)
    }

    async fn statistics(&self, organization_id: &str, range: TimeRange) -> BillingResult<PaymentStatistics> {
        let statistics = self.over_organization(organization_id, move |organization, payments| {
            PaymentStatistics::compute(&payments, organization, &range)
        });
        Ok(statistics.await?)
    }

    async fn trends(&self, organization_id: &str, range: TimeRange) -> BillingResult<Vec<DailyBucket>> {
        let trends = self.over_organization(organization_id, move |organization, payments| {
            PaymentStatistics::daily_buckets(&payments, organization, &range)
        });
        Ok(trends.await?)
    }

    async fn list_keys(
        &self,
        organization_id: Option<&str>,
        after: Option<&PaymentKey>,
        limit: usize,
    ) -> BillingResult<Vec<PaymentKey>> {
        let (organization, after) = (organization_id.map(str::to_owned), after.cloned());
        Ok(self
            .file
            .run(move |db| READ_MODEL.keys(db, organization.as_deref(), after.as_ref(), limit))
            .await?)
    }

    /// Also removes the saved checkpoint (in the same transaction).
    async fn reset(&self) -> BillingResult<()> {
        Ok(self.file.run(|db| READ_MODEL.reset(db)).await?)
    }
}
