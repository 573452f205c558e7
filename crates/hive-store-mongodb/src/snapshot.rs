//! [`MongoSnapshotStore`]: the latest snapshot of each aggregate in `snapshots`.

use std::sync::Arc;

use async_trait::async_trait;
use bson::{doc, Document};
use hive_domain::{Snapshot, SnapshotStore, StoreResult};
use mongodb::Collection;

use crate::error::{backend, corrupt, duplicate_key, store_error};
use crate::event_store::codec::{date, int};
use crate::json::{to_bson, to_json};
use crate::store::Shared;

/// A [`SnapshotStore`] on MongoDB: one document per aggregate
/// (`{aggregateId, aggregateType, version, data, timestamp}`, unique on `aggregateId`), so a
/// newer snapshot replaces (prunes) the older one and an older one is ignored.
#[derive(Debug, Clone)]
pub struct MongoSnapshotStore {
    shared: Arc<Shared>,
}

impl MongoSnapshotStore {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    fn snapshots(&self) -> Collection<Document> {
        self.shared.collection(&self.shared.options.collections.snapshots)
    }
}

fn decode(doc: &Document) -> StoreResult<Snapshot> {
    let id = doc.get_str("aggregateId").unwrap_or_default().to_owned();
    let bad = |field: &str, e: &dyn std::fmt::Display| corrupt(format!("snapshot {id}"), format!("`{field}`: {e}"));
    Ok(Snapshot {
        aggregate_id: id.clone(),
        aggregate_type: doc
            .get_str("aggregateType")
            .map_err(|e| bad("aggregateType", &e))?
            .to_owned(),
        version: doc
            .get_i64("version")
            .ok()
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(|| bad("version", &"not a non-negative Int64"))?,
        state: doc.get("data").map_or(serde_json::Value::Null, to_json),
        timestamp: doc
            .get_datetime("timestamp")
            .map_err(|e| bad("timestamp", &e))?
            .to_chrono(),
    })
}

#[async_trait]
impl SnapshotStore for MongoSnapshotStore {
    async fn save(&self, snapshot: Snapshot) -> StoreResult<()> {
        let version = int(snapshot.version);
        let written = self
            .snapshots()
            .update_one(
                doc! { "aggregateId": &snapshot.aggregate_id, "version": { "$lte": version } },
                doc! { "$set": {
                    "aggregateId": &snapshot.aggregate_id,
                    "aggregateType": &snapshot.aggregate_type,
                    "version": version,
                    "data": to_bson(&snapshot.state),
                    "timestamp": date(snapshot.timestamp),
                } },
            )
            .upsert(true)
            .await;
        match written {
            Ok(_) => Ok(()),
            // A newer snapshot is stored: the filter missed it and the upsert hit the unique index.
            Err(e) if duplicate_key(&e).is_some() => Ok(()),
            Err(e) => Err(store_error("save a snapshot", &e)),
        }
    }

    async fn load(&self, aggregate_id: &str) -> StoreResult<Option<Snapshot>> {
        let found = self
            .snapshots()
            .find_one(doc! { "aggregateId": aggregate_id })
            .projection(doc! { "_id": 0 })
            .await
            .map_err(backend("load a snapshot"))?;
        found.as_ref().map(decode).transpose()
    }
}
