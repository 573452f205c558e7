//! Appends: one statement, its own transaction — the stream's version check, then the global
//! positions, the insert of the batch and the notification (see `Statements::append_new`).
//!
//! 1. `streams`: the stream row moves from the expected version to the batch's last
//!    (`UPDATE … WHERE version = expected`, or `INSERT … ON CONFLICT DO NOTHING` for a new
//!    stream). No row changed: the stream is elsewhere, the statement touches nothing global
//!    and answers no row, and the append resolves as an idempotent re-append or a typed
//!    conflict. Writers of one stream queue on its row; writers of other streams do not.
//! 2. `global_position`: `UPDATE … SET last = last + n RETURNING last` only if the stream
//!    moved, then the `INSERT` of the batch at those positions and `pg_notify`. The global row
//!    stays locked until the commit, so the next append takes its positions only after this
//!    one is visible: positions become visible in commit order and a reader of `position > x`
//!    never later sees a smaller position appear (ADR 0009). The lock is held from the moment
//!    the positions are taken to the end of the statement, which commits it.

use deadpool_postgres::GenericClient;
use hive_domain::{resolve_stale_append, EventEnvelope, StoreResult};
use tokio_postgres::error::SqlState;

use super::codec::{int, whole_ms, Columns};
use super::PostgresEventStore;
use crate::error::PostgresError;

/// What a transaction got to before its commit.
pub(crate) enum Written {
    /// The batch is written at these positions; committing makes it visible.
    Ready(Vec<EventEnvelope>),
    /// The stream is not at the expected version: nothing was written.
    Stale,
}

/// `events` as the store keeps them: timestamps to the millisecond.
pub(crate) fn stored_form(events: Vec<EventEnvelope>) -> Vec<EventEnvelope> {
    events
        .into_iter()
        .map(|mut event| {
            event.timestamp = whole_ms(event.timestamp);
            event
        })
        .collect()
}

impl PostgresEventStore {
    /// Appends a validated batch.
    pub(crate) async fn append_checked(
        &self,
        aggregate_id: &str,
        expected: u64,
        events: Vec<EventEnvelope>,
    ) -> StoreResult<Vec<EventEnvelope>> {
        let events = stored_form(events);
        let _permit = self.append_permit().await?;
        let client = self.shared.client().await?;
        // No explicit transaction: the statement is one on its own, committed as it ends.
        match self.write(&client, aggregate_id, expected, &events).await? {
            Written::Ready(stored) => Ok(stored),
            Written::Stale => {
                drop(client);
                self.resolve_stale(aggregate_id, expected, &events).await
            }
        }
    }

    /// A turn among the appends of this store (see `Shared::append_permits`).
    pub(crate) async fn append_permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, PostgresError> {
        self.shared
            .append_permits
            .acquire()
            .await
            .map_err(|_| PostgresError::Config("the append permits are closed".into()))
    }

    /// Writes the batch through `client`: on its own, a transaction committed as the statement
    /// ends; inside a transaction (the held appends of the tests), committed with it.
    pub(crate) async fn write(
        &self,
        client: &impl GenericClient,
        aggregate_id: &str,
        expected: u64,
        events: &[EventEnvelope],
    ) -> Result<Written, PostgresError> {
        let sql = &self.shared.sql;
        let count = events.len() as u64;
        let aggregate_type = events.first().map(|e| e.aggregate_type.as_str()).unwrap_or_default();
        let text = if expected == 0 {
            &sql.append_new
        } else {
            &sql.append_next
        };
        let statement = client
            .prepare_cached(text)
            .await
            .map_err(PostgresError::query("append events"))?;
        let columns = Columns::of(events);
        let channel = self.shared.options.notification_channel();
        let inserted = client
            .query_opt(
                &statement,
                &[
                    &aggregate_id,
                    &int(expected),
                    &int(count),
                    &aggregate_type,
                    &columns.ids,
                    &columns.types,
                    &columns.schema_versions,
                    &columns.recorded_at,
                    &columns.correlations,
                    &columns.causations,
                    &columns.data,
                    &columns.metadata,
                    &columns.terms,
                    &channel,
                ],
            )
            .await;
        let last: i64 = match inserted {
            Ok(Some(row)) => row.try_get(0).map_err(PostgresError::query("append events"))?,
            // The stream is not at the expected version: nothing was written.
            Ok(None) => return Ok(Written::Stale),
            // The stream table and the events disagree (rows written around the adapter): the
            // unique (aggregate_id, version) still refuses the batch.
            Err(error) if is_stream_version_violation(&error) => return Ok(Written::Stale),
            Err(error) => return Err(PostgresError::query("append events")(error)),
        };
        let last = u64::try_from(last).map_err(|e| PostgresError::corrupt("global_position", e))?;
        let first = last + 1 - count;
        let stored = events
            .iter()
            .zip(first..)
            .map(|(event, position)| {
                let mut event = event.clone();
                event.global_position = Some(position);
                event
            })
            .collect();
        Ok(Written::Ready(stored))
    }

    /// The answer to an append whose expected version was not the stream's: an idempotent
    /// re-append returns the stored events, anything else is a conflict with the actual
    /// version. The version and the stored events are read together.
    pub(crate) async fn resolve_stale(
        &self,
        aggregate_id: &str,
        expected: u64,
        events: &[EventEnvelope],
    ) -> StoreResult<Vec<EventEnvelope>> {
        let last = expected + events.len() as u64;
        let (actual, stored) = tokio::try_join!(
            self.version_of(aggregate_id),
            self.versions_between(aggregate_id, expected + 1, last)
        )?;
        resolve_stale_append(aggregate_id, expected, actual, events, stored)
    }
}

/// Whether `error` is the unique `(aggregate_id, version)` of `events`.
fn is_stream_version_violation(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&SqlState::UNIQUE_VIOLATION)
        && error
            .as_db_error()
            .and_then(|db| db.constraint())
            .is_some_and(|c| c == "events_stream_version")
}
