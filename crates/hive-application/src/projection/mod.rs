//! Projections: read models fed from the global log, checkpointed, rebuildable.

mod lease;
mod runner;

use async_trait::async_trait;
use hive_domain::EventEnvelope;

pub use lease::{Lease, LeaseGrant};
pub use runner::{CatchUp, PoisonPolicy, ProjectionRunner, ProjectionStatus};

use crate::ApplicationError;

/// A read model maintained from events.
///
/// `apply` must be idempotent by global position (an event at or below the position the
/// read model already reflects is skipped): after a crash between applying a batch and saving
/// its checkpoint, the runner hands the batch again.
#[async_trait]
pub trait Projection: Send + Sync {
    /// The projection's name (its checkpoint key).
    fn name(&self) -> &str;
    /// Applies one event. An error makes the event a poison event (see [`PoisonPolicy`]).
    async fn apply(&self, event: &EventEnvelope) -> Result<(), ApplicationError>;
    /// Empties the read model before a rebuild.
    async fn reset(&self) -> Result<(), ApplicationError>;
}
