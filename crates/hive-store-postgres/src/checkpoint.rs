//! [`PostgresCheckpointStore`]: projection checkpoints in `checkpoints`, dead letters in
//! `dead_letters`.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Timelike, Utc};
use hive_domain::{Checkpoint, CheckpointStore, DeadLetter, StoreResult};
use tokio_postgres::{GenericClient, Row};

use crate::error::PostgresError;
use crate::event_store::codec::int;
use crate::store::Shared;

/// A [`CheckpointStore`] on PostgreSQL.
///
/// `checkpoints` holds one row per projection (`projection` primary key, `position`,
/// `last_event_id`, `last_processed_at` with its nanoseconds in `last_processed_nanos`,
/// `code_version`, `updated_at`); a save is one atomic upsert.
/// [`PostgresCheckpointStore::save_in`] saves in the caller's transaction, so a projection
/// whose read model lives in the same database commits its rows and its checkpoint together.
#[derive(Debug, Clone)]
pub struct PostgresCheckpointStore {
    shared: Arc<Shared>,
}

impl PostgresCheckpointStore {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Saves `checkpoint` on `client` — a transaction of the caller's (on a connection to the
    /// same database) commits it with whatever else it wrote.
    pub async fn save_in(&self, client: &impl GenericClient, checkpoint: &Checkpoint) -> StoreResult<()> {
        let timestamp = checkpoint.last_processed_timestamp;
        let nanos = timestamp.map(|t| i32::try_from(t.nanosecond()).unwrap_or_default());
        let code_version = i64::from(checkpoint.version);
        let saved = client
            .execute(
                &self.shared.sql.save_checkpoint,
                &[
                    &checkpoint.projection,
                    &int(checkpoint.position),
                    &checkpoint.last_event_id,
                    &timestamp,
                    &nanos,
                    &code_version,
                    &checkpoint.updated_at,
                ],
            )
            .await;
        saved
            .map(drop)
            .map_err(|e| PostgresError::query("save a checkpoint")(e).into())
    }
}

/// The instant of a microsecond timestamp whose nanoseconds within the second were kept apart.
fn with_nanos(at: DateTime<Utc>, nanos: Option<i32>) -> DateTime<Utc> {
    nanos
        .and_then(|n| u32::try_from(n).ok())
        .and_then(|n| at.with_nanosecond(n))
        .unwrap_or(at)
}

fn decode_checkpoint(row: &Row) -> Result<Checkpoint, PostgresError> {
    let name: String = row.try_get(0).unwrap_or_default();
    let bad = |field: &str, e: &dyn std::fmt::Display| {
        PostgresError::corrupt(format!("checkpoint {name}"), format!("`{field}`: {e}"))
    };
    let position: i64 = row.try_get(1).map_err(|e| bad("position", &e))?;
    let at: Option<DateTime<Utc>> = row.try_get(3).map_err(|e| bad("last_processed_at", &e))?;
    let nanos: Option<i32> = row.try_get(4).map_err(|e| bad("last_processed_nanos", &e))?;
    let code_version: i64 = row.try_get(5).map_err(|e| bad("code_version", &e))?;
    Ok(Checkpoint {
        position: u64::try_from(position).map_err(|e| bad("position", &e))?,
        last_event_id: row.try_get(2).map_err(|e| bad("last_event_id", &e))?,
        last_processed_timestamp: at.map(|at| with_nanos(at, nanos)),
        version: u32::try_from(code_version).map_err(|e| bad("code_version", &e))?,
        updated_at: row.try_get(6).map_err(|e| bad("updated_at", &e))?,
        projection: name.clone(),
    })
}

fn decode_dead_letter(row: &Row) -> Result<DeadLetter, PostgresError> {
    let name: String = row.try_get(0).unwrap_or_default();
    let bad = |field: &str, e: &dyn std::fmt::Display| {
        PostgresError::corrupt(format!("dead letter of {name}"), format!("`{field}`: {e}"))
    };
    let position: i64 = row.try_get(1).map_err(|e| bad("position", &e))?;
    Ok(DeadLetter {
        position: u64::try_from(position).map_err(|e| bad("position", &e))?,
        event_id: row.try_get(2).map_err(|e| bad("event_id", &e))?,
        event_type: row.try_get(3).map_err(|e| bad("event_type", &e))?,
        error: row.try_get(4).map_err(|e| bad("error", &e))?,
        recorded_at: row.try_get(5).map_err(|e| bad("recorded_at", &e))?,
        projection: name.clone(),
    })
}

#[async_trait]
impl CheckpointStore for PostgresCheckpointStore {
    async fn load(&self, projection: &str) -> StoreResult<Option<Checkpoint>> {
        let rows = self
            .shared
            .query("load a checkpoint", &self.shared.sql.load_checkpoint, &[&projection])
            .await?;
        Ok(rows.first().map(decode_checkpoint).transpose()?)
    }

    async fn save(&self, checkpoint: Checkpoint) -> StoreResult<()> {
        let client = self.shared.client().await?;
        self.save_in(&**client, &checkpoint).await
    }

    async fn list(&self) -> StoreResult<Vec<Checkpoint>> {
        let rows = self
            .shared
            .query("list checkpoints", &self.shared.sql.list_checkpoints, &[])
            .await?;
        Ok(rows.iter().map(decode_checkpoint).collect::<Result<_, _>>()?)
    }

    async fn record_dead_letter(&self, dead_letter: DeadLetter) -> StoreResult<()> {
        self.shared
            .execute(
                "record a dead letter",
                &self.shared.sql.record_dead_letter,
                &[
                    &dead_letter.projection,
                    &int(dead_letter.position),
                    &dead_letter.event_id,
                    &dead_letter.event_type,
                    &dead_letter.error,
                    &dead_letter.recorded_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn dead_letters(&self, projection: &str) -> StoreResult<Vec<DeadLetter>> {
        let rows = self
            .shared
            .query("read dead letters", &self.shared.sql.dead_letters, &[&projection])
            .await?;
        Ok(rows.iter().map(decode_dead_letter).collect::<Result<_, _>>()?)
    }

    async fn remove_dead_letters(&self, projection: &str, positions: &[u64]) -> StoreResult<u64> {
        // A position past `i64::MAX` is never a stored one (`position` is an `int8`); dropping it
        // must not turn a list of such positions into the empty list, which means all of them.
        let stored: Vec<i64> = positions.iter().filter_map(|&p| i64::try_from(p).ok()).collect();
        if stored.is_empty() && !positions.is_empty() {
            return Ok(0);
        }
        Ok(self
            .shared
            .execute(
                "remove dead letters",
                &self.shared.sql.remove_dead_letters,
                &[&projection, &stored],
            )
            .await?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn nanoseconds_kept_apart_come_back() {
        let at = Utc.with_ymd_and_hms(2024, 12, 19, 10, 0, 0).unwrap() + chrono::Duration::nanoseconds(1_234_567);
        let micros = at.with_nanosecond(1_234_000).unwrap();
        assert_eq!(with_nanos(micros, Some(1_234_567)), at);
        assert_eq!(with_nanos(micros, None), micros);
        assert_eq!(with_nanos(micros, Some(-1)), micros);
    }
}
