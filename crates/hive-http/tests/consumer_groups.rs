//! Consumer groups over `/subscriptions/{group}/events` (`mode=group`, the default): the
//! connected consumers share the streams, each stream's events stay with one consumer and in
//! order, a consumer that leaves hands its unacknowledged events to the others, refused events
//! are parked, listed, replayed and skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use axum::http::StatusCode;
use common::feed::{ids, Feed, Sse};
use common::{Options, TestApp, TOKEN_A, TOKEN_B};
use serde_json::json;

const QUIET: Duration = Duration::from_millis(700);

fn streams(events: &[Sse]) -> BTreeSet<String> {
    events
        .iter()
        .map(|e| e.data["aggregateId"].as_str().unwrap().to_owned())
        .collect()
}

/// Each stream's versions as received, in order.
fn versions(events: &[Sse]) -> BTreeMap<String, Vec<u64>> {
    let mut versions: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for event in events {
        let stream = event.data["aggregateId"].as_str().unwrap().to_owned();
        versions
            .entry(stream)
            .or_default()
            .push(event.data["version"].as_u64().unwrap());
    }
    versions
}

#[tokio::test]
async fn two_consumers_share_the_streams_each_in_order() {
    let app = TestApp::new();
    let mut one = Feed::open(&app, TOKEN_A, "/subscriptions/billing/events?consumer=one", None).await;
    let mut two = Feed::open(&app, TOKEN_A, "/subscriptions/billing/events?consumer=two", None).await;
    assert_eq!(one.consumer.as_deref(), Some("one"));
    for n in 0..12 {
        app.completed(TOKEN_A, &format!("p-{n}"), "10", "EUR", "Shared").await;
    }
    app.create(TOKEN_B, "theirs", "10", "EUR", "Never sent").await;
    let (got_one, got_two) = (one.until_quiet(QUIET).await, two.until_quiet(QUIET).await);
    assert_eq!(got_one.len() + got_two.len(), 24, "every event once");
    assert!(!got_one.is_empty() && !got_two.is_empty(), "both consumers got a share");
    assert!(
        streams(&got_one).is_disjoint(&streams(&got_two)),
        "a stream goes to one consumer"
    );
    for (stream, versions) in versions(&got_one).into_iter().chain(versions(&got_two)) {
        assert_eq!(versions, [1, 2], "{stream} in order");
    }
    let status = app.get(TOKEN_A, "/subscriptions/billing").await;
    assert_eq!(status.body["consumers"], json!(["one", "two"]));
    assert_eq!(
        (&status.body["inFlight"], &status.body["position"]),
        (&json!(24), &json!(0))
    );
    // Each acknowledges its own: the checkpoint moves once everything before it was handled.
    let last_of = |events: &[Sse]| ids(events).into_iter().max().unwrap();
    let acked = app
        .post(
            TOKEN_A,
            "/subscriptions/billing/ack",
            json!({"position": last_of(&got_one), "consumer": "one"}),
        )
        .await;
    assert_eq!(acked.body["inFlight"], json!(got_two.len()));
    let acked = app
        .post(
            TOKEN_A,
            "/subscriptions/billing/ack",
            json!({"position": last_of(&got_two), "consumer": "two"}),
        )
        .await;
    assert_eq!(acked.body["inFlight"], 0);
    assert_eq!(acked.body["position"], 25, "past org-b's event too: not this group's");
}

#[tokio::test]
async fn a_consumer_that_leaves_hands_its_unacknowledged_events_to_the_others() {
    let app = TestApp::new();
    let mut stays = Feed::open(&app, TOKEN_A, "/subscriptions/billing/events?consumer=stays", None).await;
    let mut leaves = Feed::open(&app, TOKEN_A, "/subscriptions/billing/events?consumer=leaves", None).await;
    for n in 0..10 {
        app.create(TOKEN_A, &format!("p-{n}"), "10", "EUR", "Handed over").await;
    }
    let first = stays.until_quiet(QUIET).await;
    let dropped = leaves.until_quiet(QUIET).await;
    assert!(!dropped.is_empty());
    drop(leaves);
    let handed = stays.until_quiet(QUIET).await;
    assert_eq!(ids(&handed), ids(&dropped), "what `leaves` held, in order, to `stays`");
    let all: BTreeSet<u64> = ids(&first).into_iter().chain(ids(&handed)).collect();
    assert_eq!(all, (1..=10).collect());
    // Later events of those streams follow them to `stays`.
    let stream = handed[0].data["aggregateId"].as_str().unwrap();
    let processed = app
        .post(TOKEN_A, &format!("/payments/{stream}/process"), serde_json::Value::Null)
        .await;
    assert_eq!(processed.status, StatusCode::OK, "{}", processed.text);
    assert_eq!(stays.next().await.event, "PaymentProcessed");
}

#[tokio::test]
async fn a_refused_event_is_sent_again_then_parked_listed_replayed_and_skipped() {
    let options = Options {
        groups: Some(hive_http::GroupOptions {
            max_deliveries: 2,
            poll: Duration::from_millis(200),
            ..hive_http::GroupOptions::default()
        }),
        ..Options::default()
    };
    let app = TestApp::with(options);
    app.create(TOKEN_A, "p-1", "10", "EUR", "Poison").await;
    app.create(TOKEN_A, "p-2", "10", "EUR", "Fine").await;
    let mut feed = Feed::open(&app, TOKEN_A, "/subscriptions/billing/events?consumer=w", None).await;
    assert_eq!(ids(&feed.until_quiet(QUIET).await), [1, 2]);
    let nack = |reason: &'static str| {
        app.post(
            TOKEN_A,
            "/subscriptions/billing/nack",
            json!({"position": 1, "consumer": "w", "reason": reason}),
        )
    };
    let first = nack("cannot parse").await;
    assert_eq!(first.body, json!({"position": 1, "deliveries": 1, "parked": false}));
    let again = feed.next().await;
    assert_eq!(again.id, 1, "sent again");
    let second = nack("still cannot parse").await;
    assert_eq!(second.body, json!({"position": 1, "deliveries": 2, "parked": true}));
    let not_held = nack("again").await;
    assert_eq!(not_held.problem(409), hive_http::NOT_IN_FLIGHT);
    let acked = app
        .post(TOKEN_A, "/subscriptions/billing/ack", json!({"position": 2}))
        .await;
    assert_eq!((&acked.body["position"], &acked.body["parked"]), (&json!(2), &json!(1)));
    let parked = app.get(TOKEN_A, "/subscriptions/billing/parked").await;
    assert_eq!(parked.body[0]["position"], 1);
    assert!(parked.body[0]["reason"]
        .as_str()
        .unwrap()
        .contains("still cannot parse"));
    assert_eq!(
        app.get(TOKEN_B, "/subscriptions/billing/parked").await.body,
        json!([]),
        "org-b's group is another"
    );
    // Replayed: sent again, parked until acknowledged.
    let replay = app
        .post(TOKEN_A, "/subscriptions/billing/parked/replay", json!({}))
        .await;
    assert_eq!(replay.body, json!({"count": 1}));
    assert_eq!(feed.next().await.id, 1);
    assert_eq!(app.get(TOKEN_A, "/subscriptions/billing").await.body["parked"], 1);
    app.post(TOKEN_A, "/subscriptions/billing/ack", json!({"position": 1}))
        .await;
    assert_eq!(app.get(TOKEN_A, "/subscriptions/billing/parked").await.body, json!([]));
    assert_eq!(
        app.get(TOKEN_A, "/subscriptions/billing").await.body["position"],
        2,
        "never moved back"
    );
    // Skipped: removed without being sent.
    app.create(TOKEN_A, "p-3", "10", "EUR", "Poison again").await;
    for _ in 0..2 {
        let event = feed.next().await;
        assert_eq!(event.id, 3);
        app.post(TOKEN_A, "/subscriptions/billing/nack", json!({"position": event.id}))
            .await;
    }
    assert_eq!(app.get(TOKEN_A, "/subscriptions/billing").await.body["parked"], 1);
    let skip = app
        .post(TOKEN_A, "/subscriptions/billing/parked/skip", json!({"positions": [3]}))
        .await;
    assert_eq!(skip.body, json!({"count": 1}));
    assert!(feed.next_within(QUIET).await.is_none(), "a skipped event is not sent");
    assert_eq!(app.get(TOKEN_A, "/subscriptions/billing").await.body["parked"], 0);
}

#[tokio::test]
async fn a_consumer_that_stops_taking_events_is_told_to_reconnect() {
    let options = Options {
        groups: Some(hive_http::GroupOptions {
            max_in_flight: 2,
            stall_timeout: Duration::from_millis(300),
            poll: Duration::from_millis(100),
            ..hive_http::GroupOptions::default()
        }),
        ..Options::default()
    };
    let app = TestApp::with(options);
    for n in 0..3 {
        app.create(TOKEN_A, &format!("p-{n}"), "10", "EUR", "Not acknowledged")
            .await;
    }
    let mut slow = Feed::open(&app, TOKEN_A, "/subscriptions/billing/events?consumer=slow", None).await;
    let events = slow.until_quiet(Duration::from_secs(2)).await;
    assert_eq!(ids(&events[..2]), [1, 2], "at most max_in_flight unacknowledged");
    let told = events.last().unwrap();
    assert_eq!(told.event, "reconnect");
    assert!(told.data["reason"].as_str().unwrap().contains("too far behind"));
    let status = app.get(TOKEN_A, "/subscriptions/billing").await;
    assert_eq!(
        (status.body["consumers"].clone(), status.body["position"].clone()),
        (json!([]), json!(0))
    );
    // Reconnected, it gets them again (at least once).
    let mut again = Feed::open(&app, TOKEN_A, "/subscriptions/billing/events?consumer=slow", None).await;
    assert_eq!(again.next().await.id, 1);
}

#[tokio::test]
async fn a_new_connection_of_the_same_consumer_replaces_the_old_and_filters_must_agree() {
    let app = TestApp::new();
    app.create(TOKEN_A, "p-1", "10", "EUR", "Once").await;
    let mut old = Feed::open(&app, TOKEN_A, "/subscriptions/billing/events?consumer=w", None).await;
    assert_eq!(old.next().await.id, 1);
    let mut new = Feed::open(&app, TOKEN_A, "/subscriptions/billing/events?consumer=w", None).await;
    let told = old.next().await;
    assert_eq!(told.event, "reconnect");
    assert!(told.data["reason"].as_str().unwrap().contains("replaced"));
    assert_eq!(new.next().await.id, 1, "its unacknowledged event comes again");
    let other = app
        .get(
            TOKEN_A,
            "/subscriptions/billing/events?consumer=x&eventType=PaymentProcessed",
        )
        .await;
    assert_eq!(other.problem(409), hive_http::FILTER_MISMATCH);
    let unnamed = Feed::open(&app, TOKEN_A, "/subscriptions/billing/events", None).await;
    assert!(unnamed.consumer.unwrap().starts_with("consumer-"), "a generated name");
    let bad = app.get(TOKEN_A, "/subscriptions/billing/events?mode=both").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
