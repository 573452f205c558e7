//! Rows written around the adapter that it cannot read back are typed `Corrupt` errors naming
//! the row, never a panic; the rows around them still read. (The tables' check constraints
//! refuse most garbage before it is stored: negative versions and positions cannot be written.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{drop_schema, fresh_default, raw_client, server};
use futures::TryStreamExt;
use hive_domain::{CheckpointStore, EventEnvelope, EventStore, EventStoreError};
use serde_json::json;

fn is_corrupt(error: &EventStoreError, record: &str) -> bool {
    matches!(error, EventStoreError::Corrupt { record: r, .. } if r.contains(record))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn undecodable_rows_are_corrupt_errors() {
    if !server() {
        return;
    }
    let store = fresh_default().await;
    let _drop = drop_schema(store.clone());
    let events = store.event_store();
    let good = EventEnvelope::new("good", "T", "E", json!({"ok": true}), 1);
    events.append("good", 0, vec![good]).await.unwrap();

    let schema = format!("\"{}\"", store.schema());
    let admin = raw_client().await;
    admin
        .batch_execute(&format!(
            "INSERT INTO {schema}.events (global_position, event_id, aggregate_id, aggregate_type, event_type, \
               schema_version, version, recorded_at, correlation_id, causation_id, event_data, metadata, search_terms) \
             VALUES (2, gen_random_uuid(), 'bad', 'T', 'E', -1, 1, now(), 'c', 'c', '{{}}', '[1, 2]', '{{}}');
             UPDATE {schema}.global_position SET last = 2;
             INSERT INTO {schema}.checkpoints (projection, position, code_version, updated_at)
               VALUES ('bad', 1, 4294967296, now());"
        ))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));

    let error = events.read_all(0, 10).await.unwrap_err();
    assert!(is_corrupt(&error, "position 2"), "{error:?}");
    assert_eq!(
        events.read_all(0, 1).await.unwrap().len(),
        1,
        "the row before still reads"
    );
    let streamed: Result<Vec<EventEnvelope>, _> = events.read_stream("bad", 0).try_collect().await;
    assert!(is_corrupt(&streamed.unwrap_err(), "position 2"));
    let checkpoint = store.checkpoint_store().load("bad").await.unwrap_err();
    assert!(is_corrupt(&checkpoint, "checkpoint bad"), "{checkpoint:?}");
}
