//! The payment read model on MongoDB: the hive-testkit billing suite, reset, per-organization
//! keys, metadata, and the rebuild of a read model written by the previous version.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use bson::{doc, Document};
use chrono::{Duration, TimeZone, Utc};
use common::{drop_database, fresh_default, server};
use futures::TryStreamExt;
use hive_application::ProjectionRunner;
use hive_billing::{
    PaymentKey, PaymentReadModel, PaymentReadModelProjection, PaymentRecord, PaymentStatus, PaymentView,
    BILLING_PROJECTION_VERSION,
};
use hive_domain::{Checkpoint, CheckpointStore, EventEnvelope, EventStore, Metadata, UpcasterChain};
use hive_store_mongodb::MongoStore;
use hive_testkit::billing::pending_payment;
use hive_testkit::Held;
use mongodb::options::IndexOptions;
use mongodb::IndexModel;
use serde_json::json;

mod read_model {
    use super::*;
    hive_testkit::payment_read_model_conformance!(skip_unless = server(), async {
        let store = fresh_default().await;
        Held::with_guard(store.payment_read_model().await.unwrap(), drop_database(store))
    });
}

fn view(id: &str, org: &str, nanos: i64) -> PaymentView {
    let at = Utc.with_ymd_and_hms(2024, 12, 19, 10, 0, 0).unwrap() + Duration::nanoseconds(nanos);
    PaymentView {
        status: PaymentStatus::Completed,
        tags: vec!["a".into()],
        processed_at: Some(at),
        version: 2,
        ..pending_payment(org, id, at)
    }
}

fn record(id: &str, org: &str, position: u64) -> PaymentRecord {
    PaymentRecord {
        payment: view(id, org, 0),
        position,
    }
}

fn read_models(store: &MongoStore) -> mongodb::Collection<Document> {
    store.database().collection("payment_read_models")
}

/// The names of the collection's indexes.
async fn index_names(store: &MongoStore) -> Vec<String> {
    read_models(store).list_index_names().await.unwrap()
}

/// The unique index on `paymentId` a database of the previous schema may hold, made by hand.
async fn legacy_unique_index(store: &MongoStore) {
    let index = IndexModel::builder()
        .keys(doc! { "paymentId": 1 })
        .options(
            IndexOptions::builder()
                .name("paymentId_1".to_owned())
                .unique(true)
                .build(),
        )
        .build();
    read_models(store).create_index(index).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_empties_the_read_model() {
    if !server() {
        return;
    }
    let store = fresh_default().await;
    let _drop = drop_database(store.clone());
    let read_model = store.payment_read_model().await.unwrap();
    assert!(read_model.upsert(record("p-1", "org-1", 1)).await.unwrap());
    read_model.reset().await.unwrap();
    assert!(read_model
        .get(&PaymentKey::new("org-1", "p-1"))
        .await
        .unwrap()
        .is_none());
    assert!(read_model.list_keys(None, None, 10).await.unwrap().is_empty());
}

/// Two organizations' `pay-1` are two documents, `_id` the key text, with `paymentId` and
/// `organizationId` kept; each organization's key listing holds its own only, even beside an
/// organization whose id extends the other's (`org-a/b`, `org-a0`, `org-a-z`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_share_payment_ids_under_their_keys() {
    if !server() {
        return;
    }
    let store = fresh_default().await;
    let _drop = drop_database(store.clone());
    let read_model = store.payment_read_model().await.unwrap();
    let orgs = ["org-a", "org-b", "org-a/b", "org-a0", "org-a-z"];
    for (position, org) in (1..).zip(orgs) {
        assert!(
            read_model.upsert(record("pay-1", org, position)).await.unwrap(),
            "{org}"
        );
    }
    assert!(read_model.upsert(record("pay-2", "org-a", 9)).await.unwrap());
    let stored: Vec<Document> = read_models(&store)
        .find(doc! { "paymentId": "pay-1" })
        .sort(doc! { "_id": 1 })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<(&str, &str)> = stored
        .iter()
        .map(|d| (d.get_str("_id").unwrap(), d.get_str("organizationId").unwrap()))
        .collect();
    assert_eq!(
        ids,
        [
            ("org-a-z/pay-1", "org-a-z"),
            ("org-a/b/pay-1", "org-a/b"),
            ("org-a/pay-1", "org-a"),
            ("org-a0/pay-1", "org-a0"),
            ("org-b/pay-1", "org-b"),
        ]
    );
    let a = PaymentKey::new("org-a", "pay-1");
    assert_eq!(
        read_model.get(&a).await.unwrap().unwrap().payment.organization_id,
        "org-a"
    );
    let texts = |keys: Vec<PaymentKey>| keys.iter().map(|k| k.as_str().to_owned()).collect::<Vec<_>>();
    assert_eq!(
        texts(read_model.list_keys(Some("org-a"), None, 10).await.unwrap()),
        ["org-a/pay-1", "org-a/pay-2"]
    );
    assert_eq!(
        texts(read_model.list_keys(Some("org-a"), Some(&a), 10).await.unwrap()),
        ["org-a/pay-2"]
    );
    assert_eq!(
        texts(read_model.list_keys(Some("org-a/b"), None, 10).await.unwrap()),
        ["org-a/b/pay-1"]
    );
    assert_eq!(
        texts(read_model.list_keys(None, Some(&a), 2).await.unwrap()),
        ["org-a/pay-2", "org-a0/pay-1"]
    );
    let many = read_model
        .get_many(&[
            &PaymentKey::new("org-b", "pay-1"),
            &a,
            &PaymentKey::new("org-c", "pay-1"),
        ])
        .await
        .unwrap();
    let orgs_back: Vec<Option<String>> = many.into_iter().map(|r| r.map(|r| r.payment.organization_id)).collect();
    assert_eq!(orgs_back, [Some("org-b".into()), Some("org-a".into()), None]);
}

/// `metadata` is stored as an embedded document and reads back, `$`-prefixed and dotted keys
/// included (verbatim, never interpreted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_round_trips() {
    if !server() {
        return;
    }
    let store = fresh_default().await;
    let _drop = drop_database(store.clone());
    let read_model = store.payment_read_model().await.unwrap();
    let mut payment = view("pay-1", "org-1", 0);
    payment.metadata = BTreeMap::from([
        ("invoice".to_owned(), "INV-42".to_owned()),
        ("$where".to_owned(), "sleep(1000)".to_owned()),
        ("a.b".to_owned(), "{\"$ne\": null}".to_owned()),
    ]);
    let stored = PaymentRecord { payment, position: 3 };
    assert!(read_model.upsert(stored.clone()).await.unwrap());
    assert_eq!(
        read_model.get(&stored.payment.key()).await.unwrap(),
        Some(stored.clone())
    );
    // The batched write path too.
    let mut other = stored.clone();
    other.payment.organization_id = "org-2".into();
    assert_eq!(read_model.upsert_many(vec![other.clone()]).await.unwrap(), 1);
    assert_eq!(read_model.get(&other.payment.key()).await.unwrap(), Some(other));
    let document = read_models(&store)
        .find_one(doc! { "_id": "org-1/pay-1" })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        document.get_document("metadata").unwrap().get_str("invoice").unwrap(),
        "INV-42"
    );
}

/// A read model of the previous version (a unique index on `paymentId`, documents with
/// `_id` = payment id): `reset` leaves a collection that takes two organizations' `pay-1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_drops_the_unique_payment_id_index() {
    if !server() {
        return;
    }
    let store = fresh_default().await;
    let _drop = drop_database(store.clone());
    let read_model = store.payment_read_model().await.unwrap();
    let ours = index_names(&store).await;
    legacy_unique_index(&store).await;
    read_models(&store)
        .insert_one(doc! { "_id": "pay-1", "paymentId": "pay-1", "organizationId": "org-1" })
        .await
        .unwrap();
    // The legacy document has no key: listings skip it.
    assert!(read_model.list_keys(None, None, 10).await.unwrap().is_empty());
    // What the index does before the reset: it refuses the payment (and the refusal, a
    // duplicate key, reads as a stale record).
    assert!(!read_model.upsert(record("pay-1", "org-2", 1)).await.unwrap());
    assert!(read_model
        .get(&PaymentKey::new("org-2", "pay-1"))
        .await
        .unwrap()
        .is_none());
    read_model.reset().await.unwrap();
    assert_eq!(read_models(&store).count_documents(doc! {}).await.unwrap(), 0);
    let mut after = index_names(&store).await;
    let mut expected = ours;
    after.sort();
    expected.sort();
    assert_eq!(after, expected, "only the unique paymentId index goes");
    assert!(read_model.upsert(record("pay-1", "org-1", 1)).await.unwrap());
    assert!(read_model.upsert(record("pay-1", "org-2", 2)).await.unwrap());
    let keys = read_model.list_keys(None, None, 10).await.unwrap();
    assert_eq!(
        keys,
        [PaymentKey::new("org-1", "pay-1"), PaymentKey::new("org-2", "pay-1")]
    );
    // Reset again: nothing left to drop, still fine.
    read_model.reset().await.unwrap();
}

fn created(stream: &str, org: &str, payment_id: &str, version: u64) -> EventEnvelope {
    let data = json!({
        "paymentId": payment_id, "organizationId": org, "userId": "user-1", "amount": "10.00",
        "currency": "EUR", "status": "pending", "description": "Cloud hosting", "tags": [],
        "metadata": { "invoice": format!("INV-{org}") }, "createdAt": "2024-12-19T10:00:00Z",
    });
    EventEnvelope::new(stream, "Payment", "PaymentCreated", data, version)
        .with_metadata(Metadata::default().with_organization(org))
}

/// The projection runner's upgrade on a database of the previous version: checkpoint without a
/// version, a unique `paymentId` index, a document `_id` = payment id. The runner resets and
/// replays: both organizations' `pay-1` (one a legacy stream) are in the read model, and the
/// checkpoint holds the new version and the last event's timestamp.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_rebuilds_a_read_model_of_the_previous_version() {
    if !server() {
        return;
    }
    let store = fresh_default().await;
    let _drop = drop_database(store.clone());
    let events = store.event_store();
    events
        .append("pay-1", 0, vec![created("pay-1", "org-1", "pay-1", 1)])
        .await
        .unwrap();
    let last = events
        .append("org-2/pay-1", 0, vec![created("org-2/pay-1", "org-2", "pay-1", 1)])
        .await
        .unwrap();
    let read_model = store.payment_read_model().await.unwrap();
    legacy_unique_index(&store).await;
    read_models(&store)
        .insert_one(doc! { "_id": "pay-1", "paymentId": "pay-1", "organizationId": "org-1", "position": 1_i64 })
        .await
        .unwrap();
    // The previous version's checkpoint: caught up, no version field.
    store
        .database()
        .collection::<Document>("projections_metadata")
        .insert_one(doc! {
            "projectionName": PaymentReadModelProjection::NAME, "position": 2_i64,
            "lastProcessedEventId": bson::Bson::Null, "updatedAt": bson::DateTime::now(),
        })
        .await
        .unwrap();
    let checkpoints = Arc::new(store.checkpoint_store());
    assert_eq!(
        checkpoints
            .load(PaymentReadModelProjection::NAME)
            .await
            .unwrap()
            .unwrap()
            .version,
        0
    );
    let projection = PaymentReadModelProjection::new(Arc::new(read_model.clone()), Arc::new(UpcasterChain::new()));
    let runner = ProjectionRunner::new(Arc::new(events), checkpoints.clone(), Arc::new(projection));
    let report = runner.catch_up().await.unwrap();
    assert!(report.upgraded, "{report:?}");
    assert_eq!(report.position, 2);
    for org in ["org-1", "org-2"] {
        let back = read_model.get(&PaymentKey::new(org, "pay-1")).await.unwrap().unwrap();
        assert_eq!(back.payment.metadata["invoice"], format!("INV-{org}"));
    }
    assert_eq!(read_models(&store).count_documents(doc! {}).await.unwrap(), 2);
    assert!(!index_names(&store).await.contains(&"paymentId_1".to_owned()));
    let checkpoint: Checkpoint = checkpoints
        .load(PaymentReadModelProjection::NAME)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(checkpoint.version, BILLING_PROJECTION_VERSION);
    assert_eq!(checkpoint.position, 2);
    assert_eq!(checkpoint.last_processed_timestamp, Some(last[0].timestamp));
}
