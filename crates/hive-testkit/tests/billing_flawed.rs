//! The billing suites catch flawed adapters: a reference adapter passes, each flaw fails the
//! case that checks it.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use hive_billing::{
    organization_order, BillingResult, BulkReport, DailyBucket, PaymentKey, PaymentList, PaymentReadModel,
    PaymentRecord, PaymentSearchCriteria, PaymentSearchDocument, PaymentSearchIndex, PaymentSearchResults,
    PaymentStatistics, Suggestion,
};
use hive_domain::{Page, TimeRange};
use hive_testkit::billing::{read_model, search_index};

#[derive(Default)]
struct ReadModel {
    records: Mutex<BTreeMap<PaymentKey, PaymentRecord>>,
    /// Flaw: keys records by payment id alone (one organization's payment hides another's).
    keys_by_id_alone: bool,
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
        let key = self.slot(&record.payment.key());
        if !self.ignores_positions && records.get(&key).is_some_and(|r| r.position > record.position) {
            return Ok(false);
        }
        records.insert(key, record);
        Ok(true)
    }
    async fn get(&self, key: &PaymentKey) -> BillingResult<Option<PaymentRecord>> {
        Ok(self.records.lock().unwrap().get(&self.slot(key)).cloned())
    }
    async fn get_many(&self, keys: &[&PaymentKey]) -> BillingResult<Vec<Option<PaymentRecord>>> {
        let records = self.records.lock().unwrap();
        let found = keys.iter().map(|key| records.get(&self.slot(key)).cloned());
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
    async fn list_keys(
        &self,
        organization_id: Option<&str>,
        after: Option<&PaymentKey>,
        limit: usize,
    ) -> BillingResult<Vec<PaymentKey>> {
        let records = self.records.lock().unwrap();
        let mut keys: Vec<PaymentKey> = records
            .values()
            .filter(|r| organization_id.is_none_or(|o| r.payment.organization_id == o))
            .map(|r| r.payment.key())
            .filter(|key| after.is_none_or(|a| key > a))
            .collect();
        keys.sort();
        keys.truncate(limit);
        Ok(keys)
    }
    async fn reset(&self) -> BillingResult<()> {
        self.records.lock().unwrap().clear();
        Ok(())
    }
}

impl ReadModel {
    /// Where a payment's record is kept: under its key, or (flawed) under its id alone.
    fn slot(&self, key: &PaymentKey) -> PaymentKey {
        if self.keys_by_id_alone {
            PaymentKey::new("any", key.payment_id())
        } else {
            key.clone()
        }
    }
}

#[derive(Default)]
struct Index {
    documents: Mutex<BTreeMap<PaymentKey, PaymentSearchDocument>>,
    /// Flaw: text must match exactly (no fuzziness).
    exact_only: bool,
}

#[async_trait]
impl PaymentSearchIndex for Index {
    async fn index(&self, documents: Vec<PaymentSearchDocument>) -> BillingResult<BulkReport> {
        let mut stored = self.documents.lock().unwrap();
        let mut report = BulkReport::default();
        for document in documents {
            let key = document.payment.key();
            if stored.get(&key).is_some_and(|d| d.position > document.position) {
                report.stale.push(key);
            } else {
                stored.insert(key.clone(), document);
                report.indexed.push(key);
            }
        }
        Ok(report)
    }
    async fn delete(&self, key: &PaymentKey) -> BillingResult<bool> {
        Ok(self.documents.lock().unwrap().remove(key).is_some())
    }
    async fn get(&self, key: &PaymentKey) -> BillingResult<Option<PaymentSearchDocument>> {
        Ok(self.documents.lock().unwrap().get(key).cloned())
    }
    async fn list_keys(
        &self,
        organization_id: Option<&str>,
        after: Option<&PaymentKey>,
        limit: usize,
    ) -> BillingResult<Vec<PaymentKey>> {
        let documents = self.documents.lock().unwrap();
        Ok(documents
            .keys()
            .filter(|key| organization_id.is_none_or(|o| key.organization_id() == o))
            .filter(|key| after.is_none_or(|a| *key > a))
            .take(limit)
            .cloned()
            .collect())
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
#[should_panic(expected = "another organization's payment of the same id")]
async fn a_read_model_keyed_by_payment_id_alone_fails() {
    let store = ReadModel {
        keys_by_id_alone: true,
        ..ReadModel::default()
    };
    read_model::organizations_share_payment_ids(Arc::new(store)).await;
}

#[tokio::test]
#[should_panic(expected = "in the order asked, unknown keys as None")]
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
