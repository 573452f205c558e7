//! [`PostgresPaymentProjection`]: the payment read-model projection whose pages of the log
//! commit with their checkpoint.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use hive_application::{ApplicationError, BatchError, Projection};
use hive_billing::{
    BillingResult, DailyBucket, PaymentKey, PaymentList, PaymentReadModel, PaymentReadModelProjection, PaymentRecord,
    PaymentStatistics, BILLING_PROJECTION_VERSION,
};
use hive_domain::{Checkpoint, EventEnvelope, Page, TimeRange, UpcasterChain};

use super::read_model::PostgresPaymentReadModel;

/// The billing read-model projection ([`PaymentReadModelProjection`], same name, version and
/// folding) for a [`hive_application::ProjectionRunner`] whose checkpoints are the same
/// store's ([`PostgresStore::checkpoint_store`](crate::PostgresStore::checkpoint_store)).
///
/// [`apply_batch`](Projection::apply_batch) folds the page exactly as
/// [`PaymentReadModelProjection::apply_events`] does, then writes the changed records **and
/// the checkpoint of the page's last event** (the one the runner saves after the page) in one
/// transaction ([`PostgresPaymentReadModel::upsert_many_with_checkpoint`]): a crash or an
/// error leaves both as they were, never the rows ahead of the checkpoint. The runner's own
/// save that follows writes the same position again.
///
/// When a page fails, the runner applies its events one by one with
/// [`apply`](Projection::apply) (to find the poison event) and saves the checkpoint itself:
/// that path is idempotent by position, as with any read model.
#[derive(Clone)]
pub struct PostgresPaymentProjection {
    read_model: PostgresPaymentReadModel,
    inner: PaymentReadModelProjection,
    upcasters: Arc<UpcasterChain>,
}

impl std::fmt::Debug for PostgresPaymentProjection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresPaymentProjection").finish_non_exhaustive()
    }
}

impl PostgresPaymentReadModel {
    /// The read-model projection into this read model, decoding events with `upcasters`,
    /// each page committed with its checkpoint (see [`PostgresPaymentProjection`]).
    pub fn projection(&self, upcasters: Arc<UpcasterChain>) -> PostgresPaymentProjection {
        PostgresPaymentProjection {
            inner: PaymentReadModelProjection::new(Arc::new(self.clone()), Arc::clone(&upcasters)),
            read_model: self.clone(),
            upcasters,
        }
    }
}

#[async_trait]
impl Projection for PostgresPaymentProjection {
    fn name(&self) -> &str {
        PaymentReadModelProjection::NAME
    }

    fn version(&self) -> u32 {
        BILLING_PROJECTION_VERSION
    }

    async fn apply(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        self.inner.apply_event(event).await
    }

    async fn reset(&self) -> Result<(), ApplicationError> {
        Ok(self.read_model.reset().await?)
    }

    /// The page folded onto the stored records, then the changed records and the checkpoint
    /// at the page's last event in one transaction. Nothing is applied when it fails.
    async fn apply_batch(&self, events: &[EventEnvelope]) -> Result<(), BatchError> {
        let Some(last) = events.last() else { return Ok(()) };
        let position = last.global_position.ok_or_else(|| {
            ApplicationError::Internal(format!("event {} from the global log has no position", last.event_id))
        })?;
        let staged = Arc::new(Staged::new(self.read_model.clone()));
        PaymentReadModelProjection::new(
            Arc::clone(&staged) as Arc<dyn PaymentReadModel>,
            Arc::clone(&self.upcasters),
        )
        .apply_events(events)
        .await?;
        let checkpoint = Checkpoint::new(self.name(), position, Some(last.event_id))
            .with_version(self.version())
            .with_last_processed_timestamp(Some(last.timestamp));
        self.read_model
            .upsert_many_with_checkpoint(staged.take(), &checkpoint)
            .await
            .map_err(ApplicationError::from)?;
        Ok(())
    }
}

/// A read model that reads from PostgreSQL but keeps what is written, in order, for one
/// transaction: what `PaymentReadModelProjection::apply_events` folds a page into.
struct Staged {
    read_model: PostgresPaymentReadModel,
    written: Mutex<Vec<PaymentRecord>>,
}

impl Staged {
    fn new(read_model: PostgresPaymentReadModel) -> Self {
        Self {
            read_model,
            written: Mutex::new(Vec::new()),
        }
    }

    /// The records written so far, in order.
    fn take(&self) -> Vec<PaymentRecord> {
        std::mem::take(&mut *self.written.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[async_trait]
impl PaymentReadModel for Staged {
    /// Kept, not written (the transaction decides later): reported as written.
    async fn upsert(&self, record: PaymentRecord) -> BillingResult<bool> {
        self.written.lock().unwrap_or_else(PoisonError::into_inner).push(record);
        Ok(true)
    }

    async fn get(&self, key: &PaymentKey) -> BillingResult<Option<PaymentRecord>> {
        self.read_model.get(key).await
    }

    async fn get_many(&self, keys: &[&PaymentKey]) -> BillingResult<Vec<Option<PaymentRecord>>> {
        self.read_model.get_many(keys).await
    }

    /// Kept, not written: reported as all written.
    async fn upsert_many(&self, records: Vec<PaymentRecord>) -> BillingResult<usize> {
        let count = records.len();
        self.written
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(records);
        Ok(count)
    }

    async fn list_by_organization(&self, organization_id: &str, page: Page) -> BillingResult<PaymentList> {
        self.read_model.list_by_organization(organization_id, page).await
    }

    async fn statistics(&self, organization_id: &str, range: TimeRange) -> BillingResult<PaymentStatistics> {
        self.read_model.statistics(organization_id, range).await
    }

    async fn trends(&self, organization_id: &str, range: TimeRange) -> BillingResult<Vec<DailyBucket>> {
        self.read_model.trends(organization_id, range).await
    }

    async fn list_keys(
        &self,
        organization_id: Option<&str>,
        after: Option<&PaymentKey>,
        limit: usize,
    ) -> BillingResult<Vec<PaymentKey>> {
        self.read_model.list_keys(organization_id, after, limit).await
    }

    /// Not staged: resetting is never part of a page.
    async fn reset(&self) -> BillingResult<()> {
        Err(hive_billing::BillingStoreError::Backend(
            "a staged page of the payment read model cannot be reset".into(),
        ))
    }
}
