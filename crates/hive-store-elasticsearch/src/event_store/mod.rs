//! [`EsEventStore`]: the `EventStore` port on Elasticsearch.

mod commit;
mod query;
mod read;
mod sequence;

pub(crate) use query::time_range;

use std::sync::Arc;

use async_trait::async_trait;
use futures::TryStreamExt;
use hive_domain::{
    resolve_stale_append, validate_append, EventCriteria, EventEnvelope, EventLookup, EventPage, EventSearch,
    EventStore, EventStream, Page, StoreCapabilities, StoreResult,
};

use uuid::Uuid;

use crate::http::EsClient;
use crate::EsOptions;

use commit::{CommitDoc, Created};

/// Events on Elasticsearch. See the crate documentation for the commit-document concurrency
/// mechanism, the global sequence and the refresh semantics.
#[derive(Debug, Clone)]
pub struct EsEventStore {
    pub(crate) client: EsClient,
    pub(crate) options: Arc<EsOptions>,
}

impl EsEventStore {
    /// This store as [`StoreCapabilities`]: the core port and every optional capability
    /// (look-up by id, search, analytics with aggregations). Clones share the connection.
    pub fn capabilities(&self) -> StoreCapabilities {
        StoreCapabilities::full(Arc::new(self.clone()))
    }

    pub(crate) fn new(client: EsClient, options: Arc<EsOptions>) -> Self {
        Self { client, options }
    }

    async fn stale(
        &self,
        aggregate_id: &str,
        expected_version: u64,
        actual: u64,
        events: &[EventEnvelope],
    ) -> StoreResult<Vec<EventEnvelope>> {
        let stored: Vec<EventEnvelope> = if actual > expected_version {
            self.read_stream(aggregate_id, expected_version + 1)
                .take(events.len())
                .try_collect()
                .await?
        } else {
            Vec::new()
        };
        resolve_stale_append(aggregate_id, expected_version, actual, events, stored)
    }
}

use futures::StreamExt;

#[async_trait]
impl EventStore for EsEventStore {
    async fn append(
        &self,
        aggregate_id: &str,
        expected_version: u64,
        events: Vec<EventEnvelope>,
    ) -> StoreResult<Vec<EventEnvelope>> {
        validate_append(aggregate_id, expected_version, &events)?;
        // Every stream starts with the commit `@0`: creating it succeeds exactly when the
        // stream is empty, so a new stream needs no look-up first (a 409 is resolved below).
        let (version, last) = if expected_version == 0 {
            (0, None)
        } else {
            self.tip(aggregate_id).await?
        };
        if version != expected_version {
            return self.stale(aggregate_id, expected_version, version, &events).await;
        }
        if let Some(previous) = last.filter(|c| c.position.is_none()) {
            // Keep the stream's order in the global log: its previous commit goes first.
            self.sequence(&previous).await?;
        }
        let mut commit = CommitDoc::new(aggregate_id, expected_version, events);
        match self.create_commit(&commit).await? {
            Created::Yes => {}
            Created::AlreadyExists => {
                let (actual, _) = self.tip(aggregate_id).await?;
                return self.stale(aggregate_id, expected_version, actual, &commit.events).await;
            }
        }
        let position = self.sequence(&commit).await?;
        commit.position = Some(position);
        Ok(commit.positioned_events())
    }

    fn read_stream<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> EventStream<'a> {
        read::stream(self, aggregate_id, from_version)
    }

    async fn stream_version(&self, aggregate_id: &str) -> StoreResult<u64> {
        Ok(self.tip(aggregate_id).await?.0)
    }

    async fn read_all(&self, after_position: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>> {
        Ok(self.global_log(after_position, limit).await?)
    }

    async fn head_position(&self) -> StoreResult<u64> {
        Ok(self.published_head().await?)
    }

    async fn health(&self) -> StoreResult<()> {
        crate::setup::cluster_health(&self.client).await?;
        Ok(())
    }
}

#[async_trait]
impl EventLookup for EsEventStore {
    /// A `term` on `eventId` in the events index (see the crate README: event documents are
    /// keyed `{aggregateId}:{version}`, not by event id), seen once the append returned.
    async fn event_by_id(&self, event_id: Uuid) -> StoreResult<Option<EventEnvelope>> {
        Ok(self.find_event(event_id).await?)
    }
}

#[async_trait]
impl EventSearch for EsEventStore {
    async fn search(&self, criteria: &EventCriteria, page: Page) -> StoreResult<EventPage> {
        Ok(self.search_events(criteria, page).await?)
    }
}
