//! Synthetic histories shaped like the demo's payments, to measure what an event store keeps
//! per event: streams of three events (created, processed, refunded), each appended by a
//! command of its own with a fresh correlation id, spread over 4 organizations and 10 users.

use chrono::{DateTime, Duration, TimeZone, Utc};
use futures::{StreamExt, TryStreamExt};
use hive_domain::{EventEnvelope, EventStore, Metadata, StoreResult};
use serde_json::json;
use uuid::Uuid;

/// Organizations the synthetic payments belong to.
pub const PAYMENT_ORGANIZATIONS: usize = 4;
/// Users the synthetic payments are made by.
pub const PAYMENT_USERS: usize = 10;
/// Events per synthetic payment stream.
pub const EVENTS_PER_PAYMENT: usize = 3;

const TYPES: [&str; EVENTS_PER_PAYMENT] = ["PaymentCreated", "PaymentProcessed", "PaymentRefunded"];

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
}

/// Synthetic payment number `n`: its stream id and its three events (versions 1 to 3), each
/// meant for an append of its own.
pub fn payment_like(n: usize) -> (String, Vec<EventEnvelope>) {
    let organization = format!("org-{}", n % PAYMENT_ORGANIZATIONS);
    let user = format!("user-{}", n % PAYMENT_USERS);
    let stream = format!("{organization}/pay-{}", Uuid::new_v4());
    let at = start() + Duration::minutes(n as i64);
    let events = (1u64..)
        .zip(TYPES)
        .map(|(version, event_type)| {
            let data = json!({
                "paymentId": stream,
                "amount": format!("{}.{:02}", 10 + n % 990, n % 100),
                "currency": "EUR",
                "customerEmail": format!("customer-{}@example.com", n % 1_000),
                "description": format!("Invoice {n}"),
                "occurredAt": at + Duration::seconds(version as i64),
            });
            let correlation = Uuid::new_v4().to_string();
            EventEnvelope::new(&stream, "Payment", event_type, data, version)
                .with_timestamp(at + Duration::seconds(version as i64))
                .with_correlation_id(&correlation)
                .with_causation_id(correlation)
                .with_metadata(
                    Metadata::default()
                        .with_organization(&organization)
                        .with_user(&user)
                        .with_source("http"),
                )
        })
        .collect();
    (stream, events)
}

/// Appends `payments` synthetic payments ([`payment_like`]) to `store`, one event per append,
/// `concurrency` payments at a time; returns how many events were appended.
pub async fn append_payment_like(store: &impl EventStore, payments: usize, concurrency: usize) -> StoreResult<u64> {
    futures::stream::iter(0..payments)
        .map(|n| async move {
            let (stream, events) = payment_like(n);
            for (expected, event) in (0u64..).zip(events) {
                store.append(&stream, expected, vec![event]).await?;
            }
            Ok::<u64, hive_domain::EventStoreError>(EVENTS_PER_PAYMENT as u64)
        })
        .buffer_unordered(concurrency.max(1))
        .try_fold(0, |total, appended| async move { Ok(total + appended) })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payments_look_like_the_demo() {
        let (stream, events) = payment_like(13);
        assert!(stream.starts_with("org-1/pay-"));
        assert_eq!(events.len(), EVENTS_PER_PAYMENT);
        assert_eq!(events[2].event_type, "PaymentRefunded");
        assert_eq!(events[1].version, 2);
        assert_eq!(events[0].metadata.user_id.as_deref(), Some("user-3"));
        assert_ne!(events[0].correlation_id, events[1].correlation_id);
        let bytes = serde_json::to_vec(&events[0]).unwrap().len();
        assert!((400..700).contains(&bytes), "{bytes} bytes of JSON");
    }
}
