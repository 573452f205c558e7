#![doc = include_str!("../README.md")]

#[cfg(feature = "billing")]
pub mod billing;
mod checkpoint;
mod event_store;
mod log;
mod options;
mod snapshot;

pub use checkpoint::MemoryCheckpointStore;
pub use event_store::{EventStoreStats, MemoryEventStore};
pub use options::{DurableOptions, FsyncPolicy};
pub use snapshot::MemorySnapshotStore;

/// The event log of a durable [`MemoryEventStore`], inside its data directory.
pub const EVENT_LOG_FILE: &str = "events.log";
/// The snapshot log of a durable [`MemorySnapshotStore`], inside its data directory.
pub const SNAPSHOT_LOG_FILE: &str = "snapshots.log";
/// The checkpoint file of a durable [`MemoryCheckpointStore`], inside its data directory.
pub const CHECKPOINT_FILE: &str = "checkpoints.json";
