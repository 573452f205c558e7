//! The one error type of the fixtures.

use hive_application::ApplicationError;
use hive_domain::{CodecError, EventStoreError};

/// Why a fixture could not be set up or run.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The temporary directory of a durable store could not be created.
    #[error("cannot create the benchmark directory (set HIVE_BENCH_DIR to a writable directory): {0}")]
    Io(#[from] std::io::Error),
    /// The event or snapshot store refused an operation.
    #[error("store: {0}")]
    Store(#[from] EventStoreError),
    /// An event could not be encoded.
    #[error("codec: {0}")]
    Codec(#[from] CodecError),
    /// A snapshot could not be serialised.
    #[error("snapshot: {0}")]
    Json(#[from] serde_json::Error),
    /// The repository failed.
    #[error("application: {0}")]
    Application(#[from] ApplicationError),
    /// A peer framework (compared in a bench) refused an operation.
    #[error("peer: {0}")]
    Peer(String),
    /// A writer task panicked or was cancelled.
    #[error("writer task: {0}")]
    Join(#[from] tokio::task::JoinError),
}
