//! Reading: one stream through a cursor, the global log, versions and the head position.
//!
//! In fallback mode (no transactions) events above the counter's committed position are an
//! append in progress (or a crashed one): every read hides them.

use bson::{doc, Bson, Document};
use futures::{StreamExt, TryStreamExt};
use hive_domain::{EventEnvelope, EventStream, StoreResult};
use uuid::Uuid;

use super::codec::{decode, envelope_projection, int};
use super::MongoEventStore;
use crate::error::{backend, corrupt};
use crate::setup::GLOBAL;

/// Documents fetched per cursor batch when streaming.
const STREAM_BATCH: u32 = 1_000;

impl MongoEventStore {
    /// The committed head of the log: the counter document's `position`.
    pub(crate) async fn committed_position(&self) -> StoreResult<u64> {
        let counter = self
            .counters()
            .find_one(doc! { "_id": GLOBAL })
            .await
            .map_err(backend("read the position counter"))?;
        match counter.as_ref().and_then(|c| c.get("position")) {
            None => Ok(0),
            Some(Bson::Int64(p)) => Ok(u64::try_from(*p).unwrap_or_default()),
            Some(Bson::Int32(p)) => Ok(u64::try_from(*p).unwrap_or_default()),
            Some(other) => Err(corrupt("position counter", format!("position is {other:?}"))),
        }
    }

    /// Adds the fallback's visibility bound to `filter` (nothing to add with transactions,
    /// where uncommitted events are invisible anyway).
    pub(crate) async fn visible(&self, mut filter: Document) -> StoreResult<Document> {
        if !self.shared.transactions {
            let committed = self.committed_position().await?;
            let bound = match filter.get_document_mut("_id") {
                Ok(existing) => existing,
                Err(_) => {
                    filter.insert("_id", Document::new());
                    filter
                        .get_document_mut("_id")
                        .map_err(|e| corrupt("filter", e.to_string()))?
                }
            };
            bound.insert("$lte", int(committed));
        }
        Ok(filter)
    }

    /// The version of a stream (0 when it has no event).
    pub(crate) async fn version_of(&self, aggregate_id: &str) -> StoreResult<u64> {
        let filter = self.visible(doc! { "aggregateId": aggregate_id }).await?;
        let last = self
            .events()
            .find_one(filter)
            .sort(doc! { "version": -1 })
            .projection(doc! { "_id": 0, "version": 1 })
            .await
            .map_err(backend("read a stream version"))?;
        Ok(last
            .and_then(|d| d.get("version").and_then(Bson::as_i64))
            .map_or(0, |v| u64::try_from(v).unwrap_or_default()))
    }

    /// The events of a stream from `from_version`, streamed from a cursor in batches.
    pub(crate) fn stream_from<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> EventStream<'a> {
        let opened = async move {
            let filter = self
                .visible(doc! { "aggregateId": aggregate_id, "version": { "$gte": int(from_version) } })
                .await?;
            let cursor = self
                .events()
                .find(filter)
                .sort(doc! { "version": 1 })
                .projection(envelope_projection())
                .batch_size(STREAM_BATCH)
                .await
                .map_err(backend("read a stream"))?;
            Ok::<_, hive_domain::EventStoreError>(
                cursor.map(|doc| doc.map_err(backend("read a stream")).and_then(|d| decode(&d))),
            )
        };
        futures::stream::once(opened).try_flatten().boxed()
    }

    /// Up to `limit` events of the log after `after`, in position order.
    pub(crate) async fn log_after(&self, after: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let filter = self.visible(doc! { "_id": { "$gt": int(after) } }).await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let docs: Vec<Document> = self
            .events()
            .find(filter)
            .sort(doc! { "_id": 1 })
            .projection(envelope_projection())
            .limit(limit)
            .batch_size(u32::try_from(limit.min(10_000)).unwrap_or(10_000))
            .await
            .map_err(backend("read the global log"))?
            .try_collect()
            .await
            .map_err(backend("read the global log"))?;
        docs.iter().map(decode).collect()
    }

    /// The stored event with id `event_id` (the `event_id` index; a document written with the
    /// id as a string, which [`decode`] reads too, is found as well).
    pub(crate) async fn find_event(&self, event_id: Uuid) -> StoreResult<Option<EventEnvelope>> {
        let ids = vec![Bson::from(bson::Uuid::from(event_id)), Bson::from(event_id.to_string())];
        let filter = self.visible(doc! { "eventId": { "$in": ids } }).await?;
        let found = self
            .events()
            .find_one(filter)
            .sort(doc! { "_id": 1 })
            .projection(envelope_projection())
            .await
            .map_err(backend("read an event by id"))?;
        found.as_ref().map(decode).transpose()
    }

    /// The stored events of a stream with versions `from..=to`, in order.
    pub(crate) async fn versions_between(
        &self,
        aggregate_id: &str,
        from: u64,
        to: u64,
    ) -> StoreResult<Vec<EventEnvelope>> {
        let filter = self
            .visible(doc! { "aggregateId": aggregate_id, "version": { "$gte": int(from), "$lte": int(to) } })
            .await?;
        let docs: Vec<Document> = self
            .events()
            .find(filter)
            .sort(doc! { "version": 1 })
            .projection(envelope_projection())
            .await
            .map_err(backend("read a stream"))?
            .try_collect()
            .await
            .map_err(backend("read a stream"))?;
        docs.iter().map(decode).collect()
    }
}
