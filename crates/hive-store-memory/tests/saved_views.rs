//! The payment read model and search index saved to a file with their checkpoint and loaded
//! back, as the embedded durable service does across restarts.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use hive_billing::{PaymentKey, PaymentReadModel, PaymentRecord, PaymentSearchDocument, PaymentSearchIndex};
use hive_domain::{Checkpoint, EventStoreError, Page};
use hive_store_memory::billing::{MemoryPaymentReadModel, MemoryPaymentSearchIndex};
use hive_testkit::billing::pending_payment;

fn record(org: &str, id: &str, position: u64) -> PaymentRecord {
    PaymentRecord {
        payment: pending_payment(org, id, Utc.with_ymd_and_hms(2024, 12, 19, 10, 0, 0).unwrap()),
        position,
    }
}

#[tokio::test]
async fn a_saved_read_model_loads_back_with_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("payments.read-model");
    assert!(
        MemoryPaymentReadModel::load_from(&path).unwrap().is_none(),
        "no file yet"
    );

    let model = MemoryPaymentReadModel::new();
    for (org, id, position) in [("org-1", "pay-1", 3), ("org-1", "pay-2", 7), ("org-2", "pay-1", 9)] {
        model.upsert(record(org, id, position)).await.unwrap();
    }
    let mut checkpoint = Checkpoint::new("payments", 12, None);
    checkpoint.version = 2;
    model.save_to(&path, &checkpoint, true).unwrap();

    let (loaded, at) = MemoryPaymentReadModel::load_from(&path).unwrap().unwrap();
    assert_eq!(at, checkpoint);
    assert_eq!(loaded.snapshot(), model.snapshot());
    let listed = loaded.list_by_organization("org-1", Page::first(10)).await.unwrap();
    assert_eq!(listed.total, 2, "the organization index is rebuilt");
    let key = PaymentKey::new("org-2", "pay-1");
    assert_eq!(loaded.get(&key).await.unwrap().map(|r| r.position), Some(9));
    assert!(
        !loaded.upsert(record("org-2", "pay-1", 8)).await.unwrap(),
        "positions are kept: an older event is still skipped"
    );
}

#[tokio::test]
async fn a_saved_search_index_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("payments.search-index");
    let index = MemoryPaymentSearchIndex::new();
    let documents = vec![
        PaymentSearchDocument::new(record("org-1", "pay-1", 4).payment, 4),
        PaymentSearchDocument::new(record("org-1", "pay-2", 5).payment, 5),
    ];
    index.index(documents).await.unwrap();
    index
        .save_to(&path, &Checkpoint::new("search", 5, None), false)
        .unwrap();
    let (loaded, at) = MemoryPaymentSearchIndex::load_from(&path).unwrap().unwrap();
    assert_eq!(at.position, 5);
    assert_eq!(loaded.snapshot(), index.snapshot());
}

#[tokio::test]
async fn a_damaged_or_foreign_file_is_corrupt_and_names_itself() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("payments.read-model");
    let model = MemoryPaymentReadModel::new();
    model.upsert(record("org-1", "pay-1", 1)).await.unwrap();
    model
        .save_to(&path, &Checkpoint::new("payments", 1, None), true)
        .unwrap();
    let good = std::fs::read(&path).unwrap();

    let damaged: [Vec<u8>; 3] = [
        good[..good.len() - 3].to_vec(),
        {
            let mut flipped = good.clone();
            let last = flipped.len() - 2;
            flipped[last] ^= 0x20;
            flipped
        },
        b"{\"format\":1}".to_vec(),
    ];
    for bytes in damaged {
        std::fs::write(&path, &bytes).unwrap();
        match MemoryPaymentReadModel::load_from(&path) {
            Err(EventStoreError::Corrupt { record, .. }) => {
                assert!(record.ends_with("payments.read-model"), "{record}")
            }
            other => panic!("expected Corrupt, got {:?}", other.map(|o| o.map(|(_, c)| c))),
        }
    }
}
