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
/// The index checkpoint of a durable [`MemoryEventStore`], inside its data directory: its
/// in-memory index as of some point of its log, so that opening replays only the log after it.
pub const INDEX_CHECKPOINT_FILE: &str = "index.checkpoint";
/// The checkpoint file of a durable [`MemoryCheckpointStore`], inside its data directory.
pub const CHECKPOINT_FILE: &str = "checkpoints.json";
/// The payment views of the embedded durable store, inside its data directory: a
/// [`billing::disk::PaymentViewsFile`].
#[cfg(feature = "billing")]
pub const PAYMENT_VIEWS_FILE: &str = "payments.views";
