//! The `CheckpointStore` port: how far each projection has read the global log.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::StoreResult;

/// A projection's position in the global log (stored as `projections_metadata`, seed 003's
/// fields: `projectionName`-keyed, `position`, `lastEventId`, `lastProcessedTimestamp`,
/// `version`, `updatedAt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    /// The projection name.
    pub projection: String,
    /// The global position of the last event applied (0: none).
    pub position: u64,
    /// The id of that event.
    pub last_event_id: Option<Uuid>,
    /// The timestamp of that event (when it was recorded, not when it was applied).
    #[serde(default)]
    pub last_processed_timestamp: Option<DateTime<Utc>>,
    /// The version of the projection's code that wrote its read model (0: written before
    /// projections had versions, read as 1). A projection whose code has a greater version
    /// rebuilds.
    #[serde(default)]
    pub version: u32,
    /// When the checkpoint moved.
    pub updated_at: DateTime<Utc>,
}

impl Checkpoint {
    /// A checkpoint at `position`, now.
    pub fn new(projection: impl Into<String>, position: u64, last_event_id: Option<Uuid>) -> Self {
        Self {
            projection: projection.into(),
            position,
            last_event_id,
            last_processed_timestamp: None,
            version: 0,
            updated_at: Utc::now(),
        }
    }

    /// The same checkpoint with the timestamp of its last event.
    pub fn with_last_processed_timestamp(mut self, timestamp: Option<DateTime<Utc>>) -> Self {
        self.last_processed_timestamp = timestamp;
        self
    }

    /// The same checkpoint written by projection code of `version`.
    pub fn with_version(mut self, version: u32) -> Self {
        self.version = version;
        self
    }
}

/// An event a projection could not apply, kept with the error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    /// The projection that failed.
    pub projection: String,
    /// The event's global position.
    pub position: u64,
    /// The event's id.
    pub event_id: Uuid,
    /// The event's type.
    pub event_type: String,
    /// What went wrong.
    pub error: String,
    /// When.
    pub recorded_at: DateTime<Utc>,
}

/// Keeps projection checkpoints and dead letters.
#[async_trait]
pub trait CheckpointStore: Send + Sync {
    /// The checkpoint of a projection, if it ever saved one.
    async fn load(&self, projection: &str) -> StoreResult<Option<Checkpoint>>;
    /// Saves (replaces) a projection's checkpoint.
    async fn save(&self, checkpoint: Checkpoint) -> StoreResult<()>;
    /// Every checkpoint, by projection name.
    async fn list(&self) -> StoreResult<Vec<Checkpoint>>;
    /// Records an event a projection could not apply.
    async fn record_dead_letter(&self, dead_letter: DeadLetter) -> StoreResult<()>;
    /// The dead letters of a projection, oldest first.
    async fn dead_letters(&self, projection: &str) -> StoreResult<Vec<DeadLetter>>;
    /// Removes the dead letters of `projection` at these global positions (all of them when
    /// `positions` is empty); answers how many were removed. Positions that hold none are ignored.
    async fn remove_dead_letters(&self, projection: &str, positions: &[u64]) -> StoreResult<u64>;
}
