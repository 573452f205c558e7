//! [`Recorder`]: a projection that writes down which runner applied which event.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use hive_application::{ApplicationError, Projection};
use hive_domain::EventEnvelope;

/// The log several [`Recorder`]s share: `(runner, stream version)` per applied event, in order.
pub type Applied = Arc<Mutex<Vec<(&'static str, u64)>>>;

/// A projection that appends `(runner, event.version)` to a shared [`Applied`] log for every
/// event it is handed, so a test with several runners of one projection (one per "process")
/// sees who applied what. `reset` leaves the log alone.
#[derive(Debug)]
pub struct Recorder {
    name: String,
    runner: &'static str,
    applied: Applied,
}

impl Recorder {
    /// The projection `name` as run by `runner`, writing to `applied`.
    pub fn new(name: impl Into<String>, runner: &'static str, applied: &Applied) -> Self {
        Self {
            name: name.into(),
            runner,
            applied: Arc::clone(applied),
        }
    }
}

#[async_trait]
impl Projection for Recorder {
    fn name(&self) -> &str {
        &self.name
    }

    async fn apply(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        self.applied
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((self.runner, event.version));
        Ok(())
    }

    async fn reset(&self) -> Result<(), ApplicationError> {
        Ok(())
    }
}
