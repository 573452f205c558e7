//! Contract tests of the event store: the exact requests, real-shaped Elasticsearch 8 answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{body, fixture, found, mget, mount, ndjson, requests, search_hits, store};
use futures::TryStreamExt;
use hive_domain::{EventEnvelope, EventStore, EventStoreError, Metadata};
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn ev(id: &str, version: u64) -> EventEnvelope {
    EventEnvelope::new(
        id,
        "Payment",
        "PaymentCreated",
        json!({"description": "Cloud hosting"}),
        version,
    )
    .with_metadata(Metadata::default().with_organization("org-1"))
}

fn commit(id: &str, from: u64, events: &[EventEnvelope], position: Option<u64>) -> Value {
    let mut doc = json!({
        "aggregateId": id, "fromVersion": from, "toVersion": from + events.len() as u64,
        "count": events.len(), "committedAt": "2026-03-02T10:00:00Z", "events": events
    });
    if let Some(p) = position {
        doc["position"] = json!(p);
    }
    doc
}

#[tokio::test]
async fn append_creates_one_commit_then_allocates_positions_and_publishes() {
    let server = MockServer::start().await;
    let events = vec![ev("pay-1", 1), ev("pay-1", 2)];
    mount(
        &server,
        "PUT",
        "/t-commits/_create/pay-1@0",
        201,
        fixture("_global.create.CreateResponseExample1"),
    )
    .await;
    mount(&server, "GET", "/t-sequence/_doc/global", 404, fixture("get.not_found")).await;
    let stored = found("t-commits", "pay-1@0", commit("pay-1", 0, &events, None), 0);
    mount(
        &server,
        "POST",
        "/t-commits/_mget",
        200,
        mget("t-commits", vec![Ok(stored)]),
    )
    .await;
    mount(
        &server,
        "PUT",
        "/t-sequence/_create/global",
        201,
        fixture("_global.create.CreateResponseExample1"),
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
    mount(
        &server,
        "POST",
        "/t-commits/_update/pay-1@0",
        200,
        fixture("_global.update.UpdateResponseExample1"),
    )
    .await;

    let appended = store(&server)
        .event_store()
        .append("pay-1", 0, events.clone())
        .await
        .unwrap();
    assert_eq!(
        appended.iter().map(|e| e.global_position).collect::<Vec<_>>(),
        [Some(1), Some(2)]
    );

    assert_eq!(
        requests(&server).await,
        [
            "PUT /t-commits/_create/pay-1@0",
            "GET /t-sequence/_doc/global",
            "POST /t-commits/_mget",
            "PUT /t-sequence/_create/global",
            "POST /_bulk?refresh=wait_for",
            "POST /t-commits/_update/pay-1@0?retry_on_conflict=5",
        ]
    );
    let received = server.received_requests().await.unwrap();
    let created = body(&received[0]);
    assert_eq!(created["aggregateId"], "pay-1");
    assert_eq!(
        (created["fromVersion"].clone(), created["toVersion"].clone()),
        (json!(0), json!(2))
    );
    assert_eq!(created["events"].as_array().unwrap().len(), 2);
    assert!(created.get("position").is_none());
    assert_eq!(body(&received[2]), json!({"ids": ["pay-1@0"]}));
    assert_eq!(
        body(&received[3]),
        json!({"position": 2, "lastCommit": "pay-1@0", "lastFrom": 1})
    );
    assert_eq!(received[4].headers["content-type"], "application/x-ndjson");
    let lines = ndjson(&received[4]);
    assert_eq!(lines[0], json!({"index": {"_index": "t-events", "_id": "pay-1:1"}}));
    assert_eq!(lines[1]["globalPosition"], 1);
    assert_eq!(lines[3]["globalPosition"], 2);
    assert_eq!(lines[3]["eventId"], events[1].event_id.to_string());
    assert_eq!(body(&received[5]), json!({"doc": {"position": 1}}));
}

#[tokio::test]
async fn a_create_answered_409_is_a_conflict_with_the_actual_version() {
    let server = MockServer::start().await;
    let theirs = vec![ev("pay-1", 1)];
    mount(
        &server,
        "PUT",
        "/t-commits/_create/pay-1@0",
        409,
        fixture("create.conflict"),
    )
    .await;
    let hit = vec![("pay-1@0".to_owned(), commit("pay-1", 0, &theirs, Some(7)), json!([0]))];
    mount(
        &server,
        "POST",
        "/t-commits/_search",
        200,
        search_hits("t-commits", hit),
    )
    .await;
    mount(&server, "GET", "/t-commits/_doc/pay-1@1", 404, fixture("get.not_found")).await;

    let err = store(&server)
        .event_store()
        .append("pay-1", 0, vec![ev("pay-1", 1)])
        .await
        .unwrap_err();
    assert_eq!(
        err,
        EventStoreError::Conflict {
            aggregate_id: "pay-1".into(),
            expected: 0,
            actual: 1
        }
    );
    let log = requests(&server).await;
    assert_eq!(
        log[0], "PUT /t-commits/_create/pay-1@0",
        "a new stream needs no look-up first"
    );
    assert!(
        !log.iter().any(|r| r.contains("sequence")),
        "no position is allocated: {log:?}"
    );
}

#[tokio::test]
async fn a_stale_expected_version_past_zero_is_a_conflict_before_any_write() {
    let server = MockServer::start().await;
    let theirs = vec![ev("pay-1", 1), ev("pay-1", 2)];
    let hit = vec![("pay-1@0".to_owned(), commit("pay-1", 0, &theirs, Some(1)), json!([0]))];
    mount(
        &server,
        "POST",
        "/t-commits/_search",
        200,
        search_hits("t-commits", hit),
    )
    .await;
    mount(&server, "GET", "/t-commits/_doc/pay-1@2", 404, fixture("get.not_found")).await;
    let err = store(&server)
        .event_store()
        .append("pay-1", 1, vec![ev("pay-1", 2)])
        .await
        .unwrap_err();
    assert!(matches!(err, EventStoreError::Conflict { actual: 2, .. }), "{err:?}");
    assert!(!requests(&server).await.iter().any(|r| r.starts_with("PUT")));
}

#[tokio::test]
async fn the_sequence_is_moved_with_if_seq_no_and_retried_on_409() {
    let server = MockServer::start().await;
    let events = vec![ev("pay-2", 1)];
    mount(
        &server,
        "PUT",
        "/t-commits/_create/pay-2@0",
        201,
        fixture("_global.create.CreateResponseExample1"),
    )
    .await;
    let seq = json!({"position": 4, "lastCommit": "other@0", "lastFrom": 3});
    mount(
        &server,
        "GET",
        "/t-sequence/_doc/global",
        200,
        found("t-sequence", "global", seq, 11),
    )
    .await;
    let other = found(
        "t-commits",
        "other@0",
        commit("other", 0, &[ev("other", 1), ev("other", 2)], Some(3)),
        1,
    );
    let mine = found("t-commits", "pay-2@0", commit("pay-2", 0, &events, None), 2);
    mount(
        &server,
        "POST",
        "/t-commits/_mget",
        200,
        mget("t-commits", vec![Ok(other), Ok(mine)]),
    )
    .await;
    Mock::given(method("PUT"))
        .and(path("/t-sequence/_doc/global"))
        .and(query_param("if_seq_no", "11"))
        .and(query_param("if_primary_term", "1"))
        .respond_with(ResponseTemplate::new(409).set_body_json(fixture("create.conflict")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount(
        &server,
        "PUT",
        "/t-sequence/_doc/global",
        200,
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
    mount(
        &server,
        "POST",
        "/t-commits/_update/pay-2@0",
        200,
        fixture("_global.update.UpdateResponseExample1"),
    )
    .await;

    let appended = store(&server).event_store().append("pay-2", 0, events).await.unwrap();
    assert_eq!(appended[0].global_position, Some(5));
    let seq_writes: Vec<String> = requests(&server)
        .await
        .into_iter()
        .filter(|r| r.starts_with("PUT /t-sequence"))
        .collect();
    assert_eq!(
        seq_writes,
        [
            "PUT /t-sequence/_doc/global?if_seq_no=11&if_primary_term=1",
            "PUT /t-sequence/_doc/global?if_seq_no=11&if_primary_term=1"
        ]
    );
}

#[tokio::test]
async fn a_mapping_conflict_in_the_published_events_is_a_typed_error() {
    let server = MockServer::start().await;
    mount(
        &server,
        "PUT",
        "/t-commits/_create/pay-1@0",
        201,
        fixture("_global.create.CreateResponseExample1"),
    )
    .await;
    mount(&server, "GET", "/t-sequence/_doc/global", 404, fixture("get.not_found")).await;
    let stored = found("t-commits", "pay-1@0", commit("pay-1", 0, &[ev("pay-1", 1)], None), 0);
    mount(
        &server,
        "POST",
        "/t-commits/_mget",
        200,
        mget("t-commits", vec![Ok(stored)]),
    )
    .await;
    mount(
        &server,
        "PUT",
        "/t-sequence/_create/global",
        201,
        fixture("_global.create.CreateResponseExample1"),
    )
    .await;
    mount(&server, "POST", "/_bulk", 200, fixture("bulk.mapping_conflict")).await;
    let err = store(&server)
        .event_store()
        .append("pay-1", 0, vec![ev("pay-1", 1)])
        .await
        .unwrap_err();
    let EventStoreError::Backend(message) = err else {
        panic!("{err:?}")
    };
    assert!(message.contains("mapping conflict in index `t-events`"), "{message}");
}

#[tokio::test]
async fn read_stream_pages_commits_with_search_after_then_walks_the_tail() {
    let server = MockServer::start().await;
    // 100 commits of one event (a full page), then one more page, then a tail only GET sees.
    let page = |from: u64, n: u64| -> Value {
        let hits = (from..from + n)
            .map(|v| {
                (
                    format!("s@{v}"),
                    commit("s", v, &[ev("s", v + 1)], Some(v + 1)),
                    json!([v]),
                )
            })
            .collect();
        search_hits("t-commits", hits)
    };
    Mock::given(method("POST"))
        .and(path("/t-commits/_search"))
        .and(wiremock::matchers::body_partial_json(json!({"search_after": [99]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(100, 2)))
        .with_priority(1)
        .mount(&server)
        .await;
    mount(&server, "POST", "/t-commits/_search", 200, page(0, 100)).await;
    let tail = found("t-commits", "s@102", commit("s", 102, &[ev("s", 103)], Some(103)), 3);
    mount(&server, "GET", "/t-commits/_doc/s@102", 200, tail).await;
    mount(&server, "GET", "/t-commits/_doc/s@103", 404, fixture("get.not_found")).await;

    let es = store(&server).event_store();
    let events: Vec<EventEnvelope> = es.read_stream("s", 1).try_collect().await.unwrap();
    assert_eq!(events.len(), 103);
    assert!(events.iter().enumerate().all(|(i, e)| e.version == i as u64 + 1));
    assert_eq!(events[102].global_position, Some(103));
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        body(&received[0]),
        json!({"size": 100, "query": {"bool": {"filter": [{"term": {"aggregateId": "s"}},
               {"range": {"toVersion": {"gte": 1}}}]}}, "sort": [{"fromVersion": "asc"}]})
    );
    assert_eq!(body(&received[1])["search_after"], json!([99]));
    assert_eq!(
        requests(&server).await[2..],
        ["GET /t-commits/_doc/s@102", "GET /t-commits/_doc/s@103"]
    );
}

#[tokio::test]
async fn read_all_reads_by_position_and_stops_at_a_hole() {
    let server = MockServer::start().await;
    let at = |p: u64| {
        let mut e = serde_json::to_value(ev("x", p)).unwrap();
        e["globalPosition"] = json!(p);
        (format!("x:{p}"), e, json!([p]))
    };
    mount(
        &server,
        "POST",
        "/t-events/_search",
        200,
        search_hits("t-events", vec![at(6), at(7), at(9)]),
    )
    .await;
    let events = store(&server).event_store().read_all(5, 50).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.global_position.unwrap()).collect::<Vec<_>>(),
        [6, 7]
    );
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        body(&received[0]),
        json!({"size": 50, "track_total_hits": false, "query": {"range": {"globalPosition": {"gt": 5}}},
               "sort": [{"globalPosition": "asc"}]})
    );
}

#[tokio::test]
async fn head_position_is_the_last_published_position() {
    let server = MockServer::start().await;
    let seq = json!({"position": 9, "lastCommit": "a@0", "lastFrom": 8});
    mount(
        &server,
        "GET",
        "/t-sequence/_doc/global",
        200,
        found("t-sequence", "global", seq, 3),
    )
    .await;
    let unpublished = found("t-commits", "a@0", commit("a", 0, &[ev("a", 1), ev("a", 2)], None), 1);
    mount(&server, "GET", "/t-commits/_doc/a@0", 200, unpublished).await;
    assert_eq!(store(&server).event_store().head_position().await.unwrap(), 7);
}

#[tokio::test]
async fn errors_are_typed_connection_429_503() {
    let es = hive_store_elasticsearch::EsStore::lazy(hive_store_elasticsearch::EsOptions::new("http://127.0.0.1:1"))
        .unwrap();
    let err = es.health().await.unwrap_err();
    assert!(
        matches!(err, hive_store_elasticsearch::EsError::Connection { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("elasticsearch.url"));

    let server = MockServer::start().await;
    mount(&server, "POST", "/t-events/_search", 503, fixture("error.unavailable")).await;
    let err = store(&server).event_store().read_all(0, 10).await.unwrap_err();
    assert!(matches!(err, EventStoreError::Unavailable(_)), "{err:?}");
    mount(
        &server,
        "GET",
        "/_cluster/health",
        429,
        fixture("error.too_many_requests"),
    )
    .await;
    let err = store(&server).health().await.unwrap_err();
    assert!(
        matches!(err, hive_store_elasticsearch::EsError::TooManyRequests { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn health_reads_the_cluster_status() {
    let server = MockServer::start().await;
    mount(
        &server,
        "GET",
        "/_cluster/health",
        200,
        fixture("cluster.health.ClusterHealthResponseExample1"),
    )
    .await;
    assert_eq!(store(&server).health().await.unwrap(), "yellow");
}
