#![doc = include_str!("../README.md")]

mod analytics;
#[cfg(feature = "billing")]
mod billing;
mod bulk;
mod checkpoints;
mod error;
mod event_store;
mod http;
mod info;
pub mod mapping;
mod options;
mod search;
mod setup;
mod snapshots;
mod store;

#[cfg(feature = "billing")]
pub use billing::{EsPaymentDocument, EsPaymentReadModel, EsPaymentSearchIndex, SubMillisecondNanos};
pub use bulk::{BulkItem, BulkOp, BulkOutcome, BulkWriter};
pub use checkpoints::EsCheckpointStore;
pub use error::{EsError, EsResult};
pub use event_store::EsEventStore;
pub use http::EsClient;
pub use info::{ClusterInfo, Distribution};
pub use options::{EsOptions, Refresh};
pub use snapshots::EsSnapshotStore;
pub use store::EsStore;
