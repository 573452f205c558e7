//! Payment ids belong to their organization: two organizations may use the same id, neither
//! learns of the other's; and streams written before (named by the payment id alone) are still
//! served, to their own organization only, and appended to in place.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{domain_code, Harness};
use futures::TryStreamExt;
use hive_application::{ApplicationError, Projection};
use hive_billing::{
    GetPaymentById, GetPaymentHistory, PaymentHistory, PaymentKey, PaymentReadModelProjection, PaymentReplay,
    PaymentStatus, ReplayPayment, SearchPaymentEvents,
};
use hive_domain::{EventEnvelope, EventStore, UpcasterChain};
use hive_store_memory::billing::MemoryPaymentReadModel;

async fn replay(h: &Harness, org: &str, id: &str) -> PaymentReplay {
    let query = ReplayPayment {
        payment_id: id.into(),
        ..ReplayPayment::default()
    };
    h.query(org, query).await.unwrap()
}

async fn history(
    h: &Harness,
    org: &str,
    id: &str,
    from_version: Option<u64>,
) -> Result<PaymentHistory, ApplicationError> {
    let query = GetPaymentHistory {
        payment_id: id.into(),
        from_version,
    };
    h.query(org, query).await
}

async fn stream_ids(h: &Harness) -> Vec<String> {
    let log = h.events.read_all(0, 1000).await.unwrap();
    let mut ids: Vec<String> = log.into_iter().map(|e| e.aggregate_id).collect();
    ids.dedup();
    ids
}

#[tokio::test]
async fn two_organizations_use_the_same_payment_id() {
    let h = Harness::new();
    h.create("org-a", "pay-1", "100.00", "EUR", "Ours").await;
    let theirs = h.create("org-b", "pay-1", "7.00", "USD", "Theirs").await;
    assert_eq!(
        (theirs.organization_id.as_str(), theirs.payment_id.as_str()),
        ("org-b", "pay-1")
    );
    assert_eq!(stream_ids(&h).await, ["org-a/pay-1", "org-b/pay-1"]);

    let ours = h
        .query(
            "org-a",
            GetPaymentById {
                payment_id: "pay-1".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (ours.amount.to_string(), ours.description.as_str()),
        ("100.00".into(), "Ours")
    );
    let theirs = h
        .query(
            "org-b",
            GetPaymentById {
                payment_id: "pay-1".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(theirs.description, "Theirs");

    // A conflict only ever concerns the caller's own organization.
    let again = h.try_create("org-a", "pay-1", "1", "EUR", "", &[]).await.unwrap_err();
    assert_eq!(domain_code(&again), "payment_already_exists");
    h.process("org-b", "pay-1").await.unwrap();
    let ours = h
        .query(
            "org-a",
            GetPaymentById {
                payment_id: "pay-1".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        ours.status,
        PaymentStatus::Pending,
        "org-b's command never touches org-a's payment"
    );

    let history = history(&h, "org-b", "pay-1", Some(2)).await.unwrap();
    let seen: Vec<(&str, &str, u64)> = history
        .items
        .iter()
        .map(|e| (e.aggregate_id.as_str(), e.stream_id.as_str(), e.version))
        .collect();
    assert_eq!(
        seen,
        [("pay-1", "org-b/pay-1", 2)],
        "fromVersion 2: the second event only"
    );
    let events = h.query("org-a", SearchPaymentEvents::default()).await.unwrap();
    assert_eq!(events.total, 1, "org-a sees its own events only");
    let replay = replay(&h, "org-a", "pay-1").await;
    assert_eq!(
        (replay.latest_version, replay.payment.description.as_str()),
        (1, "Ours")
    );
}

/// The events of a payment created by the previous version: its stream is named by the payment
/// id alone, its organization is in the metadata.
fn legacy_events(org: &str, id: &str) -> Vec<EventEnvelope> {
    let created = serde_json::json!({
        "paymentId": id, "organizationId": org, "userId": "legacy-user", "amount": "25.00",
        "currency": "EUR", "status": "pending", "description": "Written by the previous version",
        "tags": ["legacy"], "createdAt": "2024-12-01T09:00:00Z"
    });
    let metadata = hive_domain::Metadata::default()
        .with_organization(org)
        .with_user("legacy-user");
    vec![EventEnvelope::new(id, "Payment", "PaymentCreated", created, 1).with_metadata(metadata)]
}

#[tokio::test]
async fn a_stream_written_before_ids_were_per_organization_is_still_served_and_extended() {
    let h = Harness::with_inline(false);
    h.events
        .append("pay-old", 0, legacy_events("org-a", "pay-old"))
        .await
        .unwrap();
    // What the service does on start: the projections catch up (here: the read model).
    let read_model = MemoryPaymentReadModel::new();
    let projection = PaymentReadModelProjection::new(Arc::new(read_model.clone()), Arc::new(UpcasterChain::new()));
    for event in h.events.read_all(0, 10).await.unwrap() {
        projection.apply(&event).await.unwrap();
    }
    let record = hive_billing::PaymentReadModel::get(&read_model, &PaymentKey::new("org-a", "pay-old"))
        .await
        .unwrap()
        .expect("the legacy payment is in the read model under its organization's key");
    assert_eq!(record.payment.description, "Written by the previous version");

    // Commands of its organization append to the legacy stream; nothing is rewritten.
    let processed = h.process("org-a", "pay-old").await.unwrap();
    assert_eq!((processed.version, processed.status), (2, PaymentStatus::Completed));
    let legacy: Vec<EventEnvelope> = h.events.read_stream("pay-old", 1).try_collect().await.unwrap();
    assert_eq!(legacy.len(), 2, "appended to the legacy stream");
    assert_eq!(
        h.events.stream_version("org-a/pay-old").await.unwrap(),
        0,
        "no keyed twin"
    );

    // Another organization never sees it, and may create its own `pay-old`.
    let err = history(&h, "org-b", "pay-old", None).await.unwrap_err();
    assert_eq!(err, ApplicationError::not_found("payment", "pay-old"));
    let err = h.process("org-b", "pay-old").await.unwrap_err();
    assert_eq!(err, ApplicationError::not_found("payment", "pay-old"));
    h.create("org-b", "pay-old", "3.00", "EUR", "Mine").await;
    assert_eq!(h.events.stream_version("org-b/pay-old").await.unwrap(), 1);

    let history = history(&h, "org-a", "pay-old", None).await.unwrap();
    let seen: Vec<(&str, &str)> = history
        .items
        .iter()
        .map(|e| (e.aggregate_id.as_str(), e.stream_id.as_str()))
        .collect();
    assert_eq!(seen, [("pay-old", "pay-old"), ("pay-old", "pay-old")]);
    let replay = replay(&h, "org-a", "pay-old").await;
    assert_eq!(
        (replay.latest_version, replay.payment.status),
        (2, PaymentStatus::Completed)
    );
}
