//! The payment read model on MongoDB: the hive-testkit billing suite, reset, exact instants.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::{drop_database, fresh_default, server};
use hive_billing::{Amount, PaymentReadModel, PaymentRecord, PaymentStatus, PaymentView};
use hive_testkit::Held;

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
        payment_id: id.into(),
        organization_id: org.into(),
        user_id: "user-1".into(),
        amount: "10.00".parse::<Amount>().unwrap(),
        currency: "EUR".parse().unwrap(),
        status: PaymentStatus::Completed,
        description: "Cloud hosting".into(),
        tags: vec!["a".into()],
        created_at: at,
        processed_at: Some(at),
        failed_at: None,
        error: None,
        refunded_at: None,
        refund_amount: None,
        updated_at: at,
        version: 2,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_empties_the_read_model() {
    if !server() {
        return;
    }
    let store = fresh_default().await;
    let _drop = drop_database(store.clone());
    let read_model = store.payment_read_model().await.unwrap();
    let record = PaymentRecord {
        payment: view("p-1", "org-1", 0),
        position: 1,
    };
    assert!(read_model.upsert(record).await.unwrap());
    read_model.reset().await.unwrap();
    assert!(read_model.get("p-1").await.unwrap().is_none());
    assert!(read_model.list_ids(None, None, 10).await.unwrap().is_empty());
}
