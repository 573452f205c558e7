//! [`MongoEventStore`]: the `EventStore` port on the `events` collection.

mod append;
pub(crate) mod codec;
pub(crate) mod filter;
#[cfg(feature = "testing")]
mod held;
mod lease;
mod read;
mod retry;
pub(crate) mod terms;

use std::sync::Arc;

use async_trait::async_trait;
use bson::Document;
use hive_domain::{
    validate_append, EventCriteria, EventEnvelope, EventLookup, EventPage, EventSearch, EventStore, EventStream, Page,
    StoreCapabilities, StoreResult,
};
use mongodb::Collection;
use uuid::Uuid;

#[cfg(feature = "testing")]
pub use held::HeldAppend;

use crate::store::Shared;

/// An [`EventStore`] on MongoDB. Get one from [`crate::MongoStore::event_store`]; clones share
/// the connection.
///
/// It also implements [`hive_domain::EventAnalytics`] with aggregation pipelines.
#[derive(Debug, Clone)]
pub struct MongoEventStore {
    pub(crate) shared: Arc<Shared>,
}

impl MongoEventStore {
    /// This store as [`StoreCapabilities`]: the core port and every optional capability
    /// (look-up by id, search, analytics with aggregation pipelines). Clones share the connection.
    pub fn capabilities(&self) -> StoreCapabilities {
        StoreCapabilities::full(Arc::new(self.clone()))
    }

    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    pub(crate) fn events(&self) -> Collection<Document> {
        self.shared.collection(&self.shared.options.collections.events)
    }

    pub(crate) fn counters(&self) -> Collection<Document> {
        self.shared.collection(&self.shared.options.collections.counters)
    }

    /// Whether appends run in transactions (`false`: the lease fallback).
    pub fn uses_transactions(&self) -> bool {
        self.shared.transactions
    }
}

#[async_trait]
impl EventStore for MongoEventStore {
    async fn append(
        &self,
        aggregate_id: &str,
        expected_version: u64,
        events: Vec<EventEnvelope>,
    ) -> StoreResult<Vec<EventEnvelope>> {
        validate_append(aggregate_id, expected_version, &events)?;
        let _turn = self.shared.append_gate.lock().await;
        if self.shared.transactions {
            self.append_in_transaction(aggregate_id, expected_version, events).await
        } else {
            self.append_with_lease(aggregate_id, expected_version, events).await
        }
    }

    fn read_stream<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> EventStream<'a> {
        self.stream_from(aggregate_id, from_version)
    }

    async fn stream_version(&self, aggregate_id: &str) -> StoreResult<u64> {
        self.version_of(aggregate_id).await
    }

    async fn read_all(&self, after_position: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>> {
        self.log_after(after_position, limit).await
    }

    async fn head_position(&self) -> StoreResult<u64> {
        self.committed_position().await
    }

    async fn health(&self) -> StoreResult<()> {
        crate::store::ping(&self.shared).await
    }
}

#[async_trait]
impl EventLookup for MongoEventStore {
    async fn event_by_id(&self, event_id: Uuid) -> StoreResult<Option<EventEnvelope>> {
        self.find_event(event_id).await
    }
}

#[async_trait]
impl EventSearch for MongoEventStore {
    async fn search(&self, criteria: &EventCriteria, page: Page) -> StoreResult<EventPage> {
        self.find_page(criteria, page).await
    }
}
