//! Tenancy through HTTP on MongoDB: a database written by the previous version (a payment
//! stream named by its payment id, a checkpoint without a projection version) is upgraded on
//! start; payment ids are per organization; roles are enforced; events are found by id within
//! their organization; the platform role reads analytics across organizations and nothing
//! else. Needs `HIVE_MONGODB_URI` (required under CI).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

use std::path::Path;

mod common;

use chrono::{TimeZone, Utc};
use common::{call, start as start_with, Running};
use hive_billing::{Amount, Currency, PaymentCreated, PaymentEvent, PaymentStatus, BILLING_PROJECTION_VERSION};
use hive_domain::{encode_event, Checkpoint, CheckpointStore, EventEnvelope, EventStore, Metadata};
use hive_http::Role;
use hive_server::config::{Layer, TokenConfig};
use hive_store_mongodb::{MongoOptions, MongoStore};
use reqwest::Method;
use serde_json::{json, Value};

const A_WRITER: &str = "org-a-writer-token-0123456789";
const A_READER: &str = "org-a-reader-token-0123456789";
const B_WRITER: &str = "org-b-writer-token-0123456789";
const PLATFORM: &str = "platform-only-token-0123456789";

fn token(secret: &str, organization: &str, roles: Vec<Role>) -> TokenConfig {
    TokenConfig {
        token: secret.into(),
        organization: organization.into(),
        user: format!("{organization}-user"),
        roles,
    }
}

async fn start(data_dir: &Path, uri: &str, database: &str) -> Running {
    start_with(Layer {
        data_dir: Some(data_dir.display().to_string()),
        store: Some("mongodb".into()),
        mongodb_uri: Some(uri.into()),
        mongodb_database: Some(database.into()),
        tokens: Some(vec![
            token(A_WRITER, "org-a", vec![Role::Writer]),
            token(A_READER, "org-a", vec![Role::Reader]),
            token(B_WRITER, "org-b", vec![Role::Writer]),
            token(PLATFORM, "org-ops", vec![Role::Platform]),
        ]),
        ..Layer::default()
    })
    .await
}

/// What the previous version left: org-a's `pay-old` in a stream named `pay-old`, and the
/// read model's checkpoint past it, without a projection version.
async fn write_old_database(store: &MongoStore) {
    let created = PaymentEvent::PaymentCreated(PaymentCreated {
        payment_id: "pay-old".into(),
        organization_id: "org-a".into(),
        user_id: "org-a-user".into(),
        amount: "64.00".parse::<Amount>().unwrap(),
        currency: "EUR".parse::<Currency>().unwrap(),
        status: PaymentStatus::Pending,
        description: "Written by the previous version".into(),
        tags: vec![],
        metadata: Default::default(),
        created_at: Utc.with_ymd_and_hms(2024, 12, 1, 9, 0, 0).unwrap(),
    });
    let (event_type, data) = encode_event(&created).unwrap();
    let event = EventEnvelope::new("pay-old", "Payment", event_type, data, 1)
        .with_timestamp(Utc.with_ymd_and_hms(2024, 12, 1, 9, 0, 0).unwrap())
        .with_metadata(Metadata::default().with_organization("org-a").with_user("org-a-user"));
    store.event_store().append("pay-old", 0, vec![event]).await.unwrap();
    let old = Checkpoint::new("billing.payment_read_model", 1, None);
    store.checkpoint_store().save(old).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_are_sealed_on_mongodb_from_an_upgraded_database_on() {
    let Some(uri) = hive_testkit::backend::url(hive_testkit::backend::MONGODB) else {
        return;
    };
    let database = format!("hive_test_{}", uuid::Uuid::new_v4().simple());
    let store = MongoStore::connect(&uri, MongoOptions::default().with_database(database.clone()))
        .await
        .unwrap();
    write_old_database(&store).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &uri, &database).await;
    let send = |method: Method, path: &str, token: &'static str, body: Option<Value>| {
        let url = format!("{}{path}", server.base);
        async move { call(method, url, token, body).await }
    };
    let create = |id: &str, amount: &str| json!({"paymentId": id, "amount": amount, "currency": "EUR", "description": "Tenancy"});

    // The old payment, rebuilt into the keyed read model at start: its organization's only.
    let (status, old) = send(Method::GET, "/payments/pay-old", A_READER, None).await;
    assert_eq!((status, old["amount"].as_str()), (200, Some("64.00")), "{old}");
    let (status, _) = send(Method::GET, "/payments/pay-old", B_WRITER, None).await;
    assert_eq!(status, 404, "another organization never sees it");
    let checkpoint = store
        .checkpoint_store()
        .load("billing.payment_read_model")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        checkpoint.version, BILLING_PROJECTION_VERSION,
        "rebuilt at the new version"
    );
    assert!(checkpoint.last_processed_timestamp.is_some(), "{checkpoint:?}");

    // Same ids in two organizations; a conflict only within one.
    let (status, body) = send(Method::POST, "/payments", B_WRITER, Some(create("pay-old", "1.00"))).await;
    assert_eq!(status, 201, "org-b may use org-a's old id: {body}");
    for (token, amount) in [(A_WRITER, "10.00"), (B_WRITER, "20.00")] {
        let (status, body) = send(Method::POST, "/payments", token, Some(create("pay-1", amount))).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, conflict) = send(Method::POST, "/payments", A_WRITER, Some(create("pay-1", "3.00"))).await;
    assert_eq!(
        (status, conflict["code"].as_str()),
        (409, Some("payment_already_exists")),
        "{conflict}"
    );
    let (status, mine) = send(Method::GET, "/payments/pay-1", B_WRITER, None).await;
    assert_eq!((status, mine["amount"].as_str()), (200, Some("20.00")), "{mine}");
    let (status, listed) = send(Method::GET, "/payments", B_WRITER, None).await;
    assert_eq!((status, listed["total"].as_u64()), (200, Some(2)), "{listed}");

    // Roles.
    let (status, refused) = send(Method::POST, "/payments", A_READER, Some(create("pay-2", "1.00"))).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("insufficient_role")),
        "{refused}"
    );
    let (status, refused) = send(Method::GET, "/payments", PLATFORM, None).await;
    assert_eq!(status, 403, "platform reads analytics only: {refused}");

    // The old payment is extended in its old stream.
    let (status, processed) = send(Method::POST, "/payments/pay-old/process", A_WRITER, Some(json!({}))).await;
    assert_eq!((status, processed["version"].as_u64()), (200, Some(2)), "{processed}");
    assert_eq!(store.event_store().stream_version("pay-old").await.unwrap(), 2);
    let (status, history) = send(Method::GET, "/payments/pay-old/history?fromVersion=2", A_READER, None).await;
    assert_eq!(status, 200, "{history}");
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{history}");
    assert_eq!(
        (items[0]["eventType"].as_str(), items[0]["streamId"].as_str()),
        (Some("PaymentProcessed"), Some("pay-old"))
    );

    // Events: newest first, by id within the organization only.
    let (status, events) = send(Method::GET, "/events/search", A_READER, None).await;
    assert_eq!(status, 200, "{events}");
    let newest = &events["items"][0];
    assert_eq!(newest["eventType"], "PaymentProcessed", "newest first: {events}");
    let id = newest["eventId"].as_str().unwrap();
    let (status, found) = send(Method::GET, &format!("/events/{id}"), A_READER, None).await;
    assert_eq!((status, found["eventId"].as_str()), (200, Some(id)), "{found}");
    let (status, _) = send(Method::GET, &format!("/events/{id}"), B_WRITER, None).await;
    assert_eq!(status, 404, "another organization's event is not found");

    // The platform role: every organization's analytics.
    let (status, stats) = send(
        Method::GET,
        "/events/statistics?scope=platform&from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z",
        PLATFORM,
        None,
    )
    .await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["byOrganization"], json!({"org-a": 3, "org-b": 2}), "{stats}");
    let (status, _) = send(
        Method::GET,
        "/events/statistics?scope=platform&from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z",
        A_WRITER,
        None,
    )
    .await;
    assert_eq!(status, 403, "only the platform role reads every organization");
    server.stop().await;

    // After a restart: no second rebuild, the same answers.
    let server = start(dir.path(), &uri, &database).await;
    let (status, old) = call(Method::GET, format!("{}/payments/pay-old", server.base), A_READER, None).await;
    assert_eq!((status, old["status"].as_str()), (200, Some("completed")), "{old}");
    server.stop().await;
    store.drop_database().await.unwrap();
}
