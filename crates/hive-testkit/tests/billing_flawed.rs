//! The billing suites catch flawed adapters: a reference adapter passes, each flaw fails the
//! case that checks it.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use hive_billing::{
    organization_order, BillingResult, BulkReport, DailyBucket, PaymentList, PaymentReadModel, PaymentRecord,
    PaymentSearchCriteria, PaymentSearchDocument, PaymentSearchIndex, PaymentSearchResults, PaymentStatistics,
    Suggestion,
};
use hive_domain::{Page, TimeRange};
use hive_testkit::billing::{read_model, search_index};

#[derive(Default)]
struct ReadModel {
    records: Mutex<BTreeMap<String, PaymentRecord>>,
    /// Flaw: lists by payment id instead of the organization order.
    sorts_by_id: bool,
    /// Flaw: overwrites with older positions.
    ignores_positions: bool,
    /// Flaw: `get_many` answers only the payments it found (unknown ids dropped).
    drops_unknown_ids: bool,
}

#[async_trait]
impl PaymentReadModel for ReadModel {
    async fn upsert(&self, record: PaymentRecord) -> BillingResult<bool> {
        let mut records = self.records.lock().unwrap();
        let id = record.payment.payment_id.clone();
        if !self.ignores_positions && records.get(&id).is_some_and(|r| r.position > record.position) {
            return Ok(false);
        }
        records.insert(id, record);
        Ok(true)
    }
    async fn get(&self, payment_id: &str) -> BillingResult<Option<PaymentRecord>> {
        Ok(self.records.lock().unwrap().get(payment_id).cloned())
    }
    async fn get_many(&self, ids: &[&str]) -> BillingResult<Vec<Option<PaymentRecord>>> {
        let records = self.records.lock().unwrap();
        let found = ids.iter().map(|id| records.get(*id).cloned());
        Ok(if self.drops_unknown_ids {
            found.filter(Option::is_some).collect()
        } else {
            found.collect()
        })
    }
    async fn list_by_organization(&self, organization_id: &str, page: Page) -> BillingResult<PaymentList> {
        let records = self.records.lock().unwrap();
        let mut items: Vec<_> = records
            .values()
            .map(|r| r.payment.clone())
            .filter(|p| p.organization_id == organization_id)
            .collect();
        if !self.sorts_by_id {
            items.sort_by(organization_order);
        }
        let total = items.len() as u64;
        let items = items
            .into_iter()
            .skip(page.offset_usize())
            .take(page.limit_usize())
            .collect();
        Ok(PaymentList { items, total })
    }
    async fn statistics(&self, organization_id: &str, range: TimeRange) -> BillingResult<PaymentStatistics> {
        let records = self.records.lock().unwrap();
        Ok(PaymentStatistics::compute(
            records.values().map(|r| &r.payment),
            organization_id,
            &range,
        ))
    }
    async fn trends(&self, organization_id: &str, range: TimeRange) -> BillingResult<Vec<DailyBucket>> {
        let records = self.records.lock().unwrap();
        Ok(PaymentStatistics::daily_buckets(
            records.values().map(|r| &r.payment),
            organization_id,
            &range,
        ))
    }
    async fn list_ids(
        &self,
        organization_id: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> BillingResult<Vec<String>> {
        let records = self.records.lock().unwrap();
        Ok(records
            .values()
            .filter(|r| organization_id.is_none_or(|o| r.payment.organization_id == o))
            .map(|r| r.payment.payment_id.clone())
            .filter(|id| after.is_none_or(|a| id.as_str() > a))
            .take(limit)
            .collect())
    }
    async fn reset(&self) -> BillingResult<()> {
        self.records.lock().unwrap().clear();
        Ok(())
    }
}

#[derive(Default)]
struct Index {
    documents: Mutex<BTreeMap<String, PaymentSearchDocument>>,
    /// Flaw: text must match exactly (no fuzziness).
    exact_only: bool,
}

#[async_trait]
impl PaymentSearchIndex for Index {
    async fn index(&self, documents: Vec<PaymentSearchDocument>) -> BillingResult<BulkReport> {
        let mut stored = self.documents.lock().unwrap();
        let mut report = BulkReport::default();
        for document in documents {
            let id = document.payment.payment_id.clone();
            if stored.get(&id).is_some_and(|d| d.position > document.position) {
                report.stale.push(id);
            } else {
                stored.insert(id.clone(), document);
                report.indexed.push(id);
            }
        }
        Ok(report)
    }
    async fn delete(&self, payment_id: &str) -> BillingResult<bool> {
        Ok(self.documents.lock().unwrap().remove(payment_id).is_some())
    }
    async fn get(&self, payment_id: &str) -> BillingResult<Option<PaymentSearchDocument>> {
        Ok(self.documents.lock().unwrap().get(payment_id).cloned())
    }
    async fn search(&self, criteria: &PaymentSearchCriteria) -> BillingResult<PaymentSearchResults> {
        let documents = self.documents.lock().unwrap();
        let mut results = criteria.search(documents.values());
        if self.exact_only {
            let words: Vec<String> = criteria
                .text
                .iter()
                .flat_map(|t| hive_billing::read::text::tokens(t))
                .collect();
            results.items.retain(|i| {
                let tokens = hive_billing::read::text::tokens(&i.payment.description);
                words.iter().any(|w| tokens.contains(w))
            });
            results.total = results.items.len() as u64;
        }
        Ok(results)
    }
    async fn suggest(&self, organization_id: &str, prefix: &str, size: usize) -> BillingResult<Vec<Suggestion>> {
        let documents = self.documents.lock().unwrap();
        Ok(Suggestion::suggest(documents.values(), organization_id, prefix, size))
    }
    async fn reset(&self) -> BillingResult<()> {
        self.documents.lock().unwrap().clear();
        Ok(())
    }
}

mod reference_read_model {
    hive_testkit::payment_read_model_conformance!(async { super::ReadModel::default() });
}

mod reference_search_index {
    hive_testkit::payment_search_index_conformance!(async { super::Index::default() });
}

#[tokio::test]
#[should_panic(expected = "processedAt desc")]
async fn a_read_model_sorting_by_id_fails() {
    let store = ReadModel {
        sorts_by_id: true,
        ..ReadModel::default()
    };
    read_model::organization_listing_order_and_paging(Arc::new(store)).await;
}

#[tokio::test]
#[should_panic(expected = "older position")]
async fn a_read_model_overwriting_newer_records_fails() {
    let store = ReadModel {
        ignores_positions: true,
        ..ReadModel::default()
    };
    read_model::upsert_keeps_the_latest_position(Arc::new(store)).await;
}

#[tokio::test]
#[should_panic(expected = "in the order asked, unknown ids as None")]
async fn a_read_model_dropping_unknown_ids_from_get_many_fails() {
    let store = ReadModel {
        drops_unknown_ids: true,
        ..ReadModel::default()
    };
    read_model::get_many_answers_in_the_order_asked(Arc::new(store)).await;
}

#[tokio::test]
#[should_panic(expected = "an older position must not be written")]
async fn a_read_model_overwriting_newer_records_in_a_batch_fails() {
    let store = ReadModel {
        ignores_positions: true,
        ..ReadModel::default()
    };
    read_model::upsert_many_keeps_the_latest_position(Arc::new(store)).await;
}

#[tokio::test]
#[should_panic(expected = "matches of")]
async fn a_search_index_without_fuzziness_fails() {
    let index = Index {
        exact_only: true,
        ..Index::default()
    };
    search_index::fuzzy_text_matches_like_fuzziness_auto(Arc::new(index)).await;
}
