//! A data directory written by the previous version (payment streams named by the payment id
//! alone, one namespace across organizations) still opens and serves its payments: to their
//! own organization only, extended in place, while other organizations use the same ids.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

use std::path::Path;

mod common;

use chrono::{TimeZone, Utc};
use common::{call, start as start_with, token, Running};
use hive_billing::{Amount, Currency, PaymentCreated, PaymentEvent, PaymentProcessed, PaymentStatus};
use hive_domain::{encode_event, EventEnvelope, EventStore, Metadata};
use hive_server::config::Layer;
use hive_server::dev_token::DEV_ORGANIZATION;
use hive_store_memory::{DurableOptions, MemoryEventStore};
use reqwest::Method;
use serde_json::json;

async fn start(data_dir: &Path) -> Running {
    start_with(Layer {
        data_dir: Some(data_dir.display().to_string()),
        ..Layer::default()
    })
    .await
}

/// The envelope the previous version stored for `event` of payment `id` of `org`: stream id =
/// payment id, the organization only in the metadata (and the `PaymentCreated` payload).
fn legacy(id: &str, org: &str, event: &PaymentEvent, version: u64) -> EventEnvelope {
    let (event_type, data) = encode_event(event).unwrap();
    let at = Utc.with_ymd_and_hms(2024, 12, 1, 9, 0, version as u32).unwrap();
    EventEnvelope::new(id, "Payment", event_type, data, version)
        .with_timestamp(at)
        .with_metadata(
            Metadata::default()
                .with_organization(org)
                .with_user("legacy-user")
                .with_source("http"),
        )
}

fn created(id: &str, org: &str, description: &str) -> PaymentEvent {
    PaymentEvent::PaymentCreated(PaymentCreated {
        payment_id: id.into(),
        organization_id: org.into(),
        user_id: "legacy-user".into(),
        amount: "80.00".parse::<Amount>().unwrap(),
        currency: "EUR".parse::<Currency>().unwrap(),
        status: PaymentStatus::Pending,
        description: description.into(),
        tags: vec!["legacy".into()],
        metadata: Default::default(),
        created_at: Utc.with_ymd_and_hms(2024, 12, 1, 9, 0, 0).unwrap(),
    })
}

/// Writes the old layout: org-dev's `pay-legacy` (created, processed) and another
/// organization's `pay-shared`, both in streams named by the payment id.
async fn write_old_layout(dir: &Path) {
    let store = MemoryEventStore::open(dir, DurableOptions::default()).await.unwrap();
    let processed = PaymentEvent::PaymentProcessed(PaymentProcessed {
        amount: "80.00".parse().unwrap(),
        currency: "EUR".parse().unwrap(),
        status: PaymentStatus::Completed,
        processed_at: Utc.with_ymd_and_hms(2024, 12, 1, 9, 5, 0).unwrap(),
    });
    let ours = vec![
        legacy(
            "pay-legacy",
            DEV_ORGANIZATION,
            &created("pay-legacy", DEV_ORGANIZATION, "Old hosting invoice"),
            1,
        ),
        legacy("pay-legacy", DEV_ORGANIZATION, &processed, 2),
    ];
    store.append("pay-legacy", 0, ours).await.unwrap();
    let theirs = vec![legacy(
        "pay-shared",
        "org-other",
        &created("pay-shared", "org-other", "Not yours"),
        1,
    )];
    store.append("pay-shared", 0, theirs).await.unwrap();
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_directory_of_the_previous_version_is_served() {
    let dir = tempfile::tempdir().unwrap();
    write_old_layout(dir.path()).await;
    let server = start(dir.path()).await;
    let token = token(dir.path());
    let url = |path: &str| format!("{}{path}", server.base);

    let (status, payment) = call(Method::GET, url("/payments/pay-legacy"), &token, None).await;
    assert_eq!(status, 200, "{payment}");
    assert_eq!(
        (payment["status"].as_str(), payment["version"].as_u64()),
        (Some("completed"), Some(2))
    );
    let (status, history) = call(Method::GET, url("/payments/pay-legacy/history"), &token, None).await;
    assert_eq!(status, 200, "{history}");
    let streams: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["streamId"].as_str().unwrap())
        .collect();
    assert_eq!(
        streams,
        ["pay-legacy", "pay-legacy"],
        "read from the old stream, not copied"
    );
    let (status, search) = call(Method::GET, url("/payments/search?q=hosting"), &token, None).await;
    assert_eq!((status, search["total"].as_u64()), (200, Some(1)), "{search}");

    // Extended in place.
    let (status, refunded) = call(
        Method::POST,
        url("/payments/pay-legacy/refund"),
        &token,
        Some(json!({"amount": "30.00"})),
    )
    .await;
    assert_eq!(status, 200, "{refunded}");
    assert_eq!(refunded["version"], 3);

    // Another organization's old payment: unseen, and its id is free for org-dev.
    let (status, problem) = call(Method::GET, url("/payments/pay-shared"), &token, None).await;
    assert_eq!(status, 404, "{problem}");
    let (status, own) = call(
        Method::POST,
        url("/payments"),
        &token,
        Some(json!({"paymentId": "pay-shared", "amount": "5.00", "currency": "EUR", "description": "Mine"})),
    )
    .await;
    assert_eq!(status, 201, "{own}");
    server.stop().await;

    // And again after a restart on the same directory.
    let server = start(dir.path()).await;
    let (status, payment) = call(
        Method::GET,
        format!("{}/payments/pay-legacy", server.base),
        &token,
        None,
    )
    .await;
    assert_eq!((status, payment["version"].as_u64()), (200, Some(3)), "{payment}");
    let (status, own) = call(
        Method::GET,
        format!("{}/payments/pay-shared", server.base),
        &token,
        None,
    )
    .await;
    assert_eq!((status, own["description"].as_str()), (200, Some("Mine")), "{own}");
    server.stop().await;
}
