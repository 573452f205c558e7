//! Start-up: transaction support detection and the indexes of every collection.

use bson::{doc, Bson, Document};
use hive_domain::StoreResult;
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

use crate::error::{backend, store_error};
use crate::store::Shared;

/// The `_id` of the global-position counter document.
pub(crate) const GLOBAL: &str = "global";

/// Whether the deployment runs multi-document transactions: a replica-set member (`setName`
/// in `hello`) or a `mongos` (`msg: "isdbgrid"`), with sessions.
pub(crate) async fn supports_transactions(database: &Database) -> StoreResult<bool> {
    let hello = database
        .run_command(doc! { "hello": 1 })
        .await
        .map_err(|e| store_error("hello", &e))?;
    let replica_set = hello.get_str("setName").is_ok();
    let mongos = hello.get_str("msg").is_ok_and(|m| m == "isdbgrid");
    let sessions = hello.contains_key("logicalSessionTimeoutMinutes");
    Ok((replica_set || mongos) && sessions)
}

fn index(keys: Document, name: &str) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(IndexOptions::builder().name(name.to_owned()).build())
        .build()
}

fn unique(keys: Document, name: &str) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(IndexOptions::builder().name(name.to_owned()).unique(true).build())
        .build()
}

/// The seed's look-up indexes of `events`, the organization's, the search terms' and the
/// event id's.
fn lookup_indexes() -> Vec<IndexModel> {
    vec![
        index(doc! { "aggregateType": 1, "timestamp": 1 }, "type_time"),
        index(doc! { "eventType": 1, "timestamp": 1 }, "event_type_time"),
        index(doc! { "correlationId": 1, "timestamp": 1 }, "correlation"),
        index(
            doc! { "aggregateType": 1, "timestamp": -1, "eventType": 1 },
            "type_recent_event_type",
        ),
        index(
            doc! { "metadata.organizationId": 1, "timestamp": 1 },
            "organization_time",
        ),
        index(doc! { "searchTerms": 1 }, "search_terms"),
        // `event_by_id`. Not unique: a database may hold copies of one event (an import made
        // twice); the look-up answers the first by position.
        index(doc! { "eventId": 1 }, "event_id"),
    ]
}

/// The indexes of the `events` collection (see the crate documentation for what each serves).
pub(crate) fn event_indexes(shared: &Shared) -> Vec<IndexModel> {
    // The global position is `_id`: unique by the primary key itself, at no extra index cost.
    let mut indexes = vec![unique(doc! { "aggregateId": 1, "version": 1 }, "stream_version")];
    if shared.options.lookup_indexes {
        indexes.extend(lookup_indexes());
    }
    if let Some(age) = shared.options.retention {
        indexes.push(
            IndexModel::builder()
                .keys(doc! { "timestamp": 1 })
                .options(
                    IndexOptions::builder()
                        .name("retention".to_owned())
                        .expire_after(age)
                        .build(),
                )
                .build(),
        );
    }
    indexes
}

/// Creates every index (idempotent) and the counter document, and moves the counter up to the
/// highest stored position should it be behind (a restored backup, a hand-made import).
pub(crate) async fn create_indexes(shared: &Shared) -> StoreResult<()> {
    let names = &shared.options.collections;
    shared
        .collection(&names.events)
        .create_indexes(event_indexes(shared))
        .await
        .map_err(backend("create the event indexes"))?;
    shared
        .collection(&names.snapshots)
        .create_indexes([
            unique(doc! { "aggregateId": 1 }, "aggregate"),
            index(doc! { "aggregateType": 1, "timestamp": 1 }, "type_time"),
        ])
        .await
        .map_err(backend("create the snapshot indexes"))?;
    shared
        .collection(&names.projections_metadata)
        .create_index(unique(doc! { "projectionName": 1 }, "projection"))
        .await
        .map_err(backend("create the checkpoint index"))?;
    shared
        .collection(&names.dead_letters)
        .create_index(index(doc! { "projectionName": 1, "recordedAt": 1 }, "projection_time"))
        .await
        .map_err(backend("create the dead-letter index"))?;
    let highest = shared
        .collection(&names.events)
        .find_one(doc! {})
        .sort(doc! { "_id": -1 })
        .projection(doc! { "_id": 1 })
        .await
        .map_err(backend("read the highest position"))?
        .and_then(|d| d.get("_id").and_then(Bson::as_i64))
        .unwrap_or(0);
    let counters = shared.collection(&names.counters);
    let ensured = counters
        .update_one(doc! { "_id": GLOBAL }, doc! { "$max": { "position": highest } })
        .upsert(true)
        .await;
    match ensured {
        Ok(_) => Ok(()),
        // Two processes starting at once both upserted: the other one created it.
        Err(e) if crate::error::duplicate_key(&e).is_some() => Ok(()),
        Err(e) => Err(store_error("create the position counter", &e)),
    }
}
