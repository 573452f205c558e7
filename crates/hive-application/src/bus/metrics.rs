//! Counters of one bus, for metrics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What one bus's middleware counted. Cheap to clone (a shared pointer); every clone counts
/// into the same counters.
///
/// Get a bus's own with [`CommandBus::metrics`](crate::CommandBus::metrics); its default
/// middleware counts into it.
#[derive(Debug, Clone, Default)]
pub struct BusMetrics {
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    conflict_retries: AtomicU64,
}

impl BusMetrics {
    /// Fresh counters, all zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many times a message was re-run after a concurrency conflict.
    pub fn conflict_retries(&self) -> u64 {
        self.counters.conflict_retries.load(Ordering::Relaxed)
    }

    /// Counts one re-run after a concurrency conflict.
    pub fn record_conflict_retry(&self) {
        self.counters.conflict_retries.fetch_add(1, Ordering::Relaxed);
    }
}
