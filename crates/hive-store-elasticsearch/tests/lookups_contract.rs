//! Contract tests of the event look-ups: criteria searches, both orders, deep pages and
//! `event_by_id`: the exact requests, real-shaped Elasticsearch 8 answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{body, fixture, mount, search_hits, store};
use hive_domain::{EventCriteria, EventEnvelope, EventLookup, EventSearch, Metadata, Page};
use serde_json::json;
use wiremock::matchers::{method, path};
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

#[tokio::test]
async fn search_puts_filters_in_bool_filter_and_text_in_a_match_on_search_text() {
    let server = MockServer::start().await;
    let mut e = serde_json::to_value(ev("pay-1", 1)).unwrap();
    e["globalPosition"] = json!(1);
    let mut answer = search_hits("t-events", vec![("pay-1:1".into(), e, json!([1, 1]))]);
    answer["hits"]["total"]["value"] = json!(42);
    mount(&server, "POST", "/t-events/_search", 200, answer).await;
    let criteria = EventCriteria {
        aggregate_type: Some("Payment".into()),
        event_types: vec!["PaymentCreated".into()],
        organization_id: Some("org-1".into()),
        text: Some("cloud OR \"x\" AND*".into()),
        ..EventCriteria::default()
    };
    let page = store(&server)
        .event_store()
        .search(&criteria, Page::new(20, 10))
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total), (1, 42));
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        body(&received[0]),
        json!({
            "from": 20, "size": 10, "track_total_hits": true,
            "query": {"bool": {
                "filter": [
                    {"term": {"aggregateType": "Payment"}},
                    {"term": {"metadata.organizationId": "org-1"}},
                    {"terms": {"eventType": ["PaymentCreated"]}}
                ],
                "must": [{"match": {"searchText": {"query": "cloud OR \"x\" AND*", "operator": "and"}}}]
            }},
            "sort": [{"timestamp": "asc"}, {"globalPosition": "asc"}]
        })
    );
}

/// Newest first: every sort key reversed, and a deep page walks there in that order.
#[tokio::test]
async fn newest_first_reverses_every_sort_key_also_when_walking_past_the_window() {
    let server = MockServer::start().await;
    let mut e = serde_json::to_value(ev("pay-1", 1)).unwrap();
    e["globalPosition"] = json!(1);
    let answer = search_hits("t-events", vec![("pay-1:1".into(), e, json!([1, 1]))]);
    mount(&server, "POST", "/t-events/_search", 200, answer).await;
    let events = store(&server).event_store();
    let page = events
        .events_by_correlation("corr-1", Page::new(0, 10).newest_first())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    // A page past 10 000: a first step of 10 000 sort values only; one hit answers, fewer
    // than the step, so the page is empty (no search of the page itself).
    events
        .events_by_correlation("corr-1", Page::new(10_000, 10).newest_first())
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    let desc = json!([{"timestamp": "desc"}, {"globalPosition": "desc"}]);
    let first = body(&received[0]);
    assert_eq!(first["sort"], desc);
    assert_eq!(
        first["query"],
        json!({"bool": {"filter": [{"term": {"correlationId": "corr-1"}}]}})
    );
    let step = body(&received[1]);
    assert_eq!(
        (step["sort"].clone(), step["size"].clone()),
        (desc.clone(), json!(10_000))
    );
    assert_eq!(step["_source"], false);
    assert_eq!(body(&received[2])["sort"], desc);
    assert_eq!(body(&received[2])["size"], 0, "fewer matches than the offset");
}

/// Event documents are keyed `{aggregateId}:{version}`: an event is found by a term on
/// `eventId`.
#[tokio::test]
async fn event_by_id_is_a_term_on_event_id() {
    let server = MockServer::start().await;
    let event = ev("pay-1", 1);
    let mut source = serde_json::to_value(&event).unwrap();
    source["globalPosition"] = json!(5);
    let answer = search_hits("t-events", vec![("pay-1:1".into(), source, json!([5]))]);
    Mock::given(method("POST"))
        .and(path("/t-events/_search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount(&server, "POST", "/t-events/_search", 200, fixture("search.empty")).await;
    let events = store(&server).event_store();
    let found = events.event_by_id(event.event_id).await.unwrap().unwrap();
    assert_eq!((found.event_id, found.global_position), (event.event_id, Some(5)));
    assert_eq!(events.event_by_id(uuid::Uuid::nil()).await.unwrap(), None);
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        body(&received[0]),
        json!({
            "size": 1,
            "track_total_hits": false,
            "query": {"bool": {"filter": [{"term": {"eventId": event.event_id.to_string()}}]}},
            "sort": [{"globalPosition": "asc"}]
        })
    );
}
