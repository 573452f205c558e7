#![doc = include_str!("../README.md")]

mod analytics;
#[cfg(feature = "billing")]
pub mod billing;
mod checkpoint;
mod error;
mod event_store;
mod instant;
mod json;
mod options;
mod setup;
mod snapshot;
mod store;

pub use checkpoint::MongoCheckpointStore;
#[cfg(feature = "testing")]
pub use event_store::HeldAppend;
pub use event_store::MongoEventStore;
pub use options::{CollectionNames, MongoOptions, TransactionMode};
pub use snapshot::MongoSnapshotStore;
pub use store::MongoStore;

/// Re-exported driver types used in [`MongoOptions`] (read and write concerns) and
/// [`MongoStore::with_client`].
pub use mongodb;
