//! Query caching in billing: the tags each query's answer depends on, and the tags each event
//! invalidates. Both sides use the same functions, so they cannot drift apart.
//!
//! | answer | tags |
//! |---|---|
//! | `GetPaymentById`, `GetPaymentHistory`, `ReplayPayment` | `payment:{org}/{id}` |
//! | `GetPaymentsByOrganization`, `GetPaymentStatistics`, `GetPaymentTrends`, `SearchPayments`, `GetPaymentSuggestions` | `org:{org}:payments` |
//! | `SearchPaymentEvents`, `GetEventTimeline`, `GetEventCorrelations`, event analytics | `org:{org}:events` |
//! | event analytics of one `eventType` | `org:{org}:events:{eventType}` |
//! | event analytics with `scope: platform` (every organization) | `platform:events` |
//!
//! An event invalidates `payment:{org}/{id}` (its [`PaymentKey`], whether its stream is keyed or
//! legacy) and `org:{org}:payments` (payment events),
//! `org:{org}:events`, `org:{org}:events:{eventType}` (any event of an organization), and
//! `platform:events` (every event, with or without an organization).

use hive_application::cache::CachePolicy;
use hive_application::MessageContext;
use hive_domain::{Aggregate, EventEnvelope};
use serde::Serialize;

use crate::{Payment, PaymentKey};

/// `payment:{org}/{id}`: everything known about one payment.
pub fn payment_tag(key: &PaymentKey) -> String {
    format!("payment:{key}")
}

/// `org:{org}:payments`: the organization's payments as a set (lists, statistics, search).
pub fn payments_tag(organization_id: &str) -> String {
    format!("org:{organization_id}:payments")
}

/// `org:{org}:events`: the organization's event log.
pub fn events_tag(organization_id: &str) -> String {
    format!("org:{organization_id}:events")
}

/// `org:{org}:events:{eventType}`: the organization's events of one type.
pub fn event_type_tag(organization_id: &str, event_type: &str) -> String {
    format!("org:{organization_id}:events:{event_type}")
}

/// `platform:events`: every organization's events (platform-wide analytics).
pub fn platform_events_tag() -> String {
    "platform:events".to_owned()
}

/// The tags `event` makes stale (the function given to the
/// [`CacheInvalidator`](hive_application::cache::CacheInvalidator)).
///
/// ```
/// use hive_domain::{EventEnvelope, Metadata};
///
/// let event = EventEnvelope::new("org-1/pay-1", "Payment", "PaymentProcessed", serde_json::json!({}), 2)
///     .with_metadata(Metadata::default().with_organization("org-1"));
/// assert_eq!(
///     hive_billing::cache::invalidation_tags(&event),
///     [
///         "payment:org-1/pay-1",
///         "org:org-1:payments",
///         "org:org-1:events",
///         "org:org-1:events:PaymentProcessed",
///         "platform:events"
///     ]
/// );
/// ```
pub fn invalidation_tags(event: &EventEnvelope) -> Vec<String> {
    let mut tags = Vec::with_capacity(5);
    let organization = event.metadata.organization_id.as_deref();
    if event.aggregate_type == Payment::TYPE {
        if let Some(key) = PaymentKey::of_event(event) {
            tags.push(payment_tag(&key));
        }
        if let Some(org) = organization {
            tags.push(payments_tag(org));
        }
    }
    if let Some(org) = organization {
        tags.push(events_tag(org));
        tags.push(event_type_tag(org, &event.event_type));
    }
    tags.push(platform_events_tag());
    tags
}

/// The policy of a query whose answer is an `O` depending on `tag` of the caller's
/// organization; `None` (uncached) without an organization (the handler refuses it anyway).
pub(crate) fn org_policy(
    query: &impl Serialize,
    context: &MessageContext,
    tag: fn(&str) -> String,
) -> Option<CachePolicy> {
    let org = context.metadata.organization_id.as_deref()?;
    Some(CachePolicy::new(query)?.with_tag(tag(org)))
}

/// The policy of a query about one payment of the caller's organization; `None` (uncached)
/// without an organization.
pub(crate) fn payment_policy(
    query: &impl Serialize,
    context: &MessageContext,
    payment_id: &str,
) -> Option<CachePolicy> {
    let org = context.metadata.organization_id.as_deref()?;
    Some(CachePolicy::new(query)?.with_tag(payment_tag(&PaymentKey::new(org, payment_id))))
}
