//! [`PostgresSnapshotStore`]: the latest snapshot of each aggregate in `snapshots`.

use std::sync::Arc;

use async_trait::async_trait;
use hive_domain::{Snapshot, SnapshotStore, StoreResult};

use crate::error::PostgresError;
use crate::event_store::codec::int;
use crate::store::Shared;

/// A [`SnapshotStore`] on PostgreSQL: one row per aggregate
/// (`aggregate_id` primary key, `aggregate_type`, `version`, `state` JSONB, `taken_at`). A save
/// is one upsert that replaces the stored snapshot only when it is not newer than the one
/// saved, so two racing writers leave the newer.
#[derive(Debug, Clone)]
pub struct PostgresSnapshotStore {
    shared: Arc<Shared>,
}

impl PostgresSnapshotStore {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

fn decode(row: &tokio_postgres::Row) -> Result<Snapshot, PostgresError> {
    let id: String = row.try_get(0).unwrap_or_default();
    let bad = |field: &str, e: &dyn std::fmt::Display| {
        PostgresError::corrupt(format!("snapshot {id}"), format!("`{field}`: {e}"))
    };
    let version: i64 = row.try_get(2).map_err(|e| bad("version", &e))?;
    Ok(Snapshot {
        aggregate_type: row.try_get(1).map_err(|e| bad("aggregate_type", &e))?,
        version: u64::try_from(version).map_err(|e| bad("version", &e))?,
        state: row.try_get(3).map_err(|e| bad("state", &e))?,
        timestamp: row.try_get(4).map_err(|e| bad("taken_at", &e))?,
        aggregate_id: id.clone(),
    })
}

#[async_trait]
impl SnapshotStore for PostgresSnapshotStore {
    async fn save(&self, snapshot: Snapshot) -> StoreResult<()> {
        self.shared
            .execute(
                "save a snapshot",
                &self.shared.sql.save_snapshot,
                &[
                    &snapshot.aggregate_id,
                    &snapshot.aggregate_type,
                    &int(snapshot.version),
                    &snapshot.state,
                    &snapshot.timestamp,
                ],
            )
            .await?;
        Ok(())
    }

    async fn load(&self, aggregate_id: &str) -> StoreResult<Option<Snapshot>> {
        let rows = self
            .shared
            .query("load a snapshot", &self.shared.sql.load_snapshot, &[&aggregate_id])
            .await?;
        Ok(rows.first().map(decode).transpose()?)
    }
}
