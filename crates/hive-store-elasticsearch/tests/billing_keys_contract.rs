//! Contract tests of the payments index's keys (feature `billing`): documents are read,
//! deleted and listed under their `PaymentKey` (`{organizationId}/{paymentId}`, one
//! percent-encoded path segment), with real-shaped Elasticsearch 8 answers.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{body, fixture, found, mount, requests, search_hits, store};
use hive_billing::{BillingStoreError, PaymentKey, PaymentSearchDocument, PaymentSearchIndex};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

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
async fn get_reads_the_source_and_a_missing_document_is_none() {
    let server = MockServer::start().await;
    let doc = documents().remove(0);
    let source = serde_json::to_value(&doc).unwrap();
    mount(
        &server,
        "GET",
        "/t-payments/_doc/org-1%2Fpay-2",
        200,
        found("t-payments", "org-1/pay-2", source, 3),
    )
    .await;
    mount(
        &server,
        "GET",
        "/t-payments/_doc/org%201%2Fpay-9",
        404,
        fixture("get.not_found"),
    )
    .await;
    let index = store(&server).payment_search_index();
    assert_eq!(index.get(&PaymentKey::new("org-1", "pay-2")).await.unwrap(), Some(doc));
    assert_eq!(index.get(&PaymentKey::new("org 1", "pay-9")).await.unwrap(), None);
    assert_eq!(
        requests(&server).await,
        vec![
            "GET /t-payments/_doc/org-1%2Fpay-2",
            "GET /t-payments/_doc/org%201%2Fpay-9"
        ],
        "the key is one percent-encoded path segment"
    );
}

#[tokio::test]
async fn a_corrupt_source_is_a_typed_error() {
    let server = MockServer::start().await;
    let source = json!({"paymentId": "pay-2", "amount": "12,50"});
    mount(
        &server,
        "GET",
        "/t-payments/_doc/org-1%2Fpay-2",
        200,
        found("t-payments", "org-1/pay-2", source, 3),
    )
    .await;
    let error = store(&server)
        .payment_search_index()
        .get(&PaymentKey::new("org-1", "pay-2"))
        .await
        .unwrap_err();
    assert!(matches!(error, BillingStoreError::Corrupt { .. }), "{error:?}");
}

#[tokio::test]
async fn delete_reports_whether_a_document_was_there() {
    let server = MockServer::start().await;
    let mut deleted = fixture("_global.delete.DeleteResponseExample1");
    deleted["_index"] = json!("t-payments");
    let mut found = fixture("_global.get.GetResponseExample1");
    found["_version"] = json!(7);
    mount(&server, "GET", "/t-payments/_doc/org-1%2Fpay-1", 200, found).await;
    mount(&server, "DELETE", "/t-payments/_doc/org-1%2Fpay-1", 200, deleted).await;
    mount(
        &server,
        "GET",
        "/t-payments/_doc/org-1%2Fpay-404",
        404,
        fixture("get.not_found"),
    )
    .await;
    let index = store(&server).payment_search_index();
    assert!(index.delete(&PaymentKey::new("org-1", "pay-1")).await.unwrap());
    assert!(!index.delete(&PaymentKey::new("org-1", "pay-404")).await.unwrap());
    assert_eq!(
        requests(&server).await,
        vec![
            "GET /t-payments/_doc/org-1%2Fpay-1",
            "DELETE /t-payments/_doc/org-1%2Fpay-1?refresh=wait_for&version=7&version_type=external_gte",
            "GET /t-payments/_doc/org-1%2Fpay-404"
        ]
    );
}

/// The search index lists the keys of the documents it holds, like the read model (the same
/// documents): a keyset walk on the `paymentKey` keyword, each `_id` parsed back.
#[tokio::test]
async fn list_keys_walks_the_payment_key_with_search_after() {
    let server = MockServer::start().await;
    let hit = |key: String| (key.clone(), json!({}), json!([key]));
    let first: Vec<_> = (0..10_000).map(|n| hit(format!("org-1/pay-{n:05}"))).collect();
    Mock::given(method("POST"))
        .and(path("/t-payments/_search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(search_hits("t-payments", first)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let last = search_hits("t-payments", vec![hit("org-1/pay-x".into())]);
    mount(&server, "POST", "/t-payments/_search", 200, last).await;
    let index = store(&server).payment_search_index();
    let keys = index
        .list_keys(Some("org-1"), Some(&PaymentKey::new("org-1", "pay-")), 10_005)
        .await
        .unwrap();
    assert_eq!(keys.len(), 10_001);
    assert_eq!(keys[0], PaymentKey::new("org-1", "pay-00000"));
    assert_eq!(keys[10_000], PaymentKey::new("org-1", "pay-x"));
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        received.len(),
        2,
        "a full page of 10 000, then the rest after its last key"
    );
    assert_eq!(
        body(&received[0]),
        json!({
            "_source": false,
            "query": {"bool": {"filter": [{"term": {"organizationId": "org-1"}}]}},
            "sort": [{"paymentKey": "asc"}],
            "size": 10_000,
            "track_total_hits": false,
            "search_after": ["org-1/pay-"]
        })
    );
    let second = body(&received[1]);
    assert_eq!(
        (second["size"].clone(), second["search_after"].clone()),
        (json!(5), json!(["org-1/pay-09999"]))
    );
}

/// A document whose `_id` is not a key (written before keys, under the payment id alone) is a
/// typed error naming it, never a key made up.
#[tokio::test]
async fn list_keys_of_a_document_without_a_key_is_corrupt() {
    let server = MockServer::start().await;
    let answer = search_hits("t-payments", vec![("pay-1".into(), json!({}), json!([null]))]);
    mount(&server, "POST", "/t-payments/_search", 200, answer).await;
    let error = store(&server)
        .payment_search_index()
        .list_keys(None, None, 10)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, BillingStoreError::Corrupt { reason, .. } if reason.contains("pay-1")),
        "{error:?}"
    );
    let received = server.received_requests().await.unwrap();
    assert_eq!(body(&received[0])["query"], json!({"match_all": {}}));
}
