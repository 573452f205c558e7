//! [`MongoCheckpointStore`]: projection checkpoints in `projections_metadata`, dead letters
//! beside them.

use std::sync::Arc;

use async_trait::async_trait;
use bson::{doc, Bson, Document};
use futures::TryStreamExt;
use hive_domain::{Checkpoint, CheckpointStore, DeadLetter, StoreResult};
use mongodb::Collection;
use uuid::Uuid;

use crate::error::{backend, corrupt};
use crate::event_store::codec::{date, int};
use crate::instant;
use crate::store::Shared;

/// The field of the timestamp of the last event applied.
const LAST_TIMESTAMP: &str = "lastProcessedTimestamp";

/// A [`CheckpointStore`] on MongoDB.
///
/// `projections_metadata` holds one document per projection:
/// `{projectionName, position, lastProcessedEventId, lastProcessedTimestamp, version, updatedAt}`
/// (`lastProcessedTimestamp` a date, its nanoseconds below the millisecond in
/// `subMillisecondNanos.lastProcessedTimestamp`; `version` an integer). A document written
/// before the last two existed reads as `None` and version 0. Dead letters go to
/// `projection_dead_letters`.
#[derive(Debug, Clone)]
pub struct MongoCheckpointStore {
    shared: Arc<Shared>,
}

impl MongoCheckpointStore {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    fn checkpoints(&self) -> Collection<Document> {
        self.shared
            .collection(&self.shared.options.collections.projections_metadata)
    }

    fn dead_letters_collection(&self) -> Collection<Document> {
        self.shared.collection(&self.shared.options.collections.dead_letters)
    }
}

fn uuid_of(doc: &Document, field: &str) -> Option<Uuid> {
    match doc.get(field) {
        Some(Bson::Binary(b)) => Uuid::from_slice(&b.bytes).ok(),
        Some(Bson::String(s)) => s.parse().ok(),
        _ => None,
    }
}

fn position_of(doc: &Document, field: &str) -> Option<u64> {
    match doc.get(field) {
        Some(Bson::Int64(v)) => u64::try_from(*v).ok(),
        Some(Bson::Int32(v)) => u64::try_from(*v).ok(),
        _ => None,
    }
}

fn decode_checkpoint(doc: &Document) -> StoreResult<Checkpoint> {
    let name = doc.get_str("projectionName").unwrap_or_default().to_owned();
    let bad = |what: &str| corrupt(format!("checkpoint {name}"), format!("bad `{what}`"));
    let version = match doc.get("version") {
        None | Some(Bson::Null) => 0,
        Some(_) => position_of(doc, "version")
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| bad("version"))?,
    };
    Ok(Checkpoint {
        position: position_of(doc, "position").ok_or_else(|| bad("position"))?,
        last_event_id: uuid_of(doc, "lastProcessedEventId"),
        last_processed_timestamp: instant::read(doc, LAST_TIMESTAMP).map_err(|_| bad(LAST_TIMESTAMP))?,
        version,
        updated_at: doc.get_datetime("updatedAt").map_err(|_| bad("updatedAt"))?.to_chrono(),
        projection: name,
    })
}

fn decode_dead_letter(doc: &Document) -> StoreResult<DeadLetter> {
    let name = doc.get_str("projectionName").unwrap_or_default().to_owned();
    let bad = |what: &str| corrupt(format!("dead letter of {name}"), format!("bad `{what}`"));
    Ok(DeadLetter {
        position: position_of(doc, "position").ok_or_else(|| bad("position"))?,
        event_id: uuid_of(doc, "eventId").ok_or_else(|| bad("eventId"))?,
        event_type: doc.get_str("eventType").map_err(|_| bad("eventType"))?.to_owned(),
        error: doc.get_str("error").map_err(|_| bad("error"))?.to_owned(),
        recorded_at: doc
            .get_datetime("recordedAt")
            .map_err(|_| bad("recordedAt"))?
            .to_chrono(),
        projection: name,
    })
}

#[async_trait]
impl CheckpointStore for MongoCheckpointStore {
    async fn load(&self, projection: &str) -> StoreResult<Option<Checkpoint>> {
        let found = self
            .checkpoints()
            .find_one(doc! { "projectionName": projection })
            .await
            .map_err(backend("load a checkpoint"))?;
        found.as_ref().map(decode_checkpoint).transpose()
    }

    async fn save(&self, checkpoint: Checkpoint) -> StoreResult<()> {
        let event_id = checkpoint
            .last_event_id
            .map_or(Bson::Null, |id| Bson::from(bson::Uuid::from(id)));
        let (timestamp, nanos) = match checkpoint.last_processed_timestamp.map(instant::split) {
            Some((date, nanos)) => (Bson::DateTime(date), doc! { LAST_TIMESTAMP: nanos }),
            None => (Bson::Null, Document::new()),
        };
        self.checkpoints()
            .update_one(
                doc! { "projectionName": &checkpoint.projection },
                doc! { "$set": {
                    "projectionName": &checkpoint.projection,
                    "position": int(checkpoint.position),
                    "lastProcessedEventId": event_id,
                    LAST_TIMESTAMP: timestamp,
                    instant::SUB_MS: nanos,
                    "version": i64::from(checkpoint.version),
                    "updatedAt": date(checkpoint.updated_at),
                } },
            )
            .upsert(true)
            .await
            .map(drop)
            .map_err(backend("save a checkpoint"))
    }

    async fn list(&self) -> StoreResult<Vec<Checkpoint>> {
        let docs: Vec<Document> = self
            .checkpoints()
            .find(doc! {})
            .sort(doc! { "projectionName": 1 })
            .await
            .map_err(backend("list checkpoints"))?
            .try_collect()
            .await
            .map_err(backend("list checkpoints"))?;
        docs.iter().map(decode_checkpoint).collect()
    }

    async fn record_dead_letter(&self, dead_letter: DeadLetter) -> StoreResult<()> {
        self.dead_letters_collection()
            .insert_one(doc! {
                "projectionName": &dead_letter.projection,
                "position": int(dead_letter.position),
                "eventId": bson::Uuid::from(dead_letter.event_id),
                "eventType": &dead_letter.event_type,
                "error": &dead_letter.error,
                "recordedAt": date(dead_letter.recorded_at),
            })
            .await
            .map(drop)
            .map_err(backend("record a dead letter"))
    }

    async fn dead_letters(&self, projection: &str) -> StoreResult<Vec<DeadLetter>> {
        let docs: Vec<Document> = self
            .dead_letters_collection()
            .find(doc! { "projectionName": projection })
            .sort(doc! { "recordedAt": 1, "_id": 1 })
            .await
            .map_err(backend("read dead letters"))?
            .try_collect()
            .await
            .map_err(backend("read dead letters"))?;
        docs.iter().map(decode_dead_letter).collect()
    }

    async fn remove_dead_letters(&self, projection: &str, positions: &[u64]) -> StoreResult<u64> {
        let mut filter = doc! { "projectionName": projection };
        if !positions.is_empty() {
            // A position past `i64::MAX` is never a stored one; dropping it must not turn a list
            // of such positions into no condition, which means all of them.
            let stored: Vec<i64> = positions.iter().filter_map(|&p| i64::try_from(p).ok()).collect();
            if stored.is_empty() {
                return Ok(0);
            }
            filter.insert("position", doc! { "$in": stored });
        }
        self.dead_letters_collection()
            .delete_many(filter)
            .await
            .map(|deleted| deleted.deleted_count)
            .map_err(backend("remove dead letters"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn documents_without_version_or_timestamp_read_as_before_versions() {
        let old = doc! { "projectionName": "payments", "position": 7_i64, "updatedAt": date(Utc::now()) };
        let checkpoint = decode_checkpoint(&old).unwrap();
        assert_eq!((checkpoint.position, checkpoint.version), (7, 0));
        assert_eq!(checkpoint.last_processed_timestamp, None);
        let mut int32 = old.clone();
        int32.insert("version", 2_i32);
        int32.insert(LAST_TIMESTAMP, Bson::Null);
        assert_eq!(decode_checkpoint(&int32).unwrap().version, 2);
        let mut bad = old;
        bad.insert("version", "two");
        assert!(decode_checkpoint(&bad).is_err());
        bad.insert("version", -1_i64);
        assert!(decode_checkpoint(&bad).is_err());
    }

    #[test]
    fn timestamps_keep_their_nanoseconds() {
        let at = Utc.with_ymd_and_hms(2024, 12, 19, 10, 0, 0).unwrap() + chrono::Duration::nanoseconds(1_234_567);
        let (date, nanos) = instant::split(at);
        let stored = doc! {
            "projectionName": "payments", "position": 7_i64, "updatedAt": date,
            LAST_TIMESTAMP: date, instant::SUB_MS: { LAST_TIMESTAMP: nanos },
        };
        assert_eq!(decode_checkpoint(&stored).unwrap().last_processed_timestamp, Some(at));
    }
}
