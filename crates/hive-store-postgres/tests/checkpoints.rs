//! `PostgresCheckpointStore::save_in`: a checkpoint saved in the caller's transaction commits
//! or rolls back with it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{drop_schema, fresh_default, raw_client, server};
use hive_domain::{Checkpoint, CheckpointStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_saved_in_a_transaction_follows_it() {
    if !server() {
        return;
    }
    let store = fresh_default().await;
    let _drop = drop_schema(store.clone());
    let checkpoints = store.checkpoint_store();
    let mut client = raw_client().await;

    let tx = client.transaction().await.unwrap();
    checkpoints
        .save_in(&tx, &Checkpoint::new("read-model", 7, None).with_version(2))
        .await
        .unwrap();
    assert_eq!(
        checkpoints.load("read-model").await.unwrap(),
        None,
        "seen before the commit"
    );
    tx.rollback().await.unwrap();
    assert_eq!(
        checkpoints.load("read-model").await.unwrap(),
        None,
        "kept after a rollback"
    );

    let tx = client.transaction().await.unwrap();
    let saved = Checkpoint::new("read-model", 9, Some(uuid::Uuid::now_v7())).with_version(2);
    checkpoints.save_in(&tx, &saved).await.unwrap();
    tx.commit().await.unwrap();
    let loaded = checkpoints.load("read-model").await.unwrap().unwrap();
    assert_eq!(
        (loaded.position, loaded.last_event_id, loaded.version),
        (9, saved.last_event_id, 2)
    );
}
