//! [`CoreOnly`]: a store seen through the core [`EventStore`] port alone.

use std::sync::Arc;

use async_trait::async_trait;
use hive_domain::{EventEnvelope, EventStore, EventStream, SharedEventStream, StoreCapabilities, StoreResult};

/// Wraps an event store and exposes only the core [`EventStore`] port: no look-up by id, no
/// search, no analytics. Stands for an adapter that implements the core and nothing more, to
/// test what the application does without the optional capabilities.
///
/// ```
/// # use std::sync::Arc;
/// # use hive_domain::{Capability, EventStore};
/// # fn demo(store: Arc<dyn EventStore>) {
/// let capabilities = hive_testkit::CoreOnly::from_arc(store).capabilities();
/// assert_eq!(capabilities.missing(), Capability::ALL.to_vec());
/// # }
/// ```
#[derive(Debug)]
pub struct CoreOnly<S: ?Sized> {
    inner: Arc<S>,
}

impl<S> CoreOnly<S> {
    /// Hides every capability of `store` but the core.
    pub fn new(store: S) -> Self {
        Self { inner: Arc::new(store) }
    }
}

impl<S: ?Sized> CoreOnly<S> {
    /// Hides every capability of an already shared store but the core.
    pub fn from_arc(store: Arc<S>) -> Self {
        Self { inner: store }
    }
}

impl<S: EventStore + ?Sized + 'static> CoreOnly<S> {
    /// The store as [`StoreCapabilities`] with the core only.
    pub fn capabilities(self) -> StoreCapabilities {
        StoreCapabilities::core(Arc::new(self))
    }
}

#[async_trait]
impl<S: EventStore + ?Sized> EventStore for CoreOnly<S> {
    async fn append(
        &self,
        aggregate_id: &str,
        expected_version: u64,
        events: Vec<EventEnvelope>,
    ) -> StoreResult<Vec<EventEnvelope>> {
        self.inner.append(aggregate_id, expected_version, events).await
    }

    fn read_stream<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> EventStream<'a> {
        self.inner.read_stream(aggregate_id, from_version)
    }

    fn read_stream_shared<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> SharedEventStream<'a> {
        self.inner.read_stream_shared(aggregate_id, from_version)
    }

    async fn stream_version(&self, aggregate_id: &str) -> StoreResult<u64> {
        self.inner.stream_version(aggregate_id).await
    }

    async fn read_all(&self, after_position: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>> {
        self.inner.read_all(after_position, limit).await
    }

    async fn head_position(&self) -> StoreResult<u64> {
        self.inner.head_position().await
    }

    async fn health(&self) -> StoreResult<()> {
        self.inner.health().await
    }
}
