//! The `Lease` port: one process at a time runs a projection.

use std::time::Duration;

use async_trait::async_trait;

use crate::ApplicationError;

/// A held lease: the holder's secret token and the fencing token of this tenure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseGrant {
    /// Proves who holds the lease (renew and release check it).
    pub token: String,
    /// Grows with every acquisition of the lease: a later holder always has a larger one, so a
    /// store that records it can refuse the writes of a holder that lost the lease.
    pub fence: u64,
}

/// Named leases with an expiry (Redis in `hive-cache-redis`). A holder that dies without
/// releasing loses its lease when it expires; another process then acquires it.
#[async_trait]
pub trait Lease: Send + Sync {
    /// Takes the lease `name` for `ttl` if nobody holds it.
    async fn acquire(&self, name: &str, ttl: Duration) -> Result<Option<LeaseGrant>, ApplicationError>;
    /// Extends the lease to `ttl` from now if `grant` still holds it; `false` if it was lost.
    async fn renew(&self, name: &str, grant: &LeaseGrant, ttl: Duration) -> Result<bool, ApplicationError>;
    /// Gives the lease up if `grant` still holds it.
    async fn release(&self, name: &str, grant: &LeaseGrant) -> Result<(), ApplicationError>;
}
