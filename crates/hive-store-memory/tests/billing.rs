//! The billing read-side adapters, checked by the hive-testkit billing suites.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use hive_billing::{
    Amount, PaymentReadModel, PaymentRecord, PaymentSearchDocument, PaymentSearchIndex, PaymentStatus, PaymentView,
};
use hive_store_memory::billing::{MemoryPaymentReadModel, MemoryPaymentSearchIndex};

mod read_model {
    use super::MemoryPaymentReadModel;
    hive_testkit::payment_read_model_conformance!(async { MemoryPaymentReadModel::new() });
}

mod search_index {
    use super::MemoryPaymentSearchIndex;
    hive_testkit::payment_search_index_conformance!(async { MemoryPaymentSearchIndex::new() });
}

fn view(id: &str, org: &str) -> PaymentView {
    let at = Utc.with_ymd_and_hms(2024, 12, 19, 10, 0, 0).unwrap();
    PaymentView {
        payment_id: id.into(),
        organization_id: org.into(),
        user_id: "user-1".into(),
        amount: "10.00".parse::<Amount>().unwrap(),
        currency: "EUR".parse().unwrap(),
        status: PaymentStatus::Pending,
        description: "Cloud hosting".into(),
        tags: vec![],
        created_at: at,
        processed_at: None,
        failed_at: None,
        error: None,
        refunded_at: None,
        refund_amount: None,
        updated_at: at,
        version: 1,
    }
}

#[tokio::test]
async fn reset_empties_the_read_model() {
    let read_model = MemoryPaymentReadModel::new();
    read_model
        .upsert(PaymentRecord {
            payment: view("p-1", "org-1"),
            position: 1,
        })
        .await
        .unwrap();
    assert_eq!(read_model.len(), 1);
    read_model.reset().await.unwrap();
    assert!(read_model.is_empty());
    assert!(read_model.get("p-1").await.unwrap().is_none());
    assert!(read_model.list_ids(Some("org-1"), None, 10).await.unwrap().is_empty());
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
}

#[tokio::test]
async fn moving_a_payment_to_another_organization_moves_its_index_entry() {
    let read_model = MemoryPaymentReadModel::new();
    read_model
        .upsert(PaymentRecord {
            payment: view("p-1", "org-1"),
            position: 1,
        })
        .await
        .unwrap();
    read_model
        .upsert(PaymentRecord {
            payment: view("p-1", "org-2"),
            position: 2,
        })
        .await
        .unwrap();
    assert!(read_model.list_ids(Some("org-1"), None, 10).await.unwrap().is_empty());
    assert_eq!(read_model.list_ids(Some("org-2"), None, 10).await.unwrap(), vec!["p-1"]);
}

#[tokio::test]
async fn upsert_many_moves_index_entries_and_leaves_them_on_a_stale_record() {
    let read_model = MemoryPaymentReadModel::new();
    let record = |id: &str, org: &str, position| PaymentRecord {
        payment: view(id, org),
        position,
    };
    let written = read_model
        .upsert_many(vec![record("p-1", "org-1", 1), record("p-2", "org-1", 2)])
        .await
        .unwrap();
    assert_eq!(written, 2);
    let written = read_model
        .upsert_many(vec![
            record("p-1", "org-2", 3),
            record("p-2", "org-2", 1),
            record("p-3", "org-2", 4),
        ])
        .await
        .unwrap();
    assert_eq!(written, 2, "the stale record of p-2 is not written");
    assert_eq!(read_model.list_ids(Some("org-1"), None, 10).await.unwrap(), vec!["p-2"]);
    assert_eq!(
        read_model.list_ids(Some("org-2"), None, 10).await.unwrap(),
        vec!["p-1", "p-3"]
    );
    let got = read_model.get_many(&["p-3", "p-9", "p-1"]).await.unwrap();
    assert_eq!(
        got,
        vec![Some(record("p-3", "org-2", 4)), None, Some(record("p-1", "org-2", 3))]
    );
}
