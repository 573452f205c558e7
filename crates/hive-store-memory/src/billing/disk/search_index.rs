//! [`DiskPaymentSearchIndex`]: the payment search index in the views file.

use async_trait::async_trait;
use hive_billing::{
    BillingResult, BulkReport, PaymentKey, PaymentSearchCriteria, PaymentSearchDocument, PaymentSearchIndex,
    PaymentSearchResults, Suggestion,
};
use hive_domain::{Checkpoint, EventStoreError};

use super::tables::SEARCH_INDEX;
use super::{DiskView, PaymentViewsFile};
use crate::billing::keyed::Upserted;

/// A [`PaymentSearchIndex`] in a [`PaymentViewsFile`], with the semantics of
/// [`MemoryPaymentSearchIndex`](crate::billing::MemoryPaymentSearchIndex): each document under
/// its [`PaymentKey`], a greater stored position wins, and search and suggestions are
/// `hive-billing`'s reference functions over the organization's decoded documents. Clones
/// share the file.
///
/// A document is stored as its payment and position; reading it back rebuilds it with
/// [`PaymentSearchDocument::new`] (its completion inputs follow from the description).
///
/// ```
/// use chrono::Utc;
/// use hive_billing::{PaymentKey, PaymentSearchDocument, PaymentSearchIndex};
/// use hive_store_memory::billing::disk::PaymentViewsFile;
/// use hive_testkit::billing::pending_payment;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let file = PaymentViewsFile::open(dir.path().join("payments.views"), 8 << 20).await?;
/// let index = file.search_index();
/// let document = PaymentSearchDocument::new(pending_payment("org-1", "pay-1", Utc::now()), 1);
/// let report = index.index(vec![document.clone()]).await?;
/// assert_eq!(report.indexed, vec![PaymentKey::new("org-1", "pay-1")]);
/// assert_eq!(index.get(&PaymentKey::new("org-1", "pay-1")).await?, Some(document));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct DiskPaymentSearchIndex {
    file: PaymentViewsFile,
}

impl DiskPaymentSearchIndex {
    pub(super) fn new(file: PaymentViewsFile) -> Self {
        Self { file }
    }

    /// `answer` over the organization's documents (ascending by key), on a blocking thread.
    async fn over_organization<T: Send + 'static>(
        &self,
        organization_id: &str,
        answer: impl FnOnce(&str, Vec<PaymentSearchDocument>) -> T + Send + 'static,
    ) -> Result<T, EventStoreError> {
        let organization = organization_id.to_owned();
        self.file
            .run(move |db| {
                let stored = SEARCH_INDEX.of_organization(db, &organization)?;
                let documents = stored
                    .into_iter()
                    .map(|(view, position)| PaymentSearchDocument::new(view, position))
                    .collect();
                Ok(answer(&organization, documents))
            })
            .await
    }
}

#[async_trait]
impl DiskView for DiskPaymentSearchIndex {
    async fn checkpoint(&self) -> Result<Option<Checkpoint>, EventStoreError> {
        self.file.run(|db| SEARCH_INDEX.checkpoint(db)).await
    }

    async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), EventStoreError> {
        let checkpoint = checkpoint.clone();
        self.file
            .run(move |db| SEARCH_INDEX.save_checkpoint(db, &checkpoint))
            .await
    }

    async fn payment_count(&self) -> Result<u64, EventStoreError> {
        self.file.run(|db| SEARCH_INDEX.len(db)).await
    }
}

#[async_trait]
impl PaymentSearchIndex for DiskPaymentSearchIndex {
    /// In one write transaction.
    async fn index(&self, documents: Vec<PaymentSearchDocument>) -> BillingResult<BulkReport> {
        let views = documents.into_iter().map(|d| (d.payment, d.position));
        let outcomes = self.file.run(move |db| SEARCH_INDEX.upsert(db, views)).await?;
        let mut report = BulkReport::default();
        for (key, what) in outcomes {
            match what {
                Upserted::Written => report.indexed.push(key),
                Upserted::Stale => report.stale.push(key),
            }
        }
        Ok(report)
    }

    async fn delete(&self, key: &PaymentKey) -> BillingResult<bool> {
        let key = key.clone();
        Ok(self.file.run(move |db| SEARCH_INDEX.remove(db, &key)).await?)
    }

    async fn get(&self, key: &PaymentKey) -> BillingResult<Option<PaymentSearchDocument>> {
        let keys = vec![key.clone()];
        let found = self.file.run(move |db| SEARCH_INDEX.get_many(db, &keys)).await?;
        Ok(found
            .into_iter()
            .next()
            .flatten()
            .map(|(view, position)| PaymentSearchDocument::new(view, position)))
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
            .run(move |db| SEARCH_INDEX.keys(db, organization.as_deref(), after.as_ref(), limit))
            .await?)
    }

    async fn search(&self, criteria: &PaymentSearchCriteria) -> BillingResult<PaymentSearchResults> {
        let criteria = criteria.clone();
        let organization = criteria.organization_id.clone();
        let results = self.over_organization(&organization, move |_, documents| criteria.search(&documents));
        Ok(results.await?)
    }

    async fn suggest(&self, organization_id: &str, prefix: &str, size: usize) -> BillingResult<Vec<Suggestion>> {
        let prefix = prefix.to_owned();
        let suggestions = self.over_organization(organization_id, move |organization, documents| {
            Suggestion::suggest(&documents, organization, &prefix, size)
        });
        Ok(suggestions.await?)
    }

    /// Also removes the saved checkpoint (in the same transaction).
    async fn reset(&self) -> BillingResult<()> {
        Ok(self.file.run(|db| SEARCH_INDEX.reset(db)).await?)
    }
}
