//! [`PostgresEventStore`]: the `EventStore` port and its optional capabilities on the
//! `events` table.

mod append;
pub(crate) mod codec;
#[cfg(feature = "testing")]
mod held;
#[cfg(feature = "testing")]
pub use held::HeldAppend;
mod read;
pub(crate) mod search;

use std::sync::Arc;

use async_trait::async_trait;
use hive_domain::{
    validate_append, EventCriteria, EventEnvelope, EventLookup, EventPage, EventSearch, EventStore, EventStream, Page,
    StoreCapabilities, StoreResult,
};
use uuid::Uuid;

use crate::store::Shared;

/// An [`EventStore`] on PostgreSQL. Get one from [`crate::PostgresStore::event_store`]; clones
/// share the pool.
///
/// It also implements [`EventLookup`], [`EventSearch`] and [`hive_domain::EventAnalytics`]
/// (counting in SQL): [`PostgresEventStore::capabilities`] hands them all to the application.
#[derive(Debug, Clone)]
pub struct PostgresEventStore {
    pub(crate) shared: Arc<Shared>,
}

impl PostgresEventStore {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// This store as [`StoreCapabilities`]: the core port and every optional capability
    /// (look-up by id, search, analytics). Clones share the pool.
    pub fn capabilities(&self) -> StoreCapabilities {
        StoreCapabilities::full(Arc::new(self.clone()))
    }
}

#[async_trait]
impl EventStore for PostgresEventStore {
    async fn append(
        &self,
        aggregate_id: &str,
        expected_version: u64,
        events: Vec<EventEnvelope>,
    ) -> StoreResult<Vec<EventEnvelope>> {
        validate_append(aggregate_id, expected_version, &events)?;
        self.append_checked(aggregate_id, expected_version, events).await
    }

    fn read_stream<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> EventStream<'a> {
        self.stream_from(aggregate_id, from_version)
    }

    async fn stream_version(&self, aggregate_id: &str) -> StoreResult<u64> {
        Ok(self.version_of(aggregate_id).await?)
    }

    async fn read_all(&self, after_position: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>> {
        Ok(self.log_after(after_position, limit).await?)
    }

    async fn head_position(&self) -> StoreResult<u64> {
        Ok(self.committed_position().await?)
    }

    async fn health(&self) -> StoreResult<()> {
        let client = self.shared.client().await?;
        client
            .simple_query("SELECT 1")
            .await
            .map(drop)
            .map_err(|e| crate::PostgresError::query("ping")(e).into())
    }
}

#[async_trait]
impl EventLookup for PostgresEventStore {
    async fn event_by_id(&self, event_id: Uuid) -> StoreResult<Option<EventEnvelope>> {
        Ok(self.find_event(event_id).await?)
    }
}

#[async_trait]
impl EventSearch for PostgresEventStore {
    async fn search(&self, criteria: &EventCriteria, page: Page) -> StoreResult<EventPage> {
        Ok(self.find_page(criteria, page).await?)
    }
}
