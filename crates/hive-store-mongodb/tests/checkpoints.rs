//! Checkpoints on MongoDB beyond the shared suite: the projection code version and the
//! timestamp of the last event round-trip (to the nanosecond), a checkpoint written before
//! they existed reads as version 0 without a timestamp, and saving `None` clears it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bson::{doc, Document};
use chrono::{Duration, SubsecRound, TimeZone, Utc};
use common::{drop_database, fresh_default, server};
use hive_domain::{Checkpoint, CheckpointStore};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_and_last_timestamp_round_trip() {
    if !server() {
        return;
    }
    let store = fresh_default().await;
    let _drop = drop_database(store.clone());
    let checkpoints = store.checkpoint_store();
    let at = Utc.with_ymd_and_hms(2024, 12, 19, 10, 0, 0).unwrap() + Duration::nanoseconds(123_456_789);
    let saved = Checkpoint {
        updated_at: Utc::now().trunc_subsecs(3),
        ..Checkpoint::new("payments", 42, Some(Uuid::now_v7()))
            .with_version(2)
            .with_last_processed_timestamp(Some(at))
    };
    checkpoints.save(saved.clone()).await.unwrap();
    assert_eq!(checkpoints.load("payments").await.unwrap(), Some(saved.clone()));
    assert_eq!(checkpoints.list().await.unwrap(), std::slice::from_ref(&saved));
    let stored = store
        .database()
        .collection::<Document>("projections_metadata")
        .find_one(doc! { "projectionName": "payments" })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.get_i64("version").unwrap(), 2);
    assert_eq!(
        stored.get_datetime("lastProcessedTimestamp").unwrap().to_chrono(),
        at.trunc_subsecs(3)
    );

    // A rebuild starts again: no timestamp, position 0.
    let restarted = Checkpoint {
        updated_at: Utc::now().trunc_subsecs(3),
        ..Checkpoint::new("payments", 0, None).with_version(2)
    };
    checkpoints.save(restarted.clone()).await.unwrap();
    assert_eq!(checkpoints.load("payments").await.unwrap(), Some(restarted));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_of_the_previous_version_read_as_version_zero() {
    if !server() {
        return;
    }
    let store = fresh_default().await;
    let _drop = drop_database(store.clone());
    let updated = Utc::now().trunc_subsecs(3);
    let event = Uuid::now_v7();
    store
        .database()
        .collection::<Document>("projections_metadata")
        .insert_one(doc! {
            "projectionName": "old", "position": 7_i64,
            "lastProcessedEventId": bson::Uuid::from(event), "updatedAt": bson::DateTime::from_chrono(updated),
        })
        .await
        .unwrap();
    let loaded = store.checkpoint_store().load("old").await.unwrap().unwrap();
    assert_eq!(
        loaded,
        Checkpoint {
            updated_at: updated,
            ..Checkpoint::new("old", 7, Some(event))
        }
    );
    assert_eq!((loaded.version, loaded.last_processed_timestamp), (0, None));
}
