//! Queries answered by the event store: history, event search, timeline, correlations.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use hive_application::cache::{CachePolicy, Cacheable};
use hive_application::{ApplicationError, Handler, Message, MessageContext, Query};
use hive_domain::{
    Aggregate, Capability, EventCriteria, EventEnvelope, EventLookup, EventSearch, EventStore, Page, SortOrder,
    StoreCapabilities, TimeRange,
};
use serde::{Deserialize, Serialize};

use super::{default_page, default_size, offset_of, page_count, EventView};
use crate::validate::Fields;
use crate::{Payment, PaymentKey, PaymentStreams};

/// The events of one payment of the caller's organization from version `fromVersion` on
/// (default 1: all), in version order (`NotFound` for an unknown payment or one of another
/// organization; an empty list when `fromVersion` is past its last version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPaymentHistory {
    /// The payment.
    pub payment_id: String,
    /// The first version to return (1 or more).
    #[serde(default)]
    pub from_version: Option<u64>,
}

/// One event of the caller's organization by its id (seeds' `getEventById`; `NotFound` for an
/// unknown id or an event of another organization).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetEventById {
    /// The event id.
    pub event_id: uuid::Uuid,
}

impl Message for GetEventById {
    type Output = EventView;

    fn name() -> &'static str {
        "GetEventById"
    }
}

impl Query for GetEventById {}

impl Cacheable for GetEventById {
    fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
        crate::cache::org_policy(self, context, crate::cache::events_tag)
    }
}

impl Message for GetPaymentHistory {
    type Output = PaymentHistory;

    fn name() -> &'static str {
        "GetPaymentHistory"
    }

    fn validate(&self) -> Result<(), ApplicationError> {
        Fields::new()
            .payment_id("paymentId", &self.payment_id)
            .check(
                self.from_version.is_none_or(|v| v >= 1),
                "fromVersion",
                "must be at least 1",
            )
            .finish()
    }
}

impl Query for GetPaymentHistory {}

impl Cacheable for GetPaymentHistory {
    fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
        crate::cache::payment_policy(self, context, &self.payment_id)
    }
}

/// `{"paymentId", "items": [event...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentHistory {
    /// The payment.
    pub payment_id: String,
    /// Its events from the version asked for, oldest first.
    pub items: Vec<EventView>,
}

/// Payment events of the caller's organization: by type, free text over event data and
/// metadata (every word must occur, case-insensitive), recorded in `[from, to)`; newest first
/// (the seeds' `timestamp desc`) unless `order` is `asc`; `page` from 1, `size` 1–100
/// (default 20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPaymentEvents {
    /// Only this event type.
    #[serde(default)]
    pub event_type: Option<String>,
    /// Free text.
    #[serde(default)]
    pub text: Option<String>,
    /// Inclusive start.
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    /// Exclusive end.
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
    /// The page, from 1.
    #[serde(default = "default_page")]
    pub page: u64,
    /// The page size.
    #[serde(default = "default_size")]
    pub size: u64,
    /// Newest first (`desc`, the default) or oldest first (`asc`).
    #[serde(default = "newest_first")]
    pub order: SortOrder,
}

fn newest_first() -> SortOrder {
    SortOrder::Desc
}

impl Default for SearchPaymentEvents {
    fn default() -> Self {
        Self {
            event_type: None,
            text: None,
            from: None,
            to: None,
            page: default_page(),
            size: default_size(),
            order: newest_first(),
        }
    }
}

impl Message for SearchPaymentEvents {
    type Output = EventPageView;

    fn name() -> &'static str {
        "SearchPaymentEvents"
    }

    fn validate(&self) -> Result<(), ApplicationError> {
        let mut fields = Fields::new();
        if let (Some(from), Some(to)) = (self.from, self.to) {
            fields.range(from, to);
        }
        fields
            .check(self.page >= 1, "page", "must be at least 1")
            .page_size("size", self.size)
            .finish()
    }
}

impl Query for SearchPaymentEvents {}

impl Cacheable for SearchPaymentEvents {
    fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
        crate::cache::org_policy(self, context, crate::cache::events_tag)
    }
}

/// `{"items", "total", "page", "size", "totalPages"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventPageView {
    /// The page.
    pub items: Vec<EventView>,
    /// All matches.
    pub total: u64,
    /// The page number.
    pub page: u64,
    /// The page size.
    pub size: u64,
    /// How many pages all matches fill.
    pub total_pages: u64,
}

/// Every event of the caller's organization sharing a correlation id, across aggregates, in
/// time order (empty when there is none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetEventTimeline {
    /// The correlation id.
    pub correlation_id: String,
}

impl Message for GetEventTimeline {
    type Output = EventTimeline;

    fn name() -> &'static str {
        "GetEventTimeline"
    }

    fn validate(&self) -> Result<(), ApplicationError> {
        Fields::new()
            .check(!self.correlation_id.is_empty(), "correlationId", "must not be empty")
            .finish()
    }
}

impl Query for GetEventTimeline {}

impl Cacheable for GetEventTimeline {
    fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
        crate::cache::org_policy(self, context, crate::cache::events_tag)
    }
}

/// `{"correlationId", "items": [event...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTimeline {
    /// The correlation id.
    pub correlation_id: String,
    /// The events, oldest first.
    pub items: Vec<EventView>,
}

/// The events sharing a correlation id in the seeds' short shape
/// (`eventType, aggregateId, timestamp, data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetEventCorrelations {
    /// The correlation id.
    pub correlation_id: String,
}

impl Message for GetEventCorrelations {
    type Output = EventCorrelations;

    fn name() -> &'static str {
        "GetEventCorrelations"
    }

    fn validate(&self) -> Result<(), ApplicationError> {
        Fields::new()
            .check(!self.correlation_id.is_empty(), "correlationId", "must not be empty")
            .finish()
    }
}

impl Query for GetEventCorrelations {}

impl Cacheable for GetEventCorrelations {
    fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
        crate::cache::org_policy(self, context, crate::cache::events_tag)
    }
}

/// One correlated event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CorrelatedEvent {
    /// The event type.
    pub event_type: String,
    /// The stream.
    pub aggregate_id: String,
    /// When it was recorded.
    pub timestamp: DateTime<Utc>,
    /// The payload.
    pub data: serde_json::Value,
}

/// `{"correlationId", "items": [{eventType, aggregateId, timestamp, data}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventCorrelations {
    /// The correlation id.
    pub correlation_id: String,
    /// The events, oldest first.
    pub items: Vec<CorrelatedEvent>,
}

/// Answers the event look-ups from the event store: a payment's history from the core port,
/// the others from the store's [`EventSearch`] and [`EventLookup`] capabilities, or
/// [`ApplicationError::Unsupported`] when the store lacks the one a query needs.
#[derive(Clone)]
pub struct PaymentEventQueryHandler {
    store: Arc<dyn EventStore>,
    lookup: Option<Arc<dyn EventLookup>>,
    search: Option<Arc<dyn EventSearch>>,
    streams: PaymentStreams,
}

impl std::fmt::Debug for PaymentEventQueryHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentEventQueryHandler").finish_non_exhaustive()
    }
}

impl PaymentEventQueryHandler {
    /// A handler reading the event store of `capabilities`.
    pub fn new(capabilities: &StoreCapabilities) -> Self {
        Self {
            streams: PaymentStreams::new(Arc::clone(&capabilities.events)),
            store: Arc::clone(&capabilities.events),
            lookup: capabilities.lookup.clone(),
            search: capabilities.search.clone(),
        }
    }

    /// The store's search capability, or `Unsupported`.
    fn search(&self) -> Result<&dyn EventSearch, ApplicationError> {
        self.search
            .as_deref()
            .ok_or(ApplicationError::unsupported(Capability::Search))
    }

    /// Every event of the caller's organization with `correlation_id`, read page by page.
    async fn correlated(
        &self,
        correlation_id: &str,
        organization_id: &str,
    ) -> Result<Vec<EventEnvelope>, ApplicationError> {
        let criteria = EventCriteria {
            correlation_id: Some(correlation_id.to_owned()),
            organization_id: Some(organization_id.to_owned()),
            ..EventCriteria::default()
        };
        let search = self.search()?;
        let mut events = Vec::new();
        loop {
            let page = Page::new(events.len() as u64, Page::MAX_LIMIT);
            let found = search.search(&criteria, page).await?;
            let got = found.items.len();
            events.extend(found.items);
            if got == 0 || events.len() as u64 >= found.total {
                return Ok(events);
            }
        }
    }
}

impl Handler<GetPaymentHistory> for PaymentEventQueryHandler {
    async fn handle(
        &self,
        query: &GetPaymentHistory,
        context: &MessageContext,
    ) -> Result<PaymentHistory, ApplicationError> {
        let organization_id = context.organization()?;
        let stream_id = self
            .streams
            .resolve(&PaymentKey::new(organization_id, &query.payment_id))
            .await?;
        if self.store.stream_version(&stream_id).await? == 0 {
            return Err(ApplicationError::not_found("payment", query.payment_id.clone()));
        }
        let items: Vec<EventView> = self
            .store
            .read_stream(&stream_id, query.from_version.unwrap_or(1))
            .try_filter(|e| {
                let visible =
                    e.aggregate_type == Payment::TYPE && e.metadata.organization_id.as_deref() == Some(organization_id);
                futures::future::ready(visible)
            })
            .map_ok(EventView::from)
            .try_collect()
            .await?;
        Ok(PaymentHistory {
            payment_id: query.payment_id.clone(),
            items,
        })
    }
}

impl Handler<SearchPaymentEvents> for PaymentEventQueryHandler {
    async fn handle(
        &self,
        query: &SearchPaymentEvents,
        context: &MessageContext,
    ) -> Result<EventPageView, ApplicationError> {
        let criteria = EventCriteria {
            aggregate_type: Some(Payment::TYPE.to_owned()),
            event_types: query.event_type.iter().cloned().collect(),
            organization_id: Some(context.organization()?.to_owned()),
            time_range: TimeRange {
                from: query.from,
                to: query.to,
            },
            text: query.text.clone().filter(|t| !t.trim().is_empty()),
            ..EventCriteria::default()
        };
        let found = self
            .search()?
            .search(
                &criteria,
                Page::new(offset_of(query.page, query.size), query.size).in_order(query.order),
            )
            .await?;
        Ok(EventPageView {
            items: found.items.into_iter().map(EventView::from).collect(),
            total: found.total,
            page: query.page,
            size: query.size,
            total_pages: page_count(found.total, query.size),
        })
    }
}

impl Handler<GetEventById> for PaymentEventQueryHandler {
    async fn handle(&self, query: &GetEventById, context: &MessageContext) -> Result<EventView, ApplicationError> {
        let organization_id = context.organization()?;
        let lookup = self
            .lookup
            .as_deref()
            .ok_or(ApplicationError::unsupported(Capability::Lookup))?;
        lookup
            .event_by_id(query.event_id)
            .await?
            .filter(|e| e.metadata.organization_id.as_deref() == Some(organization_id))
            .map(EventView::from)
            .ok_or_else(|| ApplicationError::not_found("event", query.event_id.to_string()))
    }
}

impl Handler<GetEventTimeline> for PaymentEventQueryHandler {
    async fn handle(
        &self,
        query: &GetEventTimeline,
        context: &MessageContext,
    ) -> Result<EventTimeline, ApplicationError> {
        let events = self.correlated(&query.correlation_id, context.organization()?).await?;
        Ok(EventTimeline {
            correlation_id: query.correlation_id.clone(),
            items: events.into_iter().map(EventView::from).collect(),
        })
    }
}

impl Handler<GetEventCorrelations> for PaymentEventQueryHandler {
    async fn handle(
        &self,
        query: &GetEventCorrelations,
        context: &MessageContext,
    ) -> Result<EventCorrelations, ApplicationError> {
        let events = self.correlated(&query.correlation_id, context.organization()?).await?;
        Ok(EventCorrelations {
            correlation_id: query.correlation_id.clone(),
            items: events
                .into_iter()
                .map(|e| CorrelatedEvent {
                    event_type: e.event_type,
                    aggregate_id: crate::payment_id_of_stream(&e.aggregate_id).to_owned(),
                    timestamp: e.timestamp,
                    data: e.event_data,
                })
                .collect(),
        })
    }
}
