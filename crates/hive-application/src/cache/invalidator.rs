//! Invalidation from events: an inline event handler, and a projection wrapper for runners.

use std::sync::Arc;

use async_trait::async_trait;
use hive_domain::EventEnvelope;

use super::QueryCache;
use crate::{ApplicationError, BatchError, EventHandler, Projection};

/// The tags an event makes stale (provided by the bounded context).
pub type EventTags = Arc<dyn Fn(&EventEnvelope) -> Vec<String> + Send + Sync>;

/// Invalidates the tags each event touches, in every level of a [`QueryCache`].
///
/// Register it on the [`EventBus`](crate::EventBus) **after** the inline projections: the read
/// model is then up to date before the answers built from it are invalidated, and both happen
/// before the command returns. A cache failure never fails the command (the levels count it).
#[derive(Clone)]
pub struct CacheInvalidator {
    cache: QueryCache,
    tags_of: EventTags,
}

impl std::fmt::Debug for CacheInvalidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheInvalidator").finish_non_exhaustive()
    }
}

impl CacheInvalidator {
    /// Invalidates `tags_of(event)` in `cache` for every event.
    pub fn new(cache: QueryCache, tags_of: EventTags) -> Self {
        Self { cache, tags_of }
    }

    /// Invalidates the tags `event` touches.
    pub async fn invalidate(&self, event: &EventEnvelope) {
        self.cache.invalidate(&(self.tags_of)(event)).await;
    }

    /// `projection`, invalidating the tags of each event after applying it, and clearing the
    /// cache after a reset (a rebuild changes every answer).
    pub fn wrap(&self, projection: Arc<dyn Projection>) -> Arc<dyn Projection> {
        Arc::new(InvalidatingProjection {
            inner: projection,
            invalidator: self.clone(),
        })
    }
}

#[async_trait]
impl EventHandler for CacheInvalidator {
    fn name(&self) -> &str {
        "query-cache-invalidation"
    }

    async fn handle(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        self.invalidate(event).await;
        Ok(())
    }
}

/// A projection that invalidates the query cache after each event it applies.
struct InvalidatingProjection {
    inner: Arc<dyn Projection>,
    invalidator: CacheInvalidator,
}

#[async_trait]
impl Projection for InvalidatingProjection {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn version(&self) -> u32 {
        self.inner.version()
    }

    async fn apply(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        self.inner.apply(event).await?;
        self.invalidator.invalidate(event).await;
        Ok(())
    }

    async fn reset(&self) -> Result<(), ApplicationError> {
        self.inner.reset().await?;
        self.invalidator.cache.clear().await;
        Ok(())
    }

    /// The inner projection's batch, then one invalidation of the tags of the events it
    /// applied (each tag once). Events after a failure are applied again one by one with
    /// [`apply`](Projection::apply), which invalidates them.
    async fn apply_batch(&self, events: &[EventEnvelope]) -> Result<(), BatchError> {
        let result = self.inner.apply_batch(events).await;
        let applied = match &result {
            Ok(()) => events.len(),
            Err(failure) => failure.applied.min(events.len()),
        };
        let mut tags: Vec<String> = events[..applied]
            .iter()
            .flat_map(|e| (self.invalidator.tags_of)(e))
            .collect();
        tags.sort_unstable();
        tags.dedup();
        self.invalidator.cache.invalidate(&tags).await;
        result
    }
}
