#![doc = include_str!("../README.md")]

mod analytics;
#[cfg(feature = "billing")]
pub mod billing;
mod checkpoint;
mod error;
mod event_store;
mod feed;
pub mod migrations;
mod notify;
mod options;
mod snapshot;
mod sql;
mod store;

pub use checkpoint::PostgresCheckpointStore;
pub use error::PostgresError;
#[cfg(feature = "testing")]
pub use event_store::HeldAppend;
pub use event_store::PostgresEventStore;
pub use notify::Notifications;
pub use options::{PostgresOptions, MAX_SCHEMA_LEN};
pub use snapshot::PostgresSnapshotStore;
pub use store::PostgresStore;

/// Re-exported driver and pool crates, for [`PostgresStore::with_pool`] and error codes.
pub use deadpool_postgres;
pub use tokio_postgres;
