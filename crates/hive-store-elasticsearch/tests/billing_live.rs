//! The payment read model and search index on one live `payments` index
//! (`HIVE_ELASTICSEARCH_URL`; skipped without it): both ports write and read the same
//! documents, a reset is followed by a working rebuild, instants are exact to the nanosecond,
//! statistics stay exact where aggregations cannot sum exactly, bulk writes span requests.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::live::{delete_indices, fresh, server};
use hive_billing::{
    Amount, PaymentKey, PaymentReadModel, PaymentRecord, PaymentSearchCriteria, PaymentSearchDocument,
    PaymentSearchIndex, PaymentStatistics, PaymentStatus, PaymentView,
};
use hive_domain::{Page, TimeRange};
use hive_store_elasticsearch::{EsPaymentReadModel, EsPaymentSearchIndex};

fn at(nanos: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 12, 19, 10, 0, 0).unwrap() + Duration::nanoseconds(nanos)
}

fn view(id: &str, org: &str, amount: &str, currency: &str, processed: Option<i64>) -> PaymentView {
    PaymentView {
        payment_id: id.into(),
        organization_id: org.into(),
        user_id: "user-1".into(),
        amount: amount.parse::<Amount>().unwrap(),
        currency: currency.parse().unwrap(),
        status: if processed.is_some() {
            PaymentStatus::Completed
        } else {
            PaymentStatus::Pending
        },
        description: "Cloud hosting invoice".into(),
        tags: vec!["cloud".into()],
        metadata: Default::default(),
        created_at: at(0),
        processed_at: processed.map(at),
        failed_at: None,
        error: None,
        refunded_at: None,
        refund_amount: None,
        updated_at: at(processed.unwrap_or(0)),
        version: 1 + u64::from(processed.is_some()),
    }
}

/// Both ports on the indices of a fresh store, the payments index created, and its guard.
async fn ports() -> (EsPaymentReadModel, EsPaymentSearchIndex, hive_testkit::CleanUp) {
    let store = fresh().await;
    let read_model = store.payment_read_model();
    read_model.ensure_index().await.unwrap();
    (read_model, store.payment_search_index(), delete_indices(store))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_model_and_the_search_index_share_one_document_per_payment() {
    if !server() {
        return;
    }
    let (read_model, index, _guard) = ports().await;
    let key = PaymentKey::new("org-1", "p-1");
    let created = view("p-1", "org-1", "42.50", "EUR", None);
    // The search projection writes the creation: the read model reads it, lists and counts it.
    let report = index
        .index(vec![PaymentSearchDocument::new(created.clone(), 3)])
        .await
        .unwrap();
    assert_eq!(report.indexed, vec![key.clone()]);
    let record = PaymentRecord {
        payment: created.clone(),
        position: 3,
    };
    assert_eq!(read_model.get(&key).await.unwrap(), Some(record.clone()));
    let listed = read_model.list_by_organization("org-1", Page::first(10)).await.unwrap();
    assert_eq!((listed.total, listed.items), (1, vec![created.clone()]));
    let all = TimeRange::all();
    assert_eq!(
        read_model.statistics("org-1", all).await.unwrap(),
        PaymentStatistics::compute([&created], "org-1", &all),
        "the search index's writes carry the read model's fields"
    );
    // The read-model projection applies the same event: the same document, still position 3.
    assert!(read_model.upsert(record).await.unwrap(), "an equal position overwrites");
    // It applies the processing: the search index reads, finds and completes it.
    let processed = view("p-1", "org-1", "42.50", "EUR", Some(5));
    assert!(read_model
        .upsert(PaymentRecord {
            payment: processed.clone(),
            position: 5
        })
        .await
        .unwrap());
    let document = index.get(&key).await.unwrap().unwrap();
    assert_eq!(document, PaymentSearchDocument::new(processed.clone(), 5));
    let criteria = PaymentSearchCriteria {
        organization_id: "org-1".into(),
        text: Some("hosting".into()),
        limit: 10,
        ..PaymentSearchCriteria::default()
    };
    let found = index.search(&criteria).await.unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.items[0].payment, processed);
    let suggestions = index.suggest("org-1", "clo", 5).await.unwrap();
    assert_eq!(suggestions.len(), 1);
    assert_eq!(suggestions[0].text, "Cloud hosting invoice");
    // The search projection applying the processing too is harmless; older writes of either
    // port are refused.
    let again = index
        .index(vec![PaymentSearchDocument::new(processed.clone(), 5)])
        .await
        .unwrap();
    assert_eq!(again.indexed, vec![key.clone()]);
    let stale = index
        .index(vec![PaymentSearchDocument::new(created.clone(), 4)])
        .await
        .unwrap();
    assert_eq!(stale.stale, vec![key.clone()]);
    let older = PaymentRecord {
        payment: created,
        position: 4,
    };
    assert!(!read_model.upsert(older).await.unwrap());
    assert_eq!(read_model.get(&key).await.unwrap().unwrap().payment, processed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_empties_both_ports_and_the_rebuild_writes_the_same_positions_again() {
    if !server() {
        return;
    }
    let (read_model, index, _guard) = ports().await;
    let key = PaymentKey::new("org-1", "p-1");
    let record = PaymentRecord {
        payment: view("p-1", "org-1", "10.00", "EUR", Some(1)),
        position: 10,
    };
    assert!(read_model.upsert(record.clone()).await.unwrap());
    read_model.reset().await.unwrap();
    assert_eq!(read_model.get(&key).await.unwrap(), None);
    assert_eq!(
        index.get(&key).await.unwrap(),
        None,
        "one index: the search documents go too"
    );
    assert!(read_model.list_keys(None, None, 10).await.unwrap().is_empty());
    // A `_delete_by_query` would leave a tombstone at version 11 for a minute, refusing this.
    assert!(
        read_model.upsert(record.clone()).await.unwrap(),
        "the rebuild rewrites position 10 at once"
    );
    assert_eq!(read_model.get(&key).await.unwrap(), Some(record.clone()));
    index.reset().await.unwrap();
    let report = index
        .index(vec![PaymentSearchDocument::new(
            record.payment.clone(),
            record.position,
        )])
        .await
        .unwrap();
    assert_eq!(report.indexed, vec![key.clone()], "after the search index's reset too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_stay_exact_where_aggregations_cannot_sum_exactly() {
    if !server() {
        return;
    }
    let (read_model, _index, _guard) = ports().await;
    let groups = [
        // 2⁵³ + 1 cents: the float of the long is 2⁵³.
        ("big", vec![("90071992547409.93", "EUR"), ("0.01", "EUR"), ("1", "JPY")]),
        // Below a minor unit: no `amountMinorUnits`.
        ("fine", vec![("0.001", "EUR"), ("0.002", "EUR"), ("2.50", "USD")]),
        // Plain amounts: answered by the aggregations.
        (
            "plain",
            vec![("33.33", "USD"), ("33.33", "USD"), ("33.34", "USD"), ("1.234", "BHD")],
        ),
    ];
    let mut position = 0;
    for (org, amounts) in groups {
        let mut payments = Vec::new();
        for (n, (amount, currency)) in amounts.into_iter().enumerate() {
            position += 1;
            let hours = i64::try_from(n).unwrap() * 20 * 3_600_000_000_000;
            let payment = view(&format!("{org}-{n}"), org, amount, currency, Some(hours));
            read_model
                .upsert(PaymentRecord {
                    payment: payment.clone(),
                    position,
                })
                .await
                .unwrap();
            payments.push(payment);
        }
        let all = TimeRange::all();
        assert_eq!(
            read_model.statistics(org, all).await.unwrap(),
            PaymentStatistics::compute(&payments, org, &all),
            "{org}"
        );
        assert_eq!(
            read_model.trends(org, all).await.unwrap(),
            PaymentStatistics::daily_buckets(&payments, org, &all),
            "{org}"
        );
    }
}
