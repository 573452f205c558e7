//! The fallback for deployments without transactions (a standalone server): one writer at a
//! time holds a lease on the counter document, writes its events above the committed position
//! (the watermark), then moves the watermark and releases the lease in one single-document
//! update — the commit point. Readers never look above the watermark, so a batch appears
//! whole or not at all, in position order.
//!
//! A writer that dies before its commit leaves invisible events above the watermark and its
//! lease; once the lease expires (`lease_ttl`) the next writer takes it over and deletes them
//! first. Safety assumes no writer stalls for longer than the lease between taking it and
//! committing, and that the writers' clocks agree to well within it.

use bson::{doc, Bson, DateTime as BsonDateTime, Document};
use chrono::Utc;
use hive_domain::{EventEnvelope, EventStoreError, StoreResult};
use mongodb::options::ReturnDocument;
use uuid::Uuid;

use super::codec::{encode, int, stored_form};
use super::retry::Backoff;
use super::MongoEventStore;
use crate::error::{backend, duplicate_key};
use crate::setup::GLOBAL;

/// A batch written above the watermark under a lease, not yet committed.
#[derive(Debug)]
pub(crate) struct LeasedBatch {
    pub(crate) token: String,
    pub(crate) watermark: u64,
    pub(crate) stored: Vec<EventEnvelope>,
}

/// What preparing under the lease got to.
pub(crate) enum LeasePrepared {
    /// Written; [`MongoEventStore::commit_lease`] makes it visible.
    Ready(LeasedBatch),
    /// The stream is not at the expected version; the lease is released.
    Stale,
}

impl MongoEventStore {
    /// Appends without a transaction (see the module documentation).
    pub(crate) async fn append_with_lease(
        &self,
        aggregate_id: &str,
        expected: u64,
        events: Vec<EventEnvelope>,
    ) -> StoreResult<Vec<EventEnvelope>> {
        match self.prepare_lease(aggregate_id, expected, &events).await? {
            LeasePrepared::Ready(batch) => self.commit_lease(batch).await,
            LeasePrepared::Stale => self.resolve_stale(aggregate_id, expected, &events).await,
        }
    }

    /// Takes the lease (waiting while another writer holds it), checks the version and writes
    /// the batch above the watermark.
    pub(crate) async fn prepare_lease(
        &self,
        aggregate_id: &str,
        expected: u64,
        events: &[EventEnvelope],
    ) -> StoreResult<LeasePrepared> {
        let token = Uuid::new_v4().to_string();
        let watermark = self.take_lease(&token).await?;
        // Ahead of the stream? (A stale append hits the unique (aggregateId, version) index.)
        if expected > 0 {
            let found = self
                .events()
                .find_one(
                    doc! { "aggregateId": aggregate_id, "version": int(expected), "_id": { "$lte": int(watermark) } },
                )
                .projection(doc! { "_id": 1 })
                .await;
            match found {
                Ok(Some(_)) => {}
                other => {
                    self.release_lease(&token).await?;
                    return other
                        .map(|_| LeasePrepared::Stale)
                        .map_err(backend("check a stream version"));
                }
            }
        }
        let stored: Vec<EventEnvelope> = events
            .iter()
            .zip(watermark + 1..)
            .map(|(event, position)| stored_form(event.clone(), position))
            .collect();
        let ids: Vec<Bson> = stored
            .iter()
            .map(|e| Bson::from(bson::Uuid::from(e.event_id)))
            .collect();
        let last = watermark + stored.len() as u64;
        loop {
            let inserted = self.events().insert_many(stored.iter().map(encode)).await;
            let Err(error) = inserted else {
                return Ok(LeasePrepared::Ready(LeasedBatch {
                    token,
                    watermark,
                    stored,
                }));
            };
            // Ours come out first, whatever happened (an ordered insert stops at the first error).
            self.events()
                .delete_many(
                    doc! { "_id": { "$gt": int(watermark), "$lte": int(last) }, "eventId": { "$in": ids.clone() } },
                )
                .await
                .map_err(backend("remove a failed batch"))?;
            let is_duplicate = duplicate_key(&error).is_some();
            if is_duplicate && self.garbage_above(watermark).await? {
                // A writer that lost its lease left events above the watermark: clear them
                // (still holding the lease, renewed first) and write again.
                self.renew_lease(&token).await?;
                self.delete_above(watermark).await?;
                continue;
            }
            self.release_lease(&token).await?;
            return if is_duplicate {
                Ok(LeasePrepared::Stale)
            } else {
                Err(crate::error::store_error("append", &error))
            };
        }
    }

    /// Moves the watermark over the batch and releases the lease: the commit point.
    pub(crate) async fn commit_lease(&self, batch: LeasedBatch) -> StoreResult<Vec<EventEnvelope>> {
        let head = batch.watermark + batch.stored.len() as u64;
        let committed = self
            .counters()
            .update_one(
                doc! { "_id": GLOBAL, "lease.token": &batch.token },
                doc! { "$set": { "position": int(head) }, "$unset": { "lease": "" } },
            )
            .await
            .map_err(backend("commit an append"))?;
        if committed.matched_count == 1 {
            return Ok(batch.stored);
        }
        let ids: Vec<Bson> = batch
            .stored
            .iter()
            .map(|e| Bson::from(bson::Uuid::from(e.event_id)))
            .collect();
        self.events()
            .delete_many(doc! { "_id": { "$gt": int(batch.watermark), "$lte": int(head) }, "eventId": { "$in": ids } })
            .await
            .map_err(backend("remove an expired batch"))?;
        Err(EventStoreError::Unavailable(
            "the append lease expired before the commit (a writer stalled longer than lease_ttl); nothing was \
             written, retry"
                .into(),
        ))
    }

    /// Takes the lease when free or expired; returns the watermark. Clears what a writer whose
    /// lease expired left behind.
    async fn take_lease(&self, token: &str) -> StoreResult<u64> {
        let mut backoff = Backoff::new(self.shared.options.retry_timeout);
        loop {
            let now = Utc::now();
            let until = now + chrono::Duration::from_std(self.shared.options.lease_ttl).unwrap_or_default();
            let before = self
                .counters()
                .find_one_and_update(
                    doc! { "_id": GLOBAL, "$or": [ { "lease": Bson::Null }, { "lease.until": { "$lt": BsonDateTime::from_chrono(now) } } ] },
                    doc! { "$set": { "lease": { "token": token, "until": BsonDateTime::from_chrono(until) } } },
                )
                .return_document(ReturnDocument::Before)
                .await
                .map_err(backend("take the append lease"))?;
            if let Some(before) = before {
                let watermark = before
                    .get("position")
                    .and_then(Bson::as_i64)
                    .and_then(|p| u64::try_from(p).ok())
                    .unwrap_or(0);
                if before.get_document("lease").is_ok() {
                    tracing::warn!(
                        watermark,
                        "took over an expired append lease; removing its unfinished events"
                    );
                    self.delete_above(watermark).await?;
                }
                return Ok(watermark);
            }
            if !backoff.wait().await {
                return Err(EventStoreError::Unavailable(
                    "another writer held the append lease for longer than retry_timeout".into(),
                ));
            }
        }
    }

    async fn renew_lease(&self, token: &str) -> StoreResult<()> {
        let until = Utc::now() + chrono::Duration::from_std(self.shared.options.lease_ttl).unwrap_or_default();
        let renewed = self
            .counters()
            .update_one(
                doc! { "_id": GLOBAL, "lease.token": token },
                doc! { "$set": { "lease.until": BsonDateTime::from_chrono(until) } },
            )
            .await
            .map_err(backend("renew the append lease"))?;
        if renewed.matched_count == 1 {
            Ok(())
        } else {
            Err(EventStoreError::Unavailable(
                "the append lease expired; nothing was written, retry".into(),
            ))
        }
    }

    async fn release_lease(&self, token: &str) -> StoreResult<()> {
        self.counters()
            .update_one(
                doc! { "_id": GLOBAL, "lease.token": token },
                doc! { "$unset": { "lease": "" } },
            )
            .await
            .map(drop)
            .map_err(backend("release the append lease"))
    }

    async fn garbage_above(&self, watermark: u64) -> StoreResult<bool> {
        let found: Option<Document> = self
            .events()
            .find_one(doc! { "_id": { "$gt": int(watermark) } })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(backend("look for unfinished appends"))?;
        Ok(found.is_some())
    }

    async fn delete_above(&self, watermark: u64) -> StoreResult<()> {
        self.events()
            .delete_many(doc! { "_id": { "$gt": int(watermark) } })
            .await
            .map(drop)
            .map_err(backend("remove unfinished appends"))
    }
}
