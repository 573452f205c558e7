//! The billing read-side adapters, checked by the hive-testkit billing suites.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use hive_billing::{
    PaymentKey, PaymentReadModel, PaymentRecord, PaymentSearchDocument, PaymentSearchIndex, PaymentView,
};
use hive_store_memory::billing::{MemoryPaymentReadModel, MemoryPaymentSearchIndex};
use hive_testkit::billing::pending_payment;

mod read_model {
    use super::MemoryPaymentReadModel;
    hive_testkit::payment_read_model_conformance!(async { MemoryPaymentReadModel::new() });
}

mod search_index {
    use super::MemoryPaymentSearchIndex;
    hive_testkit::payment_search_index_conformance!(async { MemoryPaymentSearchIndex::new() });
}

fn view(id: &str, org: &str) -> PaymentView {
    pending_payment(org, id, Utc.with_ymd_and_hms(2024, 12, 19, 10, 0, 0).unwrap())
}

fn record(id: &str, org: &str, position: u64) -> PaymentRecord {
    PaymentRecord {
        payment: view(id, org),
        position,
    }
}

fn key(org: &str, id: &str) -> PaymentKey {
    PaymentKey::new(org, id)
}

#[tokio::test]
async fn reset_empties_the_read_model() {
    let read_model = MemoryPaymentReadModel::new();
    read_model.upsert(record("p-1", "org-1", 1)).await.unwrap();
    assert_eq!(read_model.len(), 1);
    read_model.reset().await.unwrap();
    assert!(read_model.is_empty());
    assert!(read_model.get(&key("org-1", "p-1")).await.unwrap().is_none());
    assert!(read_model.list_keys(Some("org-1"), None, 10).await.unwrap().is_empty());
    assert!(read_model.list_keys(None, None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn reset_empties_the_search_index() {
    let index = MemoryPaymentSearchIndex::new();
    index
        .index(vec![PaymentSearchDocument::new(view("p-1", "org-1"), 1)])
        .await
        .unwrap();
    assert_eq!(index.len(), 1);
    index.reset().await.unwrap();
    assert!(index.is_empty());
    assert!(index.suggest("org-1", "cloud", 5).await.unwrap().is_empty());
    assert!(index.list_keys(None, None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn two_organizations_hold_the_same_payment_id_in_the_read_model() {
    let read_model = MemoryPaymentReadModel::new();
    assert!(read_model.upsert(record("p-1", "org-1", 5)).await.unwrap());
    // Another organization's p-1 at a smaller position is another payment, not a stale write.
    assert!(read_model.upsert(record("p-1", "org-2", 2)).await.unwrap());
    assert_eq!(read_model.len(), 2);
    assert_eq!(
        read_model.get(&key("org-1", "p-1")).await.unwrap(),
        Some(record("p-1", "org-1", 5))
    );
    assert_eq!(
        read_model.get(&key("org-2", "p-1")).await.unwrap(),
        Some(record("p-1", "org-2", 2))
    );
    assert_eq!(read_model.get(&key("org-3", "p-1")).await.unwrap(), None);
    assert_eq!(
        read_model.list_keys(Some("org-1"), None, 10).await.unwrap(),
        vec![key("org-1", "p-1")]
    );
    assert_eq!(
        read_model.list_keys(None, None, 10).await.unwrap(),
        vec![key("org-1", "p-1"), key("org-2", "p-1")]
    );
    let listed = read_model
        .list_by_organization("org-2", hive_domain::Page::first(10))
        .await
        .unwrap();
    assert_eq!((listed.total, listed.items), (1, vec![view("p-1", "org-2")]));
    let snapshot: Vec<PaymentKey> = read_model.snapshot().iter().map(|r| r.payment.key()).collect();
    assert_eq!(snapshot, vec![key("org-1", "p-1"), key("org-2", "p-1")]);
}

#[tokio::test]
async fn two_organizations_hold_the_same_payment_id_in_the_search_index() {
    let index = MemoryPaymentSearchIndex::new();
    let report = index
        .index(vec![
            PaymentSearchDocument::new(view("p-1", "org-2"), 3),
            PaymentSearchDocument::new(view("p-1", "org-1"), 1),
            PaymentSearchDocument::new(view("p-1", "org-2"), 2),
        ])
        .await
        .unwrap();
    assert_eq!(report.indexed, vec![key("org-2", "p-1"), key("org-1", "p-1")]);
    assert_eq!(report.stale, vec![key("org-2", "p-1")]);
    assert!(report.failed.is_empty());
    assert_eq!(index.len(), 2);
    assert_eq!(
        index.get(&key("org-2", "p-1")).await.unwrap().map(|d| d.position),
        Some(3)
    );
    assert_eq!(
        index.list_keys(None, Some(&key("org-1", "p-1")), 10).await.unwrap(),
        vec![key("org-2", "p-1")]
    );
    assert_eq!(index.suggest("org-1", "cloud", 5).await.unwrap().len(), 1);
    assert!(index.delete(&key("org-2", "p-1")).await.unwrap());
    assert!(!index.delete(&key("org-2", "p-1")).await.unwrap());
    assert_eq!(index.get(&key("org-2", "p-1")).await.unwrap(), None);
    assert_eq!(
        index.get(&key("org-1", "p-1")).await.unwrap().map(|d| d.position),
        Some(1)
    );
    assert!(index.list_keys(Some("org-2"), None, 10).await.unwrap().is_empty());
    assert_eq!(
        index.list_keys(Some("org-1"), None, 10).await.unwrap(),
        vec![key("org-1", "p-1")]
    );
}

#[tokio::test]
async fn upsert_many_skips_stale_records_and_get_many_answers_in_order() {
    let read_model = MemoryPaymentReadModel::new();
    let written = read_model
        .upsert_many(vec![record("p-1", "org-1", 1), record("p-2", "org-1", 2)])
        .await
        .unwrap();
    assert_eq!(written, 2);
    let written = read_model
        .upsert_many(vec![
            record("p-1", "org-1", 3),
            record("p-2", "org-1", 1),
            record("p-3", "org-2", 4),
        ])
        .await
        .unwrap();
    assert_eq!(written, 2, "the stale record of p-2 is not written");
    assert_eq!(
        read_model.list_keys(Some("org-1"), None, 10).await.unwrap(),
        vec![key("org-1", "p-1"), key("org-1", "p-2")]
    );
    assert_eq!(
        read_model
            .list_keys(Some("org-1"), Some(&key("org-1", "p-1")), 10)
            .await
            .unwrap(),
        vec![key("org-1", "p-2")]
    );
    assert_eq!(
        read_model.list_keys(Some("org-2"), None, 10).await.unwrap(),
        vec![key("org-2", "p-3")]
    );
    let (p3, p9, p1) = (key("org-2", "p-3"), key("org-1", "p-9"), key("org-1", "p-1"));
    let got = read_model.get_many(&[&p3, &p9, &p1, &p3]).await.unwrap();
    assert_eq!(
        got,
        vec![
            Some(record("p-3", "org-2", 4)),
            None,
            Some(record("p-1", "org-1", 3)),
            Some(record("p-3", "org-2", 4)),
        ]
    );
    let wrong_org = key("org-1", "p-3");
    assert_eq!(read_model.get_many(&[&wrong_org]).await.unwrap(), vec![None]);
}
