//! Projections: read models fed from the global log, checkpointed, rebuildable.

mod lease;
mod runner;

use async_trait::async_trait;
use hive_domain::EventEnvelope;

pub use lease::{Lease, LeaseGrant};
pub use runner::{CatchUp, PoisonPolicy, ProjectionRunner, ProjectionStatus};

use crate::ApplicationError;

/// Why [`Projection::apply_batch`] stopped, and how far it got for sure.
///
/// The first `applied` events of the batch are applied; the others may be applied in part or
/// not at all. The runner applies them again one by one with [`Projection::apply`], which is
/// harmless for the ones already applied because `apply` is idempotent by global position.
#[derive(Debug, thiserror::Error)]
#[error("{error} (batch stopped after {applied} applied events)")]
pub struct BatchError {
    /// How many events at the start of the batch are certainly applied.
    pub applied: usize,
    /// What stopped the batch.
    #[source]
    pub error: ApplicationError,
}

impl From<ApplicationError> for BatchError {
    /// A batch that stopped with nothing known to be applied (`applied` is 0).
    fn from(error: ApplicationError) -> Self {
        Self { applied: 0, error }
    }
}

/// A read model maintained from events.
///
/// `apply` must be idempotent by global position (an event at or below the position the
/// read model already reflects is skipped): after a crash between applying a batch and saving
/// its checkpoint, the runner hands the batch again.
#[async_trait]
pub trait Projection: Send + Sync {
    /// The projection's name (its checkpoint key).
    fn name(&self) -> &str;

    /// The version of the projection's code, saved with its checkpoint. Raise it when the
    /// shape of the read model changes: a runner that finds a checkpoint of a smaller version
    /// empties the read model and replays the whole log into it before anything else.
    fn version(&self) -> u32 {
        1
    }
    /// Applies one event. An error makes the event a poison event (see [`PoisonPolicy`]).
    async fn apply(&self, event: &EventEnvelope) -> Result<(), ApplicationError>;
    /// Empties the read model before a rebuild.
    async fn reset(&self) -> Result<(), ApplicationError>;

    /// Applies a page of the global log, in order: the runner's fast path.
    ///
    /// Override it to apply a page at once (one read and one write of the read model per page
    /// instead of per event); the result must be the one of [`apply`](Self::apply) called on
    /// each event in order. The default does exactly that and stops at the first error, with
    /// [`BatchError::applied`] the index of the failing event.
    ///
    /// On an error the runner does not dead-letter anything yet: it applies the events from
    /// [`BatchError::applied`] on one by one with `apply`, so that only the event that fails
    /// on its own is a poison event ([`PoisonPolicy`] and the checkpoint are exactly as
    /// without batches). An override that cannot tell how far it got returns `applied: 0`
    /// (`?` on an [`ApplicationError`] does): re-applying the events of a partly applied batch
    /// is harmless because `apply` is idempotent by global position.
    async fn apply_batch(&self, events: &[EventEnvelope]) -> Result<(), BatchError> {
        for (applied, event) in events.iter().enumerate() {
            self.apply(event).await.map_err(|error| BatchError { applied, error })?;
        }
        Ok(())
    }
}
