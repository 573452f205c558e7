//! The payment views on disk: the read model and the search index in one redb file (a
//! [`PaymentViewsFile`], `payments.views` in the embedded durable store's data directory)
//! read through a bounded page cache, each with the saved checkpoint of its projection.
//!
//! Same answers as the in-memory adapters (the `hive-testkit` billing suites check both), but
//! resident memory is the page cache, not the number of payments, and the views survive a
//! restart: a service puts each view's [`DiskView::checkpoint`] back where its projection
//! looks for it and replays only the later events.
//!
//! Durability: ordinary writes commit without syncing; [`DiskView::save_checkpoint`] syncs,
//! which makes every earlier write durable too. After a crash the file holds at least what its
//! saved checkpoints say (payments may be ahead of them: replaying skips stale positions).

mod codec;
mod file;
mod read_model;
mod search_index;
mod tables;

use async_trait::async_trait;
use hive_domain::{Checkpoint, EventStoreError};

pub use file::PaymentViewsFile;
pub use read_model::DiskPaymentReadModel;
pub use search_index::DiskPaymentSearchIndex;

/// A view kept in a [`PaymentViewsFile`] with the checkpoint of the projection that feeds it.
#[async_trait]
pub trait DiskView: Send + Sync {
    /// The checkpoint last saved with [`DiskView::save_checkpoint`]; `None` when there is none
    /// (a new file, or the view was reset since).
    async fn checkpoint(&self) -> Result<Option<Checkpoint>, EventStoreError>;

    /// Saves `checkpoint` (what the view reflects) and syncs the file: once this returns, the
    /// view's writes up to now and the checkpoint survive a crash.
    async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), EventStoreError>;

    /// Number of payments the view holds.
    async fn payment_count(&self) -> Result<u64, EventStoreError>;
}
