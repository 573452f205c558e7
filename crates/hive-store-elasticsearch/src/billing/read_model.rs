//! [`EsPaymentReadModel`]: billing's payment read model on the `payments` index.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use hive_billing::{
    BillingResult, BillingStoreError, DailyBucket, PaymentKey, PaymentList, PaymentReadModel, PaymentRecord,
    PaymentStatistics, PaymentView,
};
use hive_domain::{Page, TimeRange};
use serde_json::{json, Value};

use super::document::{self, EsPaymentDocument};
use super::index::PaymentsIndex;
use super::request::window;
use super::{aggregations, response};
use crate::http::EsClient;
use crate::search;
use crate::{EsOptions, EsResult};

/// Keys per `_mget` of [`PaymentReadModel::get_many`].
const MGET_BATCH: usize = 1_000;
/// Documents per page when statistics fall back to reading the matching documents.
const FALLBACK_PAGE: usize = 1_000;

/// A [`PaymentReadModel`] on the `payments` index, the one the [`super::EsPaymentSearchIndex`]
/// of the same options writes: one [`EsPaymentDocument`] per payment, `_id` = its
/// [`PaymentKey`] (`{organizationId}/{paymentId}`: each organization's `pay-1` is its own),
/// written with `version = position, version_type = external_gte` (an older position is
/// refused by Elasticsearch, an equal one overwrites). The read-model projection and the
/// search projection applying the same event write the same document.
///
/// * `get` and `get_many` are realtime (`GET`, `_mget` by key): a write is seen at once.
/// * Writes refresh per the options' [`Refresh`](crate::Refresh) policy, so listings and
///   statistics see them when the write returns.
/// * `list_by_organization` sorts by `processedAt` desc (missing last), its sub-millisecond
///   nanoseconds desc, `paymentId` asc (`organization_order`), within
///   `index.max_result_window` (10 000).
/// * `statistics` and `trends` are aggregations with exact totals (see the crate README).
/// * `list_keys` pages on the `paymentKey` keyword with `search_after`.
/// * `reset` deletes the index and creates it again (the search index's documents go too:
///   they are the same documents).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use hive_billing::PaymentReadModel;
/// use hive_domain::TimeRange;
/// use hive_store_elasticsearch::{EsOptions, EsStore};
///
/// let store = EsStore::connect(EsOptions::new("http://localhost:9200")).await?;
/// let read_model = store.payment_read_model();
/// read_model.ensure_index().await?;
/// let statistics = read_model.statistics("org-1", TimeRange::all()).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct EsPaymentReadModel {
    index: PaymentsIndex,
}

impl EsPaymentReadModel {
    /// The read model on `options.payments_index` of `client` (no request is sent).
    pub fn new(client: EsClient, options: Arc<EsOptions>) -> Self {
        Self {
            index: PaymentsIndex::new(client, options),
        }
    }

    /// Puts the payments template, creates the index unless it exists and puts the mapping
    /// on it (the same index as [`super::EsPaymentSearchIndex::ensure_index`]).
    pub async fn ensure_index(&self) -> EsResult<()> {
        self.index.ensure().await
    }

    /// Every payment matching `query`, read page by page (`search_after` on `paymentId`).
    async fn all_views(&self, query: Value) -> EsResult<Vec<PaymentView>> {
        let what = "payments statistics (exact fallback)";
        let body = json!({"query": query, "sort": [{"paymentId": "asc"}]});
        search::all_hits(self.index.client(), self.index.name(), body, FALLBACK_PAGE)
            .await?
            .iter()
            .map(|hit| document::view(what, search::source(hit, what)?))
            .collect()
    }
}

#[async_trait]
impl PaymentReadModel for EsPaymentReadModel {
    /// `PUT _doc/{id}?version={position}&version_type=external_gte`; a 409 is `false`.
    async fn upsert(&self, record: PaymentRecord) -> BillingResult<bool> {
        Ok(self.index.write_one(&EsPaymentDocument::of_record(record)).await?)
    }

    async fn get(&self, key: &PaymentKey) -> BillingResult<Option<PaymentRecord>> {
        match self.index.get_source(key).await? {
            Some((what, source)) => Ok(Some(document::record(&what, &source)?)),
            None => Ok(None),
        }
    }

    /// One realtime `_mget` per 1000 distinct keys.
    async fn get_many(&self, keys: &[&PaymentKey]) -> BillingResult<Vec<Option<PaymentRecord>>> {
        let mut distinct: Vec<&str> = keys.iter().map(|key| key.as_str()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let mut found: HashMap<PaymentKey, PaymentRecord> = HashMap::with_capacity(distinct.len());
        for chunk in distinct.chunks(MGET_BATCH) {
            for source in self.index.mget_sources(chunk).await? {
                let record = document::record("payments _mget", &source)?;
                found.insert(record.payment.key(), record);
            }
        }
        Ok(keys.iter().map(|key| found.get(*key).cloned()).collect())
    }

    /// `_bulk` requests of 500 versioned index operations, in order (Elasticsearch applies
    /// the items of one document in request order, so a later record of the same payment is
    /// checked against the earlier one). 409 items are the stale records; any other failed
    /// item is an error (the other items of its request are written).
    async fn upsert_many(&self, records: Vec<PaymentRecord>) -> BillingResult<usize> {
        if records.is_empty() {
            return Ok(0);
        }
        let documents: Vec<EsPaymentDocument> = records.into_iter().map(EsPaymentDocument::of_record).collect();
        let outcome = self.index.write(&documents).await?;
        if outcome.items.len() != documents.len() {
            return Err(BillingStoreError::Backend(format!(
                "the bulk answer has {} items for {} payments",
                outcome.items.len(),
                documents.len()
            )));
        }
        let mut written = 0;
        for item in &outcome.items {
            match item.to_error() {
                None => written += 1,
                Some(_) if item.status == 409 => {}
                Some(error) => return Err(error.into()),
            }
        }
        Ok(written)
    }

    async fn list_by_organization(&self, organization_id: &str, page: Page) -> BillingResult<PaymentList> {
        let (from, size) = window(page.offset, page.limit_usize() as u64);
        let body = json!({
            "query": {"bool": {"filter": [{"term": {"organizationId": organization_id}}]}},
            "sort": [
                {"processedAt": {"order": "desc", "missing": "_last"}},
                {"subMillisecondNanos.processedAt": {"order": "desc", "missing": "_last"}},
                {"paymentId": {"order": "asc"}}
            ],
            "track_total_hits": true,
            "from": from,
            "size": size
        });
        let answer = self.index.search(body).await?;
        let results = response::search_results(&answer)?;
        Ok(PaymentList {
            items: results.items.into_iter().map(|scored| scored.payment).collect(),
            total: results.total,
        })
    }

    async fn statistics(&self, organization_id: &str, range: TimeRange) -> BillingResult<PaymentStatistics> {
        let answer = self
            .index
            .search(aggregations::body(organization_id, &range, true))
            .await?;
        if let Some(statistics) = aggregations::statistics(&answer)? {
            return Ok(statistics);
        }
        let payments = self.all_views(aggregations::query(organization_id, &range)).await?;
        Ok(PaymentStatistics::compute(&payments, organization_id, &range))
    }

    async fn trends(&self, organization_id: &str, range: TimeRange) -> BillingResult<Vec<DailyBucket>> {
        let answer = self
            .index
            .search(aggregations::body(organization_id, &range, false))
            .await?;
        if let Some(daily) = aggregations::daily(&answer)? {
            return Ok(daily);
        }
        let payments = self.all_views(aggregations::query(organization_id, &range)).await?;
        Ok(PaymentStatistics::daily_buckets(&payments, organization_id, &range))
    }

    /// `_source: false`, sorted on the `paymentKey` keyword, `search_after: [after]`, an
    /// optional `term` on `organizationId`; pages of up to 10 000 until `limit`.
    async fn list_keys(
        &self,
        organization_id: Option<&str>,
        after: Option<&PaymentKey>,
        limit: usize,
    ) -> BillingResult<Vec<PaymentKey>> {
        Ok(self.index.list_keys(organization_id, after, limit).await?)
    }

    /// Deletes the `payments` index and creates it again from its template: a
    /// `_delete_by_query` would leave a version tombstone per document (its position plus
    /// one, for `index.gc_deletes`, 60 s by default) and the rebuild after the reset, writing
    /// the same payments at the same positions, would be refused as stale.
    async fn reset(&self) -> BillingResult<()> {
        Ok(self.index.reset().await?)
    }
}
