#![doc = include_str!("../README.md")]

mod error;
pub mod migrations;
mod options;
mod store;

pub use error::PostgresError;
pub use options::{PostgresOptions, MAX_SCHEMA_LEN};
pub use store::PostgresStore;

/// Re-exported driver and pool crates, for [`PostgresStore::with_pool`] and error codes.
pub use deadpool_postgres;
pub use tokio_postgres;
