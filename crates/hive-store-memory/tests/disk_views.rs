//! The payment views on disk: the billing conformance suites, the order of keys, and what a
//! reopened file holds after a durable checkpoint, after a handle dropped without one, and
//! after a crash.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use chrono::{TimeZone, Utc};
use hive_billing::{PaymentKey, PaymentReadModel, PaymentRecord, PaymentSearchDocument, PaymentSearchIndex};
use hive_domain::{Checkpoint, EventStoreError, Page};
use hive_store_memory::billing::disk::{DiskView, PaymentViewsFile};
use hive_testkit::billing::pending_payment;
use hive_testkit::Held;

/// A small page cache, so that the tests also read pages back from the file.
const CACHE: usize = 1 << 20;

/// A views file in a fresh temporary directory, kept alive beside what uses it.
async fn fresh_file() -> (PaymentViewsFile, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = PaymentViewsFile::open(dir.path().join("payments.views"), CACHE)
        .await
        .unwrap();
    (file, dir)
}

mod read_model {
    use super::*;
    hive_testkit::payment_read_model_conformance!(async {
        let (file, dir) = fresh_file().await;
        Held::with_guard(file.read_model(), dir)
    });
}

mod search_index {
    use super::*;
    hive_testkit::payment_search_index_conformance!(async {
        let (file, dir) = fresh_file().await;
        Held::with_guard(file.search_index(), dir)
    });
}

fn record(org: &str, id: &str, position: u64) -> PaymentRecord {
    PaymentRecord {
        payment: pending_payment(org, id, Utc.with_ymd_and_hms(2024, 12, 19, 10, 0, 0).unwrap()),
        position,
    }
}

fn document(org: &str, id: &str, position: u64) -> PaymentSearchDocument {
    PaymentSearchDocument::new(record(org, id, position).payment, position)
}

async fn open(path: &Path) -> PaymentViewsFile {
    PaymentViewsFile::open(path, CACHE).await.unwrap()
}

#[tokio::test]
async fn keys_are_ordered_by_their_text_and_organizations_are_exact() {
    let (file, _dir) = fresh_file().await;
    let read_model = file.read_model();
    for (org, id) in [
        ("org-a", "pay-1"),
        ("org-a/sub", "pay-0"),
        ("org-a-b", "pay-1"),
        ("org-a", "pay-2"),
    ] {
        read_model.upsert(record(org, id, 1)).await.unwrap();
    }
    let all = read_model.list_keys(None, None, 100).await.unwrap();
    let texts: Vec<&str> = all.iter().map(PaymentKey::as_str).collect();
    // `-` sorts before `/`: by (organization, id) `org-a` would come before `org-a-b`.
    assert_eq!(
        texts,
        ["org-a-b/pay-1", "org-a/pay-1", "org-a/pay-2", "org-a/sub/pay-0"]
    );
    assert_eq!(all[3].organization_id(), "org-a/sub");
    assert_eq!(read_model.list_keys(None, Some(&all[1]), 2).await.unwrap(), all[2..4]);
    assert_eq!(read_model.list_keys(Some("org-a"), None, 100).await.unwrap(), all[1..3]);
    assert_eq!(
        read_model.list_keys(Some("org-a"), Some(&all[1]), 100).await.unwrap(),
        all[2..3]
    );
    assert_eq!(
        read_model.list_keys(Some("org-a"), Some(&all[0]), 1).await.unwrap(),
        all[1..2]
    );
    assert_eq!(
        read_model.list_keys(Some("org-a/sub"), None, 100).await.unwrap(),
        all[3..]
    );
    assert!(read_model.list_keys(Some("org"), None, 100).await.unwrap().is_empty());
    assert_eq!(
        read_model
            .list_by_organization("org-a", Page::first(10))
            .await
            .unwrap()
            .total,
        2
    );
}

#[tokio::test]
async fn the_two_views_are_apart_and_reset_one_at_a_time() {
    let (file, _dir) = fresh_file().await;
    let (read_model, index) = (file.read_model(), file.search_index());
    read_model.upsert(record("org-1", "pay-1", 1)).await.unwrap();
    index.index(vec![document("org-1", "pay-2", 2)]).await.unwrap();
    read_model
        .save_checkpoint(&Checkpoint::new("payments", 1, None))
        .await
        .unwrap();
    index
        .save_checkpoint(&Checkpoint::new("search", 2, None))
        .await
        .unwrap();
    assert_eq!(
        (
            read_model.payment_count().await.unwrap(),
            index.payment_count().await.unwrap()
        ),
        (1, 1)
    );
    assert!(read_model
        .get(&PaymentKey::new("org-1", "pay-2"))
        .await
        .unwrap()
        .is_none());

    index.reset().await.unwrap();
    assert_eq!(index.payment_count().await.unwrap(), 0);
    assert_eq!(
        index.checkpoint().await.unwrap(),
        None,
        "a reset view keeps no checkpoint"
    );
    assert!(index.list_keys(Some("org-1"), None, 10).await.unwrap().is_empty());
    assert_eq!(
        read_model.payment_count().await.unwrap(),
        1,
        "the other view is untouched"
    );
    assert_eq!(read_model.checkpoint().await.unwrap().map(|c| c.position), Some(1));
    read_model.reset().await.unwrap();
    assert!(read_model.list_keys(None, None, 10).await.unwrap().is_empty());
    assert!(read_model
        .list_by_organization("org-1", Page::first(10))
        .await
        .unwrap()
        .items
        .is_empty());
}

#[tokio::test]
async fn a_reopened_file_holds_everything_up_to_its_saved_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("payments.views");
    let file = open(&path).await;
    let (read_model, index) = (file.read_model(), file.search_index());
    let records = vec![
        record("org-1", "pay-1", 3),
        record("org-1", "pay-2", 7),
        record("org-2", "pay-1", 9),
    ];
    read_model.upsert_many(records.clone()).await.unwrap();
    index.index(vec![document("org-1", "pay-1", 3)]).await.unwrap();
    let mut checkpoint = Checkpoint::new("payments", 9, None);
    checkpoint.version = 2;
    read_model.save_checkpoint(&checkpoint).await.unwrap();
    index
        .save_checkpoint(&Checkpoint::new("search", 3, None))
        .await
        .unwrap();
    drop((file, read_model, index));

    let file = open(&path).await;
    let (read_model, index) = (file.read_model(), file.search_index());
    assert_eq!(read_model.checkpoint().await.unwrap(), Some(checkpoint));
    let keys: Vec<PaymentKey> = records.iter().map(|r| r.payment.key()).collect();
    let wanted: Vec<&PaymentKey> = keys.iter().collect();
    let found = read_model.get_many(&wanted).await.unwrap();
    assert_eq!(found, records.into_iter().map(Some).collect::<Vec<_>>());
    assert_eq!(index.checkpoint().await.unwrap().map(|c| c.position), Some(3));
    assert_eq!(index.get(&keys[0]).await.unwrap(), Some(document("org-1", "pay-1", 3)));
    assert!(
        !read_model.upsert(record("org-2", "pay-1", 8)).await.unwrap(),
        "positions are kept: an older event is still skipped"
    );
}

/// Saves a checkpoint at position 2 with two payments, then writes a third payment without
/// saving a checkpoint again.
async fn durable_then_more(file: &PaymentViewsFile) -> Checkpoint {
    let read_model = file.read_model();
    read_model.upsert(record("org-1", "pay-1", 1)).await.unwrap();
    read_model.upsert(record("org-1", "pay-2", 2)).await.unwrap();
    let durable = Checkpoint::new("payments", 2, None);
    read_model.save_checkpoint(&durable).await.unwrap();
    read_model.upsert(record("org-1", "pay-3", 3)).await.unwrap();
    durable
}

/// What a reopened file must hold after [`durable_then_more`]: the durable checkpoint and the
/// payments it covers (the third may or may not be there).
async fn holds_the_durable_checkpoint(file: &PaymentViewsFile, durable: &Checkpoint) {
    let read_model = file.read_model();
    assert_eq!(read_model.checkpoint().await.unwrap().as_ref(), Some(durable));
    for (id, position) in [("pay-1", 1), ("pay-2", 2)] {
        let found = read_model.get(&PaymentKey::new("org-1", id)).await.unwrap();
        assert_eq!(found.map(|r| r.position), Some(position), "{id}");
    }
    assert!(read_model.payment_count().await.unwrap() >= 2);
}

#[tokio::test]
async fn a_handle_dropped_without_a_durable_commit_reopens_at_its_last_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("payments.views");
    let file = open(&path).await;
    let durable = durable_then_more(&file).await;
    drop(file);
    holds_the_durable_checkpoint(&open(&path).await, &durable).await;
}

#[tokio::test]
async fn a_crash_leaves_at_least_the_last_checkpoint_and_its_payments() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("payments.views");
    let file = open(&path).await;
    let durable = durable_then_more(&file).await;
    // The file as a killed process leaves it: copied while still open, never closed.
    let crashed = dir.path().join("crashed.views");
    std::fs::copy(&path, &crashed).unwrap();
    holds_the_durable_checkpoint(&open(&crashed).await, &durable).await;
    drop(file);
}

#[tokio::test]
async fn a_damaged_or_foreign_file_is_corrupt_and_names_itself() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("payments.views");
    for bytes in [b"HIVE garbage".to_vec(), vec![0x5A; 64 * 1024]] {
        std::fs::write(&path, bytes).unwrap();
        match PaymentViewsFile::open(&path, CACHE).await {
            Err(EventStoreError::Corrupt { record, .. }) => assert!(record.ends_with("payments.views"), "{record}"),
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_file_open_elsewhere_is_unavailable() {
    let (file, dir) = fresh_file().await;
    let again = PaymentViewsFile::open(dir.path().join("payments.views"), CACHE).await;
    assert!(matches!(again, Err(EventStoreError::Unavailable(_))), "{again:?}");
    drop(file);
}
