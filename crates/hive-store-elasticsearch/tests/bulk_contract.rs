//! Contract tests of the bulk writer for the answers a live node does not give on demand: an
//! item rejected with 429 (`es_rejected_execution_exception`) is sent again, alone, and a whole
//! request answered 503 is retried; every item's outcome comes back in the order pushed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{fixture, ndjson};
use hive_store_elasticsearch::{BulkOp, BulkWriter, EsClient};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The item of `bulk.rejected_item` (429 on `payments`/`pay-1`).
fn rejected() -> Value {
    fixture("bulk.rejected_item")["items"][0].clone()
}

/// A successful `index` item of `id` (shape of `_global.bulk.BulkResponseExample1`).
fn created(id: &str) -> Value {
    let mut item = fixture("_global.bulk.BulkResponseExample1")["items"][0].clone();
    item["index"]["_index"] = json!("payments");
    item["index"]["_id"] = json!(id);
    item
}

fn bulk_answer(items: Vec<Value>) -> ResponseTemplate {
    let errors = items.iter().any(|i| i["index"]["error"].is_object());
    ResponseTemplate::new(200).set_body_json(json!({"took": 3, "errors": errors, "items": items}))
}

fn writer(server: &MockServer) -> BulkWriter {
    let client = EsClient::new(&server.uri(), Duration::from_secs(5)).unwrap();
    BulkWriter::new(client, 100).with_retries(3, Duration::from_millis(1))
}

fn index(id: &str) -> BulkOp {
    BulkOp::Index {
        index: "payments".into(),
        id: id.into(),
        doc: json!({"paymentId": id}),
    }
}

#[tokio::test]
async fn an_item_rejected_with_429_is_sent_again_alone() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/_bulk"))
        .respond_with(bulk_answer(vec![rejected(), created("pay-2")]))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/_bulk"))
        .respond_with(bulk_answer(vec![created("pay-1")]))
        .mount(&server)
        .await;

    let outcome = writer(&server)
        .send(vec![index("pay-1"), index("pay-2")], None)
        .await
        .unwrap();
    let ids: Vec<(&str, u16)> = outcome.items.iter().map(|i| (i.id.as_str(), i.status)).collect();
    assert_eq!(ids, [("pay-1", 201), ("pay-2", 201)], "both succeed, in the order sent");
    assert_eq!(outcome.failures().count(), 0);
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    let retried = ndjson(&received[1]);
    assert_eq!(
        retried.len(),
        2,
        "only the rejected item's action and document: {retried:?}"
    );
    assert_eq!(retried[0]["index"]["_id"], "pay-1");
}

#[tokio::test]
async fn an_item_still_rejected_after_the_retries_is_reported_typed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/_bulk"))
        .respond_with(bulk_answer(vec![rejected()]))
        .mount(&server)
        .await;
    let outcome = writer(&server).send(vec![index("pay-1")], None).await.unwrap();
    let failed: Vec<_> = outcome.failures().collect();
    assert_eq!(failed.len(), 1);
    assert!(
        matches!(
            failed[0].to_error(),
            Some(hive_store_elasticsearch::EsError::TooManyRequests { .. })
        ),
        "{:?}",
        failed[0]
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        4,
        "the first try and 3 retries"
    );
}

#[tokio::test]
async fn a_request_answered_503_is_retried_whole() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/_bulk"))
        .respond_with(ResponseTemplate::new(503).set_body_json(fixture("error.unavailable")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/_bulk"))
        .respond_with(bulk_answer(vec![created("pay-1"), created("pay-2")]))
        .mount(&server)
        .await;
    let outcome = writer(&server)
        .send(vec![index("pay-1"), index("pay-2")], None)
        .await
        .unwrap();
    assert_eq!(outcome.items.len(), 2);
    assert_eq!(outcome.failures().count(), 0);
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    assert_eq!(ndjson(&received[1]).len(), 4, "both items sent again");
}
