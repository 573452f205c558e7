//! Contract tests of the payment read model (feature `billing`): the exact requests,
//! real-shaped Elasticsearch 8 answers.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{TimeZone, Utc};
use common::{body, fixture, found, mount, ndjson, requests, search_hits, store};
use hive_billing::{
    Amount, PaymentKey, PaymentReadModel, PaymentRecord, PaymentSearchDocument, PaymentSearchIndex, PaymentStatistics,
    PaymentStatus, PaymentView,
};
use hive_domain::{Page, TimeRange};
use hive_store_elasticsearch::EsPaymentDocument;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn view(id: &str, amount: &str, currency: &str, status: PaymentStatus, day: u32) -> PaymentView {
    let at = Utc.with_ymd_and_hms(2024, 3, day, 9, 30, 0).unwrap();
    let processed = status != PaymentStatus::Pending;
    PaymentView {
        payment_id: id.into(),
        organization_id: "org-1".into(),
        user_id: "user-1".into(),
        amount: amount.parse::<Amount>().unwrap(),
        currency: currency.parse().unwrap(),
        status,
        description: "Cloud hosting".into(),
        tags: Vec::new(),
        metadata: Default::default(),
        created_at: at,
        processed_at: processed.then_some(at),
        failed_at: None,
        error: None,
        refunded_at: None,
        refund_amount: None,
        updated_at: at,
        version: 1 + u64::from(processed),
    }
}

/// The payments the `payments.statistics.aggs` fixture aggregates.
fn fixture_payments() -> Vec<PaymentView> {
    use PaymentStatus::*;
    vec![
        view("p-1", "100.00", "EUR", Completed, 4),
        view("p-2", "0.01", "EUR", Completed, 4),
        view("p-3", "0.02", "EUR", Completed, 5),
        view("p-4", "1500", "JPY", Completed, 5),
        view("p-5", "10.00", "EUR", Pending, 4),
    ]
}

#[tokio::test]
async fn upsert_puts_the_document_with_its_position_as_external_gte_version() {
    let server = MockServer::start().await;
    mount(
        &server,
        "PUT",
        "/t-payments/_doc/org-1%2Fp-1",
        201,
        fixture("_global.index.IndexResponseExample1"),
    )
    .await;
    mount(
        &server,
        "PUT",
        "/t-payments/_doc/org-1%2Fp-old",
        409,
        fixture("index.external_version_conflict"),
    )
    .await;
    let read_model = store(&server).payment_read_model();
    let record = PaymentRecord {
        payment: view("p-1", "12.50", "EUR", PaymentStatus::Completed, 4),
        position: 7,
    };
    assert!(read_model.upsert(record.clone()).await.unwrap());
    let stale = PaymentRecord {
        payment: view("p-old", "12.50", "EUR", PaymentStatus::Completed, 4),
        position: 3,
    };
    assert!(
        !read_model.upsert(stale).await.unwrap(),
        "409: the stored position is greater"
    );
    assert_eq!(
        requests(&server).await,
        vec![
            "PUT /t-payments/_doc/org-1%2Fp-1?refresh=wait_for&version=7&version_type=external_gte",
            "PUT /t-payments/_doc/org-1%2Fp-old?refresh=wait_for&version=3&version_type=external_gte"
        ]
    );
    let received = server.received_requests().await.unwrap();
    let source = body(&received[0]);
    assert_eq!(source["amount"], "12.50");
    assert_eq!(source["amountMinorUnits"], 1_250);
    assert_eq!(source["statisticsAt"], "2024-03-04T09:30:00Z");
    assert_eq!(
        source["subMillisecondNanos"],
        json!({"processedAt": 0, "statisticsAt": 0})
    );
    assert_eq!(source["position"], 7);
    assert_eq!(source["paymentKey"], "org-1/p-1");
    assert_eq!(source["metadata"], json!({}));
}

/// The read-model projection and the search projection applying the same event send the
/// same document (the same `_source`, `_id` and version): one index holds both.
#[tokio::test]
async fn both_ports_write_the_same_document_for_the_same_payment_and_position() {
    let server = MockServer::start().await;
    mount(
        &server,
        "PUT",
        "/t-payments/_doc/org-1%2Fp-1",
        201,
        fixture("_global.index.IndexResponseExample1"),
    )
    .await;
    mount(
        &server,
        "POST",
        "/_bulk",
        200,
        fixture("_global.bulk.BulkResponseExample1"),
    )
    .await;
    let es = store(&server);
    let payment = view("p-1", "12.50", "EUR", PaymentStatus::Completed, 4);
    es.payment_read_model()
        .upsert(PaymentRecord {
            payment: payment.clone(),
            position: 7,
        })
        .await
        .unwrap();
    es.payment_search_index()
        .index(vec![PaymentSearchDocument::new(payment.clone(), 7)])
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    let lines = ndjson(&received[1]);
    assert_eq!(
        lines[0],
        json!({"index": {"_index": "t-payments", "_id": "org-1/p-1", "version": 7, "version_type": "external_gte"}})
    );
    assert_eq!(body(&received[0]), lines[1]);
    assert_eq!(
        lines[1],
        serde_json::to_value(EsPaymentDocument::new(PaymentSearchDocument::new(payment, 7))).unwrap()
    );
}

#[tokio::test]
async fn get_many_reads_each_id_once_and_answers_in_the_order_asked() {
    let server = MockServer::start().await;
    let record = PaymentRecord {
        payment: view("pay-1", "12.50", "EUR", PaymentStatus::Completed, 4),
        position: 7,
    };
    let mut answer = fixture("payments.mget");
    answer["docs"][0]["_source"] = serde_json::to_value(EsPaymentDocument::of_record(record.clone())).unwrap();
    mount(&server, "POST", "/t-payments/_mget", 200, answer).await;
    let read_model = store(&server).payment_read_model();
    let (missing, found) = (PaymentKey::new("org-1", "pay-404"), PaymentKey::new("org-1", "pay-1"));
    let got = read_model.get_many(&[&missing, &found, &found]).await.unwrap();
    assert_eq!(got, vec![None, Some(record.clone()), Some(record)]);
    assert_eq!(read_model.get_many(&[]).await.unwrap(), Vec::new());
    assert_eq!(
        requests(&server).await,
        vec!["POST /t-payments/_mget"],
        "realtime: no refresh"
    );
    let received = server.received_requests().await.unwrap();
    assert_eq!(body(&received[0]), json!({"ids": ["org-1/pay-1", "org-1/pay-404"]}));
}

#[tokio::test]
async fn get_is_a_realtime_get() {
    let server = MockServer::start().await;
    let record = PaymentRecord {
        payment: view("pay-1", "12.50", "EUR", PaymentStatus::Completed, 4),
        position: 7,
    };
    let source = serde_json::to_value(EsPaymentDocument::of_record(record.clone())).unwrap();
    mount(
        &server,
        "GET",
        "/t-payments/_doc/org-1%2Fpay-1",
        200,
        found("t-payments", "org-1/pay-1", source, 4),
    )
    .await;
    mount(
        &server,
        "GET",
        "/t-payments/_doc/org-2%2Fpay-1",
        404,
        fixture("get.not_found"),
    )
    .await;
    let read_model = store(&server).payment_read_model();
    assert_eq!(
        read_model.get(&PaymentKey::new("org-1", "pay-1")).await.unwrap(),
        Some(record)
    );
    assert_eq!(
        read_model.get(&PaymentKey::new("org-2", "pay-1")).await.unwrap(),
        None,
        "another organization's pay-1 is another document"
    );
}

#[tokio::test]
async fn statistics_are_one_aggregation_with_exact_totals_and_averages() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        "/t-payments/_search",
        200,
        fixture("payments.statistics.aggs"),
    )
    .await;
    let read_model = store(&server).payment_read_model();
    let range = TimeRange::between(
        Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2024, 4, 1, 0, 0, 0).unwrap(),
    );
    let got = read_model.statistics("org-1", range).await.unwrap();
    assert_eq!(got, PaymentStatistics::compute(&fixture_payments(), "org-1", &range));
    let completed = &got.by_status[&PaymentStatus::Completed][&"EUR".parse().unwrap()];
    assert_eq!(completed.total_amount.to_string(), "100.03");
    assert_eq!(
        completed.average_amount.to_string(),
        "33.34",
        "100.03 / 3, half-to-even"
    );
    assert_eq!(requests(&server).await.len(), 1, "no fallback: every sum is exact");
    let received = server.received_requests().await.unwrap();
    let sent = body(&received[0]);
    assert_eq!(sent["size"], 0);
    assert_eq!(
        sent["query"]["bool"]["filter"],
        json!([
            {"term": {"organizationId": "org-1"}},
            {"range": {"statisticsAt": {"gte": "2024-03-01T00:00:00.000Z"}}},
            {"range": {"statisticsAt": {"lt": "2024-04-01T00:00:00.000Z"}}}
        ])
    );
    let by_currency = json!({
        "terms": {"field": "currency", "size": 1000},
        "aggs": {"amount": {"stats": {"field": "amountMinorUnits"}}}
    });
    assert_eq!(
        sent["aggs"]["byStatus"],
        json!({"terms": {"field": "status", "size": 100}, "aggs": {"byCurrency": by_currency}})
    );
    assert_eq!(
        sent["aggs"]["daily"]["date_histogram"],
        json!({"field": "statisticsAt", "calendar_interval": "day", "time_zone": "UTC", "min_doc_count": 1})
    );
    assert_eq!(sent["aggs"]["daily"]["aggs"]["byCurrency"], by_currency);
}

/// A sum Elasticsearch may not have added exactly (here: a document without
/// `amountMinorUnits`, its `stats.count` below the bucket's `doc_count`) makes the read model
/// read the matching documents and compute the reference figures.
#[tokio::test]
async fn an_inexact_sum_falls_back_to_the_reference_over_the_matching_documents() {
    let server = MockServer::start().await;
    let mut answer = fixture("payments.statistics.aggs");
    answer["aggregations"]["daily"]["buckets"][1]["byCurrency"]["buckets"][0]["amount"]["count"] = json!(0);
    let payments = fixture_payments();
    let hits = payments
        .iter()
        .enumerate()
        .map(|(n, p)| {
            let source = EsPaymentDocument::new(PaymentSearchDocument::new(p.clone(), n as u64 + 1));
            (
                p.payment_id.clone(),
                serde_json::to_value(source).unwrap(),
                json!([p.payment_id]),
            )
        })
        .collect();
    Mock::given(method("POST"))
        .and(path("/t-payments/_search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount(
        &server,
        "POST",
        "/t-payments/_search",
        200,
        search_hits("t-payments", hits),
    )
    .await;
    let read_model = store(&server).payment_read_model();
    let trends = read_model.trends("org-1", TimeRange::all()).await.unwrap();
    assert_eq!(
        trends,
        PaymentStatistics::daily_buckets(&payments, "org-1", &TimeRange::all())
    );
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    let fallback = body(&received[1]);
    assert_eq!(
        fallback["query"],
        json!({"bool": {"filter": [{"term": {"organizationId": "org-1"}}]}})
    );
    assert_eq!(fallback["sort"], json!([{"paymentId": "asc"}]));
}

#[tokio::test]
async fn listings_sort_like_organization_order_and_keys_page_by_search_after() {
    let server = MockServer::start().await;
    mount(&server, "POST", "/t-payments/_search", 200, fixture("search.empty")).await;
    let read_model = store(&server).payment_read_model();
    let list = read_model
        .list_by_organization("org-1", Page::new(20, 10))
        .await
        .unwrap();
    assert_eq!((list.total, list.items.len()), (0, 0));
    let keys = read_model
        .list_keys(Some("org-1"), Some(&PaymentKey::new("org-1", "p-9")), 50)
        .await
        .unwrap();
    assert!(keys.is_empty());
    assert!(
        read_model.list_keys(None, None, 0).await.unwrap().is_empty(),
        "nothing asked"
    );
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    let listing = body(&received[0]);
    assert_eq!(
        listing["sort"],
        json!([
            {"processedAt": {"order": "desc", "missing": "_last"}},
            {"subMillisecondNanos.processedAt": {"order": "desc", "missing": "_last"}},
            {"paymentId": {"order": "asc"}}
        ])
    );
    assert_eq!(
        (listing["from"].clone(), listing["size"].clone()),
        (json!(20), json!(10))
    );
    assert_eq!(listing["track_total_hits"], true);
    let keyset = body(&received[1]);
    assert_eq!(keyset["search_after"], json!(["org-1/p-9"]));
    assert_eq!(keyset["sort"], json!([{"paymentKey": "asc"}]));
    assert_eq!(keyset["_source"], false);
    assert_eq!(keyset["size"], 50);
    assert_eq!(
        keyset["query"],
        json!({"bool": {"filter": [{"term": {"organizationId": "org-1"}}]}})
    );
}
