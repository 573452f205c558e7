//! The billing queries sent on the query bus, and their handlers.
//!
//! Every query is scoped to the caller's organization, taken from the
//! [`hive_application::MessageContext`] (`metadata.organizationId`), never from the query: a
//! payment of another organization is `NotFound`, and event look-ups only see the caller's
//! organization's events.

mod analytics;
mod events;
mod payments;
mod replay;
mod search;

use chrono::{DateTime, Utc};
use hive_domain::{EventEnvelope, Metadata};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use analytics::{
    AnalyticsScope, EventAnalyticsHandler, EventTrends, GetEventHeatmap, GetEventStatistics, GetEventTrends,
};
pub use events::{
    CorrelatedEvent, EventCorrelations, EventPageView, EventTimeline, GetEventById, GetEventCorrelations,
    GetEventTimeline, GetPaymentHistory, PaymentEventQueryHandler, PaymentHistory, SearchPaymentEvents,
};
pub use payments::{
    GetPaymentById, GetPaymentStatistics, GetPaymentTrends, GetPaymentsByOrganization, PaymentPage,
    PaymentQueryHandler, PaymentTrends,
};
pub use replay::{PaymentReplay, ReplayPayment, ReplayPaymentHandler};
pub use search::{GetPaymentSuggestions, PaymentSearchHandler, PaymentSearchPage, SearchPayments, Suggestions};

/// A stored event as the event queries show it (seed shape: `eventId, aggregateId, eventType,
/// timestamp, data, metadata`, plus the stream id, version, correlation and causation ids and
/// position). For a payment event `aggregateId` is the payment id and `streamId` the stream it
/// is stored in (`{organizationId}/{paymentId}`, or the payment id for a payment written
/// before ids were per organization).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    /// The event id.
    pub event_id: Uuid,
    /// The aggregate: for payments the payment id.
    pub aggregate_id: String,
    /// The stream the event is stored in.
    pub stream_id: String,
    /// The aggregate type.
    pub aggregate_type: String,
    /// The event type.
    pub event_type: String,
    /// The version in its stream.
    pub version: u64,
    /// When it was recorded.
    pub timestamp: DateTime<Utc>,
    /// The correlation id.
    pub correlation_id: String,
    /// The causation id.
    pub causation_id: String,
    /// The payload (`eventData`).
    pub data: serde_json::Value,
    /// Who and where.
    pub metadata: Metadata,
    /// The position in the global log.
    pub global_position: Option<u64>,
}

impl From<EventEnvelope> for EventView {
    fn from(e: EventEnvelope) -> Self {
        Self {
            event_id: e.event_id,
            aggregate_id: crate::payment_id_of_stream(&e.aggregate_id).to_owned(),
            stream_id: e.aggregate_id,
            aggregate_type: e.aggregate_type,
            event_type: e.event_type,
            version: e.version,
            timestamp: e.timestamp,
            correlation_id: e.correlation_id,
            causation_id: e.causation_id,
            data: e.event_data,
            metadata: e.metadata,
            global_position: e.global_position,
        }
    }
}

fn default_page() -> u64 {
    1
}

fn default_size() -> u64 {
    20
}

/// The offset of 1-based `page` of `size` items.
fn offset_of(page: u64, size: u64) -> u64 {
    page.saturating_sub(1).saturating_mul(size)
}

/// How many pages `total` items fill.
fn page_count(total: u64, size: u64) -> u64 {
    total.div_ceil(size.max(1))
}
