//! [`HeldAppend`]: an append written but not committed, for tests that prove readers never
//! pass an append still in flight, and that a rolled-back append leaves nothing behind. Only
//! with the `testing` feature; not a stable API.

use hive_domain::{validate_append, EventEnvelope, EventStoreError, StoreResult};
use tokio::sync::oneshot;

use super::append::{stored_form, Written};
use super::PostgresEventStore;
use crate::error::PostgresError;

/// An append whose events are written in an open transaction (holding the stream's row and
/// the global position row). [`HeldAppend::commit`] commits it, [`HeldAppend::rollback`] or a
/// drop rolls it back: its positions are then taken by the next append.
#[derive(Debug)]
pub struct HeldAppend {
    stored: Vec<EventEnvelope>,
    /// `true`: commit; `false` or dropped: roll back.
    finish: Option<oneshot::Sender<bool>>,
    done: Option<oneshot::Receiver<Result<(), PostgresError>>>,
}

impl HeldAppend {
    /// The envelopes as they will be stored, with their global positions.
    pub fn stored(&self) -> &[EventEnvelope] {
        &self.stored
    }

    async fn finish(mut self, commit: bool) -> StoreResult<()> {
        if let Some(finish) = self.finish.take() {
            let _ = finish.send(commit);
        }
        match self.done.take() {
            Some(done) => match done.await {
                Ok(outcome) => Ok(outcome?),
                Err(_) => Err(EventStoreError::Backend("the held append's task ended".into())),
            },
            None => Ok(()),
        }
    }

    /// Commits the append.
    pub async fn commit(self) -> StoreResult<Vec<EventEnvelope>> {
        let stored = self.stored.clone();
        self.finish(true).await?;
        Ok(stored)
    }

    /// Rolls the append back.
    pub async fn rollback(self) -> StoreResult<()> {
        self.finish(false).await
    }
}

impl PostgresEventStore {
    /// Writes an append up to (not including) its commit and holds it there, in a task of
    /// its own that owns the connection. For tests (feature `testing`).
    pub async fn append_held_open(
        &self,
        stream: &str,
        expected: u64,
        batch: Vec<EventEnvelope>,
    ) -> StoreResult<HeldAppend> {
        validate_append(stream, expected, &batch)?;
        let events = stored_form(batch);
        let (ready_tx, ready_rx) = oneshot::channel::<Result<Option<Vec<EventEnvelope>>, PostgresError>>();
        let (finish_tx, finish_rx) = oneshot::channel::<bool>();
        let (done_tx, done_rx) = oneshot::channel();
        let (store, id) = (self.clone(), stream.to_owned());
        tokio::spawn(async move {
            let _permit = match store.append_permit().await {
                Ok(permit) => permit,
                Err(error) => return drop(ready_tx.send(Err(error))),
            };
            let mut client = match store.shared.client().await {
                Ok(client) => client,
                Err(error) => return drop(ready_tx.send(Err(error))),
            };
            let tx = match client.transaction().await {
                Ok(tx) => tx,
                Err(error) => return drop(ready_tx.send(Err(PostgresError::query("begin an append")(error)))),
            };
            let stored = match store.write(&tx, &id, expected, &events).await {
                Ok(Written::Ready(stored)) => stored,
                Ok(Written::Stale) => return drop(ready_tx.send(Ok(None))),
                Err(error) => return drop(ready_tx.send(Err(error))),
            };
            if ready_tx.send(Ok(Some(stored))).is_err() {
                return;
            }
            let outcome = if finish_rx.await.unwrap_or(false) {
                tx.commit().await.map_err(PostgresError::query("commit an append"))
            } else {
                tx.rollback().await.map_err(PostgresError::query("roll an append back"))
            };
            let _ = done_tx.send(outcome);
        });
        let written = ready_rx
            .await
            .map_err(|_| EventStoreError::Backend("the held append's task ended".into()))??;
        match written {
            Some(stored) => Ok(HeldAppend {
                stored,
                finish: Some(finish_tx),
                done: Some(done_rx),
            }),
            None => Err(EventStoreError::Conflict {
                aggregate_id: stream.to_owned(),
                expected,
                actual: self.version_of(stream).await?,
            }),
        }
    }
}
