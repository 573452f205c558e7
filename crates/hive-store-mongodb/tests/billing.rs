//! The payment read model on MongoDB: the hive-testkit billing suite, reset, exact instants.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::{fresh_default, server, DropDatabase};
use hive_billing::{Amount, PaymentReadModel, PaymentRecord, PaymentStatistics, PaymentStatus, PaymentView};
use hive_domain::{Page, TimeRange};
use hive_testkit::Held;

mod read_model {
    use super::*;
    hive_testkit::payment_read_model_conformance!(skip_unless = server(), async {
        let store = fresh_default().await;
        Held::with_guard(store.payment_read_model().await.unwrap(), DropDatabase(store))
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
    let _drop = DropDatabase(store.clone());
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

/// Instants with sub-millisecond digits read back, sort and filter exactly (BSON dates alone
/// have milliseconds).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_millisecond_instants_are_exact() {
    if !server() {
        return;
    }
    let store = fresh_default().await;
    let _drop = DropDatabase(store.clone());
    let read_model = store.payment_read_model().await.unwrap();
    let payments = [
        view("p-a", "org", 100),
        view("p-b", "org", 900_000),
        view("p-c", "org", 400),
    ];
    for (position, p) in (1..).zip(&payments) {
        let record = PaymentRecord {
            payment: p.clone(),
            position,
        };
        read_model.upsert(record.clone()).await.unwrap();
        assert_eq!(read_model.get(&p.payment_id).await.unwrap(), Some(record));
    }
    let listed = read_model.list_by_organization("org", Page::first(10)).await.unwrap();
    let ids: Vec<&str> = listed.items.iter().map(|p| p.payment_id.as_str()).collect();
    assert_eq!(ids, ["p-b", "p-c", "p-a"], "processedAt descending to the nanosecond");
    let range = TimeRange::between(payments[2].created_at, payments[1].created_at);
    assert_eq!(
        read_model.statistics("org", range).await.unwrap(),
        PaymentStatistics::compute(&payments, "org", &range)
    );
}

/// `upsert_many` sends more records than one `update` command holds in several commands, and
/// a stale record in any of them (its stored position is greater) is skipped without losing
/// the records after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_many_spans_several_commands_and_skips_stale_records() {
    if !server() {
        return;
    }
    let store = fresh_default().await;
    let _drop = DropDatabase(store.clone());
    let read_model = store.payment_read_model().await.unwrap();
    let record = |n: u64, position: u64| PaymentRecord {
        payment: view(&format!("p-{n:04}"), "org-1", i64::try_from(n).unwrap()),
        position,
    };
    // Stale ones: at the start, at the end and across the commands' boundaries.
    let stale = [0, 999, 1000, 1001, 1199];
    for n in stale {
        assert!(read_model.upsert(record(n, 10_000)).await.unwrap());
    }
    let records: Vec<_> = (0..1200).map(|n| record(n, n + 1)).collect();
    let written = read_model.upsert_many(records).await.unwrap();
    assert_eq!(written, 1200 - stale.len());
    let ids: Vec<String> = (0..1200).map(|n| format!("p-{n:04}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let got = read_model.get_many(&ids).await.unwrap();
    let positions: Vec<u64> = got.iter().map(|r| r.as_ref().unwrap().position).collect();
    let expected: Vec<u64> = (0..1200)
        .map(|n| if stale.contains(&n) { 10_000 } else { n + 1 })
        .collect();
    assert_eq!(positions, expected);
}
