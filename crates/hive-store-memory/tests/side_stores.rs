//! Durable snapshot and checkpoint stores.

// Helpers outside `#[test]` functions panic on failure too, like the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use chrono::Utc;
use hive_domain::{Checkpoint, CheckpointStore, DeadLetter, EventStoreError, Snapshot, SnapshotStore};
use hive_store_memory::{
    DurableOptions, MemoryCheckpointStore, MemorySnapshotStore, CHECKPOINT_FILE, SNAPSHOT_LOG_FILE,
};
use serde_json::json;
use uuid::Uuid;

fn snapshot(id: &str, version: u64) -> Snapshot {
    Snapshot {
        aggregate_id: id.into(),
        aggregate_type: "Payment".into(),
        version,
        state: json!({"version": version}),
        timestamp: Utc::now(),
    }
}

#[tokio::test]
async fn snapshots_survive_reopen_and_the_latest_wins() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemorySnapshotStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    store.save(snapshot("a", 5)).await.unwrap();
    store.save(snapshot("a", 9)).await.unwrap();
    store.save(snapshot("a", 7)).await.unwrap();
    store.save(snapshot("b", 1)).await.unwrap();
    drop(store);
    let store = MemorySnapshotStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    assert_eq!(store.load("a").await.unwrap().unwrap().version, 9);
    assert_eq!(store.load("b").await.unwrap().unwrap().state, json!({"version": 1}));
    store.save(snapshot("a", 3)).await.unwrap();
    assert_eq!(store.load("a").await.unwrap().unwrap().version, 9);
    assert!(store.load("missing").await.unwrap().is_none());
}

#[tokio::test]
async fn a_torn_snapshot_tail_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemorySnapshotStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    store.save(snapshot("a", 1)).await.unwrap();
    store.save(snapshot("a", 2)).await.unwrap();
    drop(store);
    let path = dir.path().join(SNAPSHOT_LOG_FILE);
    let len = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len - 3).unwrap();
    drop(file);
    let store = MemorySnapshotStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    assert_eq!(store.load("a").await.unwrap().unwrap().version, 1);
    store.save(snapshot("a", 3)).await.unwrap();
    drop(store);
    let store = MemorySnapshotStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    assert_eq!(store.load("a").await.unwrap().unwrap().version, 3);
}

#[tokio::test]
async fn a_mostly_superseded_snapshot_log_is_compacted() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemorySnapshotStore::open(
        dir.path(),
        DurableOptions::default().with_fsync(hive_store_memory::FsyncPolicy::Never),
    )
    .await
    .unwrap();
    for version in 1..=1_100 {
        store.save(snapshot("a", version)).await.unwrap();
    }
    drop(store);
    let path = dir.path().join(SNAPSHOT_LOG_FILE);
    let before = std::fs::metadata(&path).unwrap().len();
    let store = MemorySnapshotStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < before / 100);
    assert_eq!(store.load("a").await.unwrap().unwrap().version, 1_100);
    store.save(snapshot("a", 1_101)).await.unwrap();
    drop(store);
    let store = MemorySnapshotStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    assert_eq!(store.load("a").await.unwrap().unwrap().version, 1_101);
}

fn dead_letter(projection: &str, position: u64) -> DeadLetter {
    DeadLetter {
        projection: projection.into(),
        position,
        event_id: Uuid::now_v7(),
        event_type: "PaymentCreated".into(),
        error: "boom".into(),
        recorded_at: Utc::now(),
    }
}

#[tokio::test]
async fn checkpoints_and_dead_letters_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryCheckpointStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    store.save(Checkpoint::new("p1", 5, None)).await.unwrap();
    store
        .save(Checkpoint::new("p1", 8, Some(Uuid::now_v7())))
        .await
        .unwrap();
    store.save(Checkpoint::new("p2", 1, None)).await.unwrap();
    let letters = [dead_letter("p1", 3), dead_letter("p2", 4), dead_letter("p1", 6)];
    for letter in &letters {
        store.record_dead_letter(letter.clone()).await.unwrap();
    }
    let saved = store.list().await.unwrap();
    drop(store);
    let store = MemoryCheckpointStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    assert_eq!(store.list().await.unwrap(), saved);
    assert_eq!(store.load("p1").await.unwrap().unwrap().position, 8);
    assert_eq!(
        store.dead_letters("p1").await.unwrap(),
        vec![letters[0].clone(), letters[2].clone()]
    );
    let err = MemoryCheckpointStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, EventStoreError::Unavailable(_)), "locked: {err:?}");
}

#[tokio::test]
async fn removed_dead_letters_stay_removed_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryCheckpointStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    let letters = [
        dead_letter("p1", 3),
        dead_letter("p2", 3),
        dead_letter("p1", 6),
        dead_letter("p1", 9),
        dead_letter("p2", 7),
    ];
    for letter in &letters {
        store.record_dead_letter(letter.clone()).await.unwrap();
    }
    assert_eq!(store.remove_dead_letters("p1", &[3, 9, 42]).await.unwrap(), 2);
    assert_eq!(store.remove_dead_letters("p2", &[]).await.unwrap(), 2);
    drop(store);
    let store = MemoryCheckpointStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    assert_eq!(store.dead_letters("p1").await.unwrap(), vec![letters[2].clone()]);
    assert!(store.dead_letters("p2").await.unwrap().is_empty());
    assert_eq!(store.remove_dead_letters("p1", &[3]).await.unwrap(), 0);
}

#[tokio::test]
async fn an_unreadable_checkpoint_file_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = std::fs::File::create(dir.path().join(CHECKPOINT_FILE)).unwrap();
    file.write_all(b"{\"checkpoints\": ").unwrap();
    drop(file);
    let err = MemoryCheckpointStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, EventStoreError::Corrupt { .. }), "{err:?}");
}

#[tokio::test]
async fn the_three_stores_share_one_directory() {
    let dir = tempfile::tempdir().unwrap();
    let options = DurableOptions::default();
    let _events = hive_store_memory::MemoryEventStore::open(dir.path(), options.clone())
        .await
        .unwrap();
    let _snapshots = MemorySnapshotStore::open(dir.path(), options.clone()).await.unwrap();
    let _checkpoints = MemoryCheckpointStore::open(dir.path(), options).await.unwrap();
}
