//! The `SnapshotStore` port.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::StoreResult;

/// The serialised state of an aggregate at a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// The stream.
    pub aggregate_id: String,
    /// The aggregate type.
    pub aggregate_type: String,
    /// The version of the last event folded into `state`.
    pub version: u64,
    /// The aggregate state.
    pub state: serde_json::Value,
    /// When it was taken.
    pub timestamp: DateTime<Utc>,
}

/// Keeps the latest snapshot per aggregate (older ones may be pruned).
#[async_trait]
pub trait SnapshotStore: Send + Sync {
    /// Stores a snapshot; one with a version lower than the stored one is ignored.
    async fn save(&self, snapshot: Snapshot) -> StoreResult<()>;
    /// The latest snapshot of a stream.
    async fn load(&self, aggregate_id: &str) -> StoreResult<Option<Snapshot>>;
}
