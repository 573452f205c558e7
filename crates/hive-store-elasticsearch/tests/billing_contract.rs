//! Contract tests of the payment search index (feature `billing`): the exact requests,
//! real-shaped Elasticsearch 8 answers.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{TimeZone, Utc};
use common::{body, fixture, mount, ndjson, requests, store};
use hive_billing::{
    BillingStoreError, Currency, PaymentKey, PaymentSearchCriteria, PaymentSearchDocument, PaymentSearchIndex,
    PaymentStatus, Suggestion,
};
use hive_domain::TimeRange;
use hive_store_elasticsearch::EsPaymentDocument;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use wiremock::MockServer;

/// The documents of the `payments.search.hits` fixture.
fn documents() -> Vec<PaymentSearchDocument> {
    fixture("payments.search.hits")["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| serde_json::from_value(hit["_source"].clone()).unwrap())
        .collect()
}

#[tokio::test]
async fn ensure_index_puts_the_template_with_analyzers_then_creates_the_index() {
    let server = MockServer::start().await;
    mount(
        &server,
        "PUT",
        "/_index_template/t-payments",
        200,
        fixture("index_template.acknowledged"),
    )
    .await;
    mount(&server, "PUT", "/t-payments", 200, fixture("create_index.acknowledged")).await;
    mount(
        &server,
        "PUT",
        "/t-payments/_mapping",
        200,
        fixture("indices.acknowledged"),
    )
    .await;
    store(&server).payment_search_index().ensure_index().await.unwrap();
    let received = server.received_requests().await.unwrap();
    let template = body(&received[0]);
    assert_eq!(template["index_patterns"], json!(["t-payments*"]));
    assert_eq!(
        template["template"]["settings"]["analysis"],
        hive_store_elasticsearch::mapping::payments_analysis()
    );
    let properties = &template["template"]["mappings"]["properties"];
    assert_eq!(
        properties["amount"],
        json!({"type": "scaled_float", "scaling_factor": 1000})
    );
    assert_eq!(properties["description"]["fields"]["suggest"]["type"], "completion");
    assert_eq!(properties["suggest"]["contexts"][0]["path"], "organizationId");
    assert_eq!(properties["tags"]["type"], "keyword");
    assert_eq!(
        properties["paymentKey"],
        json!({"type": "keyword"}),
        "what list_keys sorts on"
    );
    assert_eq!(
        properties["metadata"],
        json!({"type": "object", "enabled": false}),
        "arbitrary metadata keys add no field"
    );
    assert_eq!(properties["searchTags"]["type"], "keyword");
    assert_eq!(properties["searchTags"]["fields"], properties["tags"]["fields"]);
    assert_eq!(properties["statisticsAt"]["type"], "date");
    assert_eq!(properties["amountMinorUnits"]["type"], "long");
    assert_eq!(
        properties["subMillisecondNanos"]["properties"]["processedAt"]["type"],
        "integer"
    );
    assert_eq!(
        requests(&server).await,
        vec![
            "PUT /_index_template/t-payments",
            "PUT /t-payments",
            "PUT /t-payments/_mapping"
        ]
    );
    // An index created before the read model's fields gains them.
    assert_eq!(body(&received[2]), hive_store_elasticsearch::mapping::payments());
}

#[tokio::test]
async fn ensure_index_on_an_existing_index_puts_its_mapping() {
    let server = MockServer::start().await;
    mount(
        &server,
        "PUT",
        "/_index_template/t-payments",
        200,
        fixture("index_template.acknowledged"),
    )
    .await;
    mount(&server, "PUT", "/t-payments", 400, fixture("create_index.exists")).await;
    mount(
        &server,
        "PUT",
        "/t-payments/_mapping",
        200,
        fixture("indices.acknowledged"),
    )
    .await;
    store(&server).payment_read_model().ensure_index().await.unwrap();
    assert_eq!(
        requests(&server).await,
        vec![
            "PUT /_index_template/t-payments",
            "PUT /t-payments",
            "PUT /t-payments/_mapping"
        ]
    );
}

#[tokio::test]
async fn index_sends_external_gte_versions_and_reports_every_item() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        "/_bulk",
        200,
        fixture("payments.bulk.version_conflict"),
    )
    .await;
    let mut docs = documents();
    let mut third = docs[0].clone();
    third.payment.payment_id = "pay-3".into();
    third.payment.organization_id = "org-2".into();
    docs[0].payment.payment_id = "pay-1".into();
    docs.push(third);
    let report = store(&server).payment_search_index().index(docs.clone()).await.unwrap();
    assert_eq!(report.indexed, vec![PaymentKey::new("org-1", "pay-1")]);
    assert_eq!(report.stale, vec![PaymentKey::new("org-1", "pay-5")]);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].key, PaymentKey::new("org-2", "pay-3"));
    assert!(
        report.failed[0].reason.contains("mapping conflict"),
        "{}",
        report.failed[0].reason
    );

    assert_eq!(requests(&server).await, vec!["POST /_bulk?refresh=wait_for"]);
    let received = server.received_requests().await.unwrap();
    let lines = ndjson(&received[0]);
    assert_eq!(lines.len(), 6);
    assert_eq!(
        lines[0],
        json!({"index": {"_index": "t-payments", "_id": "org-1/pay-1", "version": 2, "version_type": "external_gte"}}),
        "the document id is the payment key"
    );
    assert_eq!(lines[4]["index"]["_id"], "org-2/pay-3");
    assert_eq!(
        lines[1],
        serde_json::to_value(EsPaymentDocument::new(docs[0].clone())).unwrap()
    );
    assert_eq!(
        lines[1]["amount"], "250.00",
        "the exact amount string is kept in _source"
    );
    assert_eq!(
        lines[1]["amountMinorUnits"], 25_000,
        "the amount in cents, for exact sums"
    );
    assert_eq!(
        lines[1]["statisticsAt"], lines[1]["processedAt"],
        "statistics count a processed payment at its processing"
    );
    assert_eq!(lines[1]["paymentKey"], "org-1/pay-1");
    assert_eq!(lines[1]["metadata"], json!({"costCenter": "cc-42"}));
    assert_eq!(
        lines[1]["searchTags"],
        json!(["cloud", "cc-42"]),
        "the tags, then the metadata values"
    );
    let back: PaymentSearchDocument = serde_json::from_value(lines[1].clone()).unwrap();
    assert_eq!(back, docs[0], "the derived fields are ignored when read");
    assert_eq!(lines[2]["index"]["version"], 5);
}

#[tokio::test]
async fn index_of_nothing_sends_nothing() {
    let server = MockServer::start().await;
    let report = store(&server).payment_search_index().index(Vec::new()).await.unwrap();
    assert!(report.is_success() && report.indexed.is_empty());
    assert!(requests(&server).await.is_empty());
}

/// Not a `_delete_by_query`: its version tombstones would refuse the rebuild's writes.
#[tokio::test]
async fn reset_deletes_the_index_and_creates_it_again() {
    let server = MockServer::start().await;
    mount(&server, "DELETE", "/t-payments", 200, fixture("indices.acknowledged")).await;
    mount(
        &server,
        "PUT",
        "/_index_template/t-payments",
        200,
        fixture("index_template.acknowledged"),
    )
    .await;
    mount(&server, "PUT", "/t-payments", 200, fixture("create_index.acknowledged")).await;
    mount(
        &server,
        "PUT",
        "/t-payments/_mapping",
        200,
        fixture("indices.acknowledged"),
    )
    .await;
    store(&server).payment_search_index().reset().await.unwrap();
    assert_eq!(
        requests(&server).await,
        vec![
            "DELETE /t-payments",
            "PUT /_index_template/t-payments",
            "PUT /t-payments",
            "PUT /t-payments/_mapping"
        ]
    );
}

#[tokio::test]
async fn search_sends_filters_fuzzy_text_sort_and_paging() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        "/t-payments/_search",
        200,
        fixture("payments.search.hits"),
    )
    .await;
    let at = |h| Utc.with_ymd_and_hms(2026, 3, 1, h, 0, 0).unwrap();
    let criteria = PaymentSearchCriteria {
        organization_id: "org-1".into(),
        text: Some("  clod hosting ".into()),
        statuses: vec![PaymentStatus::Completed, PaymentStatus::PartiallyRefunded],
        currencies: vec!["EUR".parse::<Currency>().unwrap(), "JPY".parse().unwrap()],
        min_amount: Some(Decimal::new(1550, 2)),
        max_amount: Some(Decimal::new(1000, 0)),
        processed: TimeRange::between(at(0), at(12)),
        offset: 20,
        limit: 10,
    };
    let results = store(&server).payment_search_index().search(&criteria).await.unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        body(&received[0]),
        json!({
            "query": {"bool": {
                "filter": [
                    {"term": {"organizationId": "org-1"}},
                    {"terms": {"status": ["completed", "partially_refunded"]}},
                    {"terms": {"currency": ["EUR", "JPY"]}},
                    {"range": {"amount": {"gte": "15.50", "lte": "1000"}}},
                    {"range": {"processedAt": {"gte": "2026-03-01T00:00:00Z", "lt": "2026-03-01T12:00:00Z"}}}
                ],
                "must": [{"multi_match": {
                    "query": "clod hosting",
                    "type": "best_fields",
                    "fields": ["description^2", "paymentId.text", "searchTags.text"],
                    "fuzziness": "AUTO",
                    "operator": "or"
                }}]
            }},
            "sort": [
                {"_score": {"order": "desc"}},
                {"processedAt": {"order": "desc", "missing": "_last"}},
                {"paymentId": {"order": "asc"}}
            ],
            "track_scores": true,
            "track_total_hits": true,
            "from": 20,
            "size": 10
        })
    );
    assert_eq!(results.total, 12);
    let ids: Vec<_> = results.items.iter().map(|i| i.payment.payment_id.as_str()).collect();
    assert_eq!(ids, vec!["pay-2", "pay-5"]);
    assert_eq!(results.items[0].score, 2.4079456);
    assert_eq!(results.items[1].payment.amount.to_string(), "1000");
    assert_eq!(results.items[1].payment.processed_at, None);
}

#[tokio::test]
async fn search_without_text_only_filters_and_scores_zero() {
    let server = MockServer::start().await;
    let mut answer = fixture("payments.search.hits");
    for hit in answer["hits"]["hits"].as_array_mut().unwrap() {
        hit["_score"] = Value::Null;
    }
    mount(&server, "POST", "/t-payments/_search", 200, answer).await;
    let criteria = PaymentSearchCriteria {
        organization_id: "org-1".into(),
        text: Some("   ".into()),
        offset: 9_995,
        limit: 100,
        ..PaymentSearchCriteria::default()
    };
    let results = store(&server).payment_search_index().search(&criteria).await.unwrap();
    let received = server.received_requests().await.unwrap();
    let sent = body(&received[0]);
    assert_eq!(
        sent["query"],
        json!({"bool": {"filter": [{"term": {"organizationId": "org-1"}}]}})
    );
    assert_eq!(sent["track_scores"], false);
    assert_eq!((sent["from"].clone(), sent["size"].clone()), (json!(9_995), json!(5)));
    assert!(results.items.iter().all(|i| i.score == 0.0));
}

#[tokio::test]
async fn suggest_uses_the_completion_suggester_in_the_organization_context() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        "/t-payments/_search",
        200,
        fixture("payments.suggest.completion"),
    )
    .await;
    let index = store(&server).payment_search_index();
    let got = index.suggest("org-1", " Clo", 5).await.unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        body(&received[0]),
        json!({
            "_source": ["paymentId", "description", "suggest"],
            "suggest": {"description": {
                "prefix": "clo",
                "completion": {
                    "field": "suggest",
                    "size": 1000,
                    "skip_duplicates": false,
                    "contexts": {"organizationId": ["org-1"]}
                }
            }}
        })
    );
    let s = |text: &str, score: f64| Suggestion {
        text: text.into(),
        score,
    };
    assert_eq!(
        got,
        vec![
            s("Cloud hosting March", 2.0),
            s("Cloud hosting April", 1.0),
            s("Cloudy sky", 1.0)
        ]
    );
}

#[tokio::test]
async fn a_trailing_space_only_completes_whole_words() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        "/t-payments/_search",
        200,
        fixture("payments.suggest.completion"),
    )
    .await;
    let index = store(&server).payment_search_index();
    let got = index.suggest("org-1", "cloud ", 5).await.unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(body(&received[0])["suggest"]["description"]["prefix"], "cloud");
    let texts: Vec<_> = got.iter().map(|s| (s.text.as_str(), s.score)).collect();
    assert_eq!(texts, vec![("Cloud hosting March", 2.0), ("Cloud hosting April", 1.0)]);
    assert!(index.suggest("org-1", "  ", 5).await.unwrap().is_empty());
    assert_eq!(requests(&server).await.len(), 1, "an empty prefix sends nothing");
}

#[tokio::test]
async fn overload_is_unavailable() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        "/t-payments/_search",
        503,
        fixture("error.unavailable"),
    )
    .await;
    let criteria = PaymentSearchCriteria {
        organization_id: "org-1".into(),
        limit: 10,
        ..PaymentSearchCriteria::default()
    };
    let error = store(&server)
        .payment_search_index()
        .search(&criteria)
        .await
        .unwrap_err();
    assert!(matches!(error, BillingStoreError::Unavailable(_)), "{error:?}");
}
