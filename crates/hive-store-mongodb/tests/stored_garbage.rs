//! Issue #9, stored-data deserialisers on MongoDB: an event document damaged in the database
//! (each field removed, null, of the wrong type, out of range) never panics a reader; `read_all`
//! and `read_stream` answer a typed `EventStoreError::Corrupt` naming the record (its global
//! position, the document `_id`). Skipped without `HIVE_MONGODB_URI`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bson::{doc, Bson, Document};
use common::{drop_database, fresh_default, server};
use futures::TryStreamExt;
use hive_domain::{EventEnvelope, EventStore, EventStoreError};
use serde_json::json;

const FIELDS: [&str; 12] = [
    "eventId",
    "aggregateId",
    "aggregateType",
    "eventType",
    "schemaVersion",
    "version",
    "timestamp",
    "correlationId",
    "causationId",
    "metadata",
    "globalPosition",
    "eventData",
];

fn bad_values() -> Vec<Option<Bson>> {
    vec![
        None,
        Some(Bson::Null),
        Some(Bson::String("garbage".into())),
        Some(Bson::Int64(-7)),
        Some(Bson::Double(f64::NAN)),
        Some(Bson::Document(doc! { "$where": "1", "a": [1, "b"] })),
        Some(Bson::Array(vec![Bson::Int32(1), Bson::Boolean(true)])),
        Some(Bson::Binary(bson::Binary {
            subtype: bson::spec::BinarySubtype::Generic,
            bytes: vec![1, 2, 3],
        })),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_event_documents_are_typed_corruption_naming_the_record() {
    if !server() {
        return;
    }
    let store = fresh_default().await;
    let _drop = drop_database(store.clone());
    let events = store.event_store();
    let event = EventEnvelope::new("garbage", "Garbage", "Stored", json!({"n": 1}), 1);
    events.append("garbage", 0, vec![event]).await.unwrap();
    let collection = store.database().collection::<Document>("events");
    let pristine = collection.find_one(doc! {}).await.unwrap().unwrap();
    let id = pristine.get("_id").cloned().unwrap();
    let mut cases = 0;
    let mut corrupt = 0;
    for field in FIELDS {
        for value in bad_values() {
            let mut damaged = pristine.clone();
            match &value {
                None => {
                    damaged.remove(field);
                }
                Some(v) => {
                    damaged.insert(field, v.clone());
                }
            }
            collection.replace_one(doc! {"_id": id.clone()}, damaged).await.unwrap();
            let all = events.read_all(0, 10).await;
            let stream: Result<Vec<EventEnvelope>, EventStoreError> =
                events.read_stream("garbage", 0).try_collect().await;
            for (reader, result) in [("read_all", all), ("read_stream", stream)] {
                match result {
                    // Fields with a default (metadata, eventData) or whose damage only changes
                    // which documents match (aggregateId, version, globalPosition).
                    Ok(_) => {}
                    Err(EventStoreError::Corrupt { record, reason }) => {
                        assert!(
                            record.contains(&id.to_string()),
                            "{reader}, {field} = {value:?}: the error must name the record: {record} ({reason})"
                        );
                        corrupt += 1;
                    }
                    Err(other) => panic!("{reader}, {field} = {value:?}: expected Corrupt, got {other:?}"),
                }
            }
            cases += 1;
        }
    }
    collection.replace_one(doc! {"_id": id}, pristine).await.unwrap();
    assert_eq!(
        events.read_all(0, 10).await.unwrap().len(),
        1,
        "the repaired document reads again"
    );
    assert!(corrupt > 0);
    eprintln!("{cases} damaged documents, {corrupt} typed corruptions naming the record, 0 panics");
}
