//! [`HeldAppend`]: an append written but not committed, for tests that prove readers never
//! pass an append still in flight. Only with the `testing` feature; not a stable API.

use hive_domain::{validate_append, EventEnvelope, EventStoreError, StoreResult};
use mongodb::ClientSession;

use super::append::{abort, commit, Prepared};
use super::lease::{LeasePrepared, LeasedBatch};
use super::retry::Backoff;
use super::MongoEventStore;
use crate::error::{backend, is_transient, store_error};

enum Pending {
    Transaction(Box<ClientSession>),
    Lease(LeasedBatch),
}

/// An append whose events are written but not committed: the transaction is open (or, in
/// fallback mode, the lease is held). Dropping it without [`HeldAppend::commit`] is a writer
/// that died: the transaction is abandoned (or the lease left to expire).
pub struct HeldAppend {
    store: MongoEventStore,
    pending: Pending,
    stored: Vec<EventEnvelope>,
}

impl std::fmt::Debug for HeldAppend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldAppend")
            .field("stored", &self.stored.len())
            .finish_non_exhaustive()
    }
}

impl HeldAppend {
    /// The envelopes as they will be stored, with their global positions.
    pub fn stored(&self) -> &[EventEnvelope] {
        &self.stored
    }

    /// Commits the append.
    pub async fn commit(self) -> StoreResult<Vec<EventEnvelope>> {
        match self.pending {
            Pending::Transaction(mut session) => {
                let mut backoff = Backoff::new(self.store.shared.options.retry_timeout);
                commit(&mut session, &mut backoff)
                    .await
                    .map_err(|e| store_error("commit", &e))?;
                Ok(self.stored)
            }
            Pending::Lease(batch) => self.store.commit_lease(batch).await,
        }
    }
}

impl MongoEventStore {
    /// Writes an append up to (not including) its commit and holds it there. For tests (feature
    /// `testing`).
    pub async fn append_held_open(
        &self,
        aggregate_id: &str,
        expected: u64,
        events: Vec<EventEnvelope>,
    ) -> StoreResult<HeldAppend> {
        validate_append(aggregate_id, expected, &events)?;
        let stale = || EventStoreError::Conflict {
            aggregate_id: aggregate_id.to_owned(),
            expected,
            actual: expected,
        };
        if !self.shared.transactions {
            return match self.prepare_lease(aggregate_id, expected, &events).await? {
                LeasePrepared::Ready(batch) => Ok(HeldAppend {
                    store: self.clone(),
                    stored: batch.stored.clone(),
                    pending: Pending::Lease(batch),
                }),
                LeasePrepared::Stale => Err(stale()),
            };
        }
        let mut session = self
            .shared
            .client
            .start_session()
            .await
            .map_err(backend("start a session"))?;
        let mut backoff = Backoff::new(self.shared.options.retry_timeout);
        loop {
            match self.prepare(&mut session, aggregate_id, expected, &events).await {
                Ok(Prepared::Ready(stored)) => {
                    return Ok(HeldAppend {
                        store: self.clone(),
                        pending: Pending::Transaction(Box::new(session)),
                        stored,
                    })
                }
                Ok(Prepared::Stale) => {
                    abort(&mut session).await;
                    return Err(stale());
                }
                Err(error) if is_transient(&error) && backoff.wait().await => abort(&mut session).await,
                Err(error) => {
                    abort(&mut session).await;
                    return Err(store_error("append", &error));
                }
            }
        }
    }
}
