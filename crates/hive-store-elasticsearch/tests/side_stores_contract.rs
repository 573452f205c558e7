//! Contract tests of the snapshot and checkpoint stores: the exact requests, real-shaped
//! Elasticsearch 8 answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{TimeZone, Utc};
use common::{body, fixture, found, mount, requests, search_hits, store};
use hive_domain::{Checkpoint, CheckpointStore, DeadLetter, EventStoreError, Snapshot, SnapshotStore};
use serde_json::json;
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn snapshot(version: u64) -> Snapshot {
    Snapshot {
        aggregate_id: "pay-1".into(),
        aggregate_type: "Payment".into(),
        version,
        state: json!({"status": "completed", "amount": "12.50"}),
        timestamp: Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap(),
    }
}

fn checkpoint(projection: &str, position: u64) -> Checkpoint {
    Checkpoint {
        projection: projection.into(),
        position,
        last_event_id: Some(Uuid::from_u128(position.into())),
        last_processed_timestamp: Some(Utc.with_ymd_and_hms(2026, 3, 2, 9, 59, 58).unwrap()),
        version: 2,
        updated_at: Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap(),
    }
}

#[tokio::test]
async fn snapshots_are_saved_with_external_gte_versions() {
    let server = MockServer::start().await;
    mount(
        &server,
        "PUT",
        "/t-snapshots/_doc/pay-1",
        201,
        fixture("_global.index.IndexResponseExample1"),
    )
    .await;
    store(&server).snapshot_store().save(snapshot(7)).await.unwrap();
    assert_eq!(
        requests(&server).await,
        vec!["PUT /t-snapshots/_doc/pay-1?version=7&version_type=external_gte&refresh=wait_for"]
    );
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        body(&received[0]),
        json!({
            "aggregateId": "pay-1", "aggregateType": "Payment", "version": 7,
            "state": {"status": "completed", "amount": "12.50"}, "timestamp": "2026-03-02T10:00:00Z"
        })
    );
}

#[tokio::test]
async fn an_older_snapshot_answered_409_is_ignored() {
    let server = MockServer::start().await;
    mount(
        &server,
        "PUT",
        "/t-snapshots/_doc/pay-1",
        409,
        fixture("index.external_version_conflict"),
    )
    .await;
    store(&server).snapshot_store().save(snapshot(3)).await.unwrap();
}

#[tokio::test]
async fn snapshots_load_by_realtime_get() {
    let server = MockServer::start().await;
    let source = serde_json::to_value(snapshot(7)).unwrap();
    mount(
        &server,
        "GET",
        "/t-snapshots/_doc/pay-1",
        200,
        found("t-snapshots", "pay-1", source, 4),
    )
    .await;
    mount(&server, "GET", "/t-snapshots/_doc/pay-2", 404, fixture("get.not_found")).await;
    let snapshots = store(&server).snapshot_store();
    assert_eq!(snapshots.load("pay-1").await.unwrap(), Some(snapshot(7)));
    assert_eq!(snapshots.load("pay-2").await.unwrap(), None);
}

#[tokio::test]
async fn a_snapshot_write_refused_for_load_is_unavailable() {
    let server = MockServer::start().await;
    mount(
        &server,
        "PUT",
        "/t-snapshots/_doc/pay-1",
        429,
        fixture("error.too_many_requests"),
    )
    .await;
    let error = store(&server).snapshot_store().save(snapshot(3)).await.unwrap_err();
    assert!(matches!(error, EventStoreError::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn checkpoints_are_documents_named_by_projection() {
    let server = MockServer::start().await;
    mount(
        &server,
        "PUT",
        "/t-checkpoints/_doc/payments%20view",
        200,
        fixture("_global.index.IndexResponseExample1"),
    )
    .await;
    let source = serde_json::to_value(checkpoint("payments view", 42)).unwrap();
    mount(
        &server,
        "GET",
        "/t-checkpoints/_doc/payments%20view",
        200,
        found("t-checkpoints", "payments view", source, 1),
    )
    .await;
    mount(
        &server,
        "GET",
        "/t-checkpoints/_doc/other",
        404,
        fixture("get.not_found"),
    )
    .await;
    let checkpoints = store(&server).checkpoint_store();
    checkpoints.save(checkpoint("payments view", 42)).await.unwrap();
    assert_eq!(
        checkpoints.load("payments view").await.unwrap(),
        Some(checkpoint("payments view", 42))
    );
    assert_eq!(checkpoints.load("other").await.unwrap(), None);
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        body(&received[0]),
        json!({
            "projection": "payments view",
            "position": 42,
            "lastEventId": Uuid::from_u128(42).to_string(),
            "lastProcessedTimestamp": "2026-03-02T09:59:58Z",
            "version": 2,
            "updatedAt": "2026-03-02T10:00:00Z"
        }),
        "seed 003's field names"
    );
    assert_eq!(
        requests(&server).await[0],
        "PUT /t-checkpoints/_doc/payments%20view?refresh=wait_for"
    );
}

/// A checkpoint written before `lastProcessedTimestamp` and `version` existed.
#[tokio::test]
async fn an_old_checkpoint_reads_without_timestamp_at_version_zero() {
    let server = MockServer::start().await;
    let source = json!({
        "projection": "payments-read-model",
        "position": 7,
        "lastEventId": null,
        "updatedAt": "2026-03-02T10:00:00Z"
    });
    mount(
        &server,
        "GET",
        "/t-checkpoints/_doc/payments-read-model",
        200,
        found("t-checkpoints", "payments-read-model", source, 1),
    )
    .await;
    let loaded = store(&server)
        .checkpoint_store()
        .load("payments-read-model")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (loaded.position, loaded.last_processed_timestamp, loaded.version),
        (7, None, 0)
    );
}

#[tokio::test]
async fn list_searches_every_checkpoint_by_projection_name() {
    let server = MockServer::start().await;
    let hits = ["a", "b"]
        .iter()
        .map(|p| {
            (
                p.to_string(),
                serde_json::to_value(checkpoint(p, 1)).unwrap(),
                json!([p]),
            )
        })
        .collect();
    mount(
        &server,
        "POST",
        "/t-checkpoints/_search",
        200,
        search_hits("t-checkpoints", hits),
    )
    .await;
    let listed = store(&server).checkpoint_store().list().await.unwrap();
    assert_eq!(listed, vec![checkpoint("a", 1), checkpoint("b", 1)]);
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        body(&received[0]),
        json!({"query": {"match_all": {}}, "sort": [{"projection": "asc"}], "size": 1000, "track_total_hits": false})
    );
}

#[tokio::test]
async fn dead_letters_go_to_their_own_index_and_list_oldest_first() {
    let server = MockServer::start().await;
    let letter = DeadLetter {
        projection: "payments".into(),
        position: 3,
        event_id: Uuid::from_u128(3),
        event_type: "PaymentCreated".into(),
        error: "missing read model".into(),
        recorded_at: Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap(),
    };
    let mut created = fixture("_global.index.IndexResponseExample1");
    created["_index"] = json!("t-dead-letters");
    mount(&server, "POST", "/t-dead-letters/_doc", 201, created).await;
    let source = serde_json::to_value(&letter).unwrap();
    let hits = vec![(
        "x1".to_owned(),
        source.clone(),
        json!([1772445600000_u64, 3, letter.event_id]),
    )];
    mount(
        &server,
        "POST",
        "/t-dead-letters/_search",
        200,
        search_hits("t-dead-letters", hits),
    )
    .await;
    let checkpoints = store(&server).checkpoint_store();
    checkpoints.record_dead_letter(letter.clone()).await.unwrap();
    assert_eq!(checkpoints.dead_letters("payments").await.unwrap(), vec![letter]);
    let received = server.received_requests().await.unwrap();
    assert_eq!(body(&received[0]), source);
    assert_eq!(
        body(&received[1]),
        json!({
            "query": {"bool": {"filter": [{"term": {"projection": "payments"}}]}},
            "sort": [{"recordedAt": "asc"}, {"position": "asc"}, {"eventId": "asc"}],
            "size": 1000,
            "track_total_hits": false
        })
    );
    assert_eq!(
        requests(&server).await,
        vec![
            "POST /t-dead-letters/_doc?refresh=wait_for",
            "POST /t-dead-letters/_search"
        ]
    );
}

#[tokio::test]
async fn dead_letters_are_removed_by_one_delete_by_query() {
    let server = MockServer::start().await;
    let mut done = fixture("delete_by_query.done");
    done["deleted"] = json!(2);
    mount(&server, "POST", "/t-dead-letters/_delete_by_query", 200, done).await;
    let checkpoints = store(&server).checkpoint_store();
    assert_eq!(checkpoints.remove_dead_letters("payments", &[3, 8]).await.unwrap(), 2);
    assert_eq!(checkpoints.remove_dead_letters("payments", &[]).await.unwrap(), 2);
    assert_eq!(
        checkpoints.remove_dead_letters("payments", &[u64::MAX]).await.unwrap(),
        0
    );
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        body(&received[0]),
        json!({"query": {"bool": {"filter": [
            {"term": {"projection": "payments"}},
            {"terms": {"position": [3, 8]}}
        ]}}})
    );
    assert_eq!(
        body(&received[1]),
        json!({"query": {"bool": {"filter": [{"term": {"projection": "payments"}}]}}})
    );
    assert_eq!(
        requests(&server).await,
        vec!["POST /t-dead-letters/_delete_by_query?refresh=true&conflicts=proceed"; 2],
        "a position past every `long` is answered without a request"
    );
}

#[tokio::test]
async fn a_failed_dead_letter_removal_is_an_error() {
    let server = MockServer::start().await;
    let mut partial = fixture("delete_by_query.done");
    partial["deleted"] = json!(1);
    partial["failures"] = json!([{"index": "t-dead-letters", "id": "x2", "status": 500,
        "cause": {"type": "exception", "reason": "shard failure"}}]);
    mount(&server, "POST", "/t-dead-letters/_delete_by_query", 200, partial).await;
    let err = store(&server)
        .checkpoint_store()
        .remove_dead_letters("payments", &[3, 8])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("shard failure"), "{err}");
}

#[tokio::test]
async fn listings_page_with_search_after() {
    let server = MockServer::start().await;
    let page = |names: Vec<String>| {
        let hits = names
            .into_iter()
            .map(|p| {
                let source = serde_json::to_value(checkpoint(&p, 1)).unwrap();
                (p.clone(), source, json!([p]))
            })
            .collect();
        search_hits("t-checkpoints", hits)
    };
    let first: Vec<String> = (0..1000).map(|i| format!("p{i:04}")).collect();
    Mock::given(method("POST"))
        .and(path("/t-checkpoints/_search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(first)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount(&server, "POST", "/t-checkpoints/_search", 200, page(vec!["q".into()])).await;
    let listed = store(&server).checkpoint_store().list().await.unwrap();
    assert_eq!(listed.len(), 1001);
    assert_eq!(listed[1000].projection, "q");
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    assert_eq!(body(&received[0]).get("search_after"), None);
    assert_eq!(body(&received[1])["search_after"], json!(["p0999"]));
}
