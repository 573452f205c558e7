//! Appends in a transaction: the version check, the global-position counter (`$inc` on the
//! document `{_id: "global"}`) and the events' insert commit together or not at all.
//!
//! Two concurrent appends both `$inc` the counter: the second gets a write conflict (112,
//! `TransientTransactionError`) until the first has committed, then retries from the start.
//! So positions are handed out in commit order, and an aborted append gives its positions
//! back: the log is gap-free, and a reader never sees position `p + 1` before `p`.

use bson::{doc, Bson};
use hive_domain::{resolve_stale_append, EventEnvelope, EventStoreError, StoreResult};
use mongodb::error::Error;
use mongodb::options::ReturnDocument;
use mongodb::ClientSession;

use super::codec::{encode, int, stored_form};
use super::retry::Backoff;
use super::MongoEventStore;
use crate::error::{backend, duplicate_key, is_transient, is_unknown_commit, store_error};
use crate::setup::GLOBAL;

/// What a transaction got to before its commit.
pub(crate) enum Prepared {
    /// Everything is written; committing makes it visible.
    Ready(Vec<EventEnvelope>),
    /// The stream is not at the expected version (nothing written; the transaction is to be
    /// aborted).
    Stale,
}

impl MongoEventStore {
    /// Appends in a transaction, retrying transient errors until `retry_timeout`.
    pub(crate) async fn append_in_transaction(
        &self,
        aggregate_id: &str,
        expected: u64,
        events: Vec<EventEnvelope>,
    ) -> StoreResult<Vec<EventEnvelope>> {
        let mut session = self
            .shared
            .client
            .start_session()
            .await
            .map_err(backend("start a session"))?;
        let mut backoff = Backoff::new(self.shared.options.retry_timeout);
        loop {
            let attempt = match self.prepare(&mut session, aggregate_id, expected, &events).await {
                Ok(Prepared::Ready(stored)) => commit(&mut session, &mut backoff).await.map(|()| Some(stored)),
                Ok(Prepared::Stale) => {
                    abort(&mut session).await;
                    Ok(None)
                }
                Err(error) => {
                    abort(&mut session).await;
                    Err(error)
                }
            };
            match attempt {
                Ok(Some(stored)) => return Ok(stored),
                Ok(None) => return self.resolve_stale(aggregate_id, expected, &events).await,
                Err(error) if is_transient(&error) => {
                    if !backoff.wait().await {
                        return Err(EventStoreError::Unavailable(format!(
                            "append to `{aggregate_id}` still conflicted after {} attempts: {error}",
                            backoff.attempts()
                        )));
                    }
                }
                Err(error) => return Err(store_error("append", &error)),
            }
        }
    }

    /// Starts a transaction on `session` and writes the batch in it, without committing.
    pub(crate) async fn prepare(
        &self,
        session: &mut ClientSession,
        aggregate_id: &str,
        expected: u64,
        events: &[EventEnvelope],
    ) -> Result<Prepared, Error> {
        session
            .start_transaction()
            .with_options(self.shared.transaction_options())
            .await?;
        if expected > 0 {
            // Only an ahead-of-stream append needs this read (a stale one hits the unique
            // (aggregateId, version) index below): is event `expected` there? An equality
            // look-up on the unique index, cheap on every server.
            let found = self
                .events()
                .find_one(doc! { "aggregateId": aggregate_id, "version": int(expected) })
                .projection(doc! { "_id": 1 })
                .session(&mut *session)
                .await?;
            if found.is_none() {
                return Ok(Prepared::Stale);
            }
        }
        let count = events.len() as u64;
        let counter = self
            .counters()
            .find_one_and_update(doc! { "_id": GLOBAL }, doc! { "$inc": { "position": int(count) } })
            .upsert(true)
            .return_document(ReturnDocument::After)
            .session(&mut *session)
            .await?;
        let last = counter
            .and_then(|c| c.get("position").and_then(Bson::as_i64))
            .and_then(|p| u64::try_from(p).ok())
            .unwrap_or(count);
        let first = last + 1 - count;
        let stored: Vec<EventEnvelope> = events
            .iter()
            .zip(first..)
            .map(|(event, position)| stored_form(event.clone(), position))
            .collect();
        match self
            .events()
            .insert_many(stored.iter().map(encode))
            .session(&mut *session)
            .await
        {
            Ok(_) => Ok(Prepared::Ready(stored)),
            Err(error) => match duplicate_key(&error) {
                Some(message) if !crate::error::names_position_index(&message) => Ok(Prepared::Stale),
                _ => Err(error),
            },
        }
    }

    /// The answer to an append whose expected version was not the stream's: an idempotent
    /// re-append returns the stored events, anything else is a conflict with the actual version.
    pub(crate) async fn resolve_stale(
        &self,
        aggregate_id: &str,
        expected: u64,
        events: &[EventEnvelope],
    ) -> StoreResult<Vec<EventEnvelope>> {
        let actual = self.version_of(aggregate_id).await?;
        let stored = self
            .versions_between(aggregate_id, expected + 1, expected + events.len() as u64)
            .await?;
        resolve_stale_append(aggregate_id, expected, actual, events, stored)
    }
}

/// Commits, retrying an unknown commit result (the commit is idempotent).
pub(crate) async fn commit(session: &mut ClientSession, backoff: &mut Backoff) -> Result<(), Error> {
    loop {
        match session.commit_transaction().await {
            Ok(()) => return Ok(()),
            Err(error) if is_unknown_commit(&error) && !is_transient(&error) && backoff.wait().await => {}
            Err(error) => return Err(error),
        }
    }
}

/// Aborts the transaction if one is open (an error here changes nothing: the server drops
/// an abandoned transaction by itself).
pub(crate) async fn abort(session: &mut ClientSession) {
    if let Err(error) = session.abort_transaction().await {
        tracing::debug!(%error, "abortTransaction failed");
    }
}
