//! `/subscriptions/{group}…`: the Server-Sent Events feed (catch-up, then live; resumed by
//! `from`, `Last-Event-ID` or the group's checkpoint; filtered; per organization) and the
//! group checkpoints (forward only), read frame by frame as a client reads them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::feed::{ids, Feed, Sse};
use common::{request, TestApp, TOKEN_A, TOKEN_B, TOKEN_PLATFORM, TOKEN_READER};
use serde_json::json;

#[tokio::test]
async fn catch_up_then_live_in_position_order_with_the_event_routes_envelope() {
    let app = TestApp::new();
    app.create(TOKEN_A, "a-1", "10", "EUR", "Ours").await;
    app.create(TOKEN_B, "b-1", "10", "EUR", "Theirs").await;
    let mut feed = Feed::open(&app, TOKEN_A, "/subscriptions/ledger/events", None).await;
    let first = feed.next().await;
    assert_eq!((first.id, first.event.as_str()), (1, "PaymentCreated"));
    let by_id = app
        .get(TOKEN_A, &format!("/events/{}", first.data["eventId"].as_str().unwrap()))
        .await;
    assert_eq!(
        first.data, by_id.body,
        "data is the envelope as GET /events/{{eventId}} answers it"
    );
    // Appended after connecting: B's again (never seen), then A's.
    app.create(TOKEN_B, "b-2", "10", "EUR", "Theirs").await;
    app.completed(TOKEN_A, "a-2", "10", "EUR", "Ours").await;
    let live: Vec<Sse> = vec![feed.next().await, feed.next().await];
    assert_eq!(ids(&live), [4, 5]);
    assert_eq!(live[1].event, "PaymentProcessed");
    assert!(live.iter().all(|e| e.data["metadata"]["organizationId"] == "org-a"));
    assert!(
        feed.next_within(Duration::from_millis(500)).await.is_none(),
        "nothing else"
    );
}

#[tokio::test]
async fn resumes_exactly_after_last_event_id_or_from() {
    let app = TestApp::new();
    for id in ["a-1", "a-2", "a-3"] {
        app.create(TOKEN_A, id, "10", "EUR", "Ours").await;
    }
    let resumed = Feed::open(&app, TOKEN_A, "/subscriptions/ledger/events?live=false", Some("1")).await;
    assert_eq!(ids(&resumed.all().await), [2, 3]);
    let from = Feed::open(
        &app,
        TOKEN_A,
        "/subscriptions/ledger/events?live=false&from=2",
        Some("1"),
    )
    .await;
    assert_eq!(ids(&from.all().await), [3], "`from` wins over Last-Event-ID");
    let bad = app
        .send(
            Request::builder()
                .uri("/subscriptions/ledger/events")
                .header(header::AUTHORIZATION, format!("Bearer {TOKEN_A}"))
                .header("last-event-id", "nope")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(bad.problem(400), "bad_request");
    assert_eq!(bad.fields(), ["Last-Event-ID"]);
}

#[tokio::test]
async fn filters_by_event_type_and_aggregate_type() {
    let app = TestApp::new();
    app.completed(TOKEN_A, "a-1", "10", "EUR", "Ours").await;
    app.create(TOKEN_A, "a-2", "10", "EUR", "Ours").await;
    let feed = |query: &'static str| {
        let app = &app;
        async move {
            let uri = format!("/subscriptions/ledger/events?live=false&{query}");
            Feed::open(app, TOKEN_A, &uri, None).await.all().await
        }
    };
    let processed = feed("eventType=PaymentProcessed").await;
    assert_eq!(ids(&processed), [2]);
    assert_eq!(ids(&feed("eventType=PaymentProcessed,PaymentCreated").await), [1, 2, 3]);
    assert_eq!(
        ids(&feed("aggregateType=Payment&eventType=PaymentCreated").await),
        [1, 3]
    );
    assert!(feed("aggregateType=Invoice").await.is_empty());
}

#[tokio::test]
async fn acks_move_forward_only_and_a_feed_resumes_from_the_groups_checkpoint() {
    let app = TestApp::new();
    for id in ["a-1", "a-2", "a-3"] {
        app.create(TOKEN_A, id, "10", "EUR", "Ours").await;
    }
    let unset = app.get(TOKEN_A, "/subscriptions/ledger").await;
    assert_eq!(
        unset.body,
        json!({"group": "ledger", "position": 0, "updatedAt": null, "consumers": [], "inFlight": 0, "parked": 0})
    );
    let acked = app
        .post(TOKEN_READER, "/subscriptions/ledger/ack", json!({"position": 2}))
        .await;
    assert_eq!((acked.status, &acked.body["position"]), (StatusCode::OK, &json!(2)));
    let older = app
        .post(TOKEN_A, "/subscriptions/ledger/ack", json!({"position": 1}))
        .await;
    assert_eq!(
        older.body, acked.body,
        "an older position is ignored, the stored one answered"
    );
    let stored = app.get(TOKEN_A, "/subscriptions/ledger").await;
    assert_eq!(stored.body, acked.body);
    let resumed = Feed::open(&app, TOKEN_A, "/subscriptions/ledger/events?live=false", None).await;
    assert_eq!(ids(&resumed.all().await), [3]);
    let beyond = app
        .post(TOKEN_A, "/subscriptions/ledger/ack", json!({"position": 99}))
        .await;
    assert_eq!(beyond.problem(400), "bad_request");
    assert_eq!(beyond.fields(), ["position"]);
    let malformed = app
        .post(TOKEN_A, "/subscriptions/ledger/ack", json!({"position": -1}))
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST, "{}", malformed.text);
    // Another organization's group of the same name is another group.
    assert_eq!(app.get(TOKEN_B, "/subscriptions/ledger").await.body["position"], 0);
    let platform = app.get(TOKEN_PLATFORM, "/subscriptions/ledger?scope=platform").await;
    assert_eq!(platform.body["position"], 0, "a platform group is apart too");
}

#[tokio::test]
async fn other_organizations_events_are_never_sent_but_the_platform_follows_all() {
    let app = TestApp::new();
    app.create(TOKEN_B, "b-1", "10", "EUR", "Theirs").await;
    app.create(TOKEN_A, "a-1", "10", "EUR", "Ours").await;
    app.completed(TOKEN_B, "b-2", "10", "EUR", "Theirs").await;
    let own = Feed::open(&app, TOKEN_A, "/subscriptions/ledger/events?live=false", None).await;
    let own = own.all().await;
    assert_eq!(ids(&own), [2]);
    let platform_uri = "/subscriptions/ledger/events?live=false&scope=platform";
    let all = Feed::open(&app, TOKEN_PLATFORM, platform_uri, None).await;
    assert_eq!(ids(&all.all().await), [1, 2, 3, 4]);
    let refused = app.get(TOKEN_A, platform_uri).await;
    assert_eq!(refused.problem(403), "insufficient_role");
}

#[tokio::test]
async fn a_bad_group_name_is_a_400_with_its_own_code() {
    let app = TestApp::new();
    let long = "g".repeat(65);
    for group in ["bad%20name", "org%3Agroup", long.as_str(), "caf%C3%A9"] {
        for (method, uri) in [
            (Method::GET, format!("/subscriptions/{group}/events")),
            (Method::GET, format!("/subscriptions/{group}")),
            (Method::POST, format!("/subscriptions/{group}/ack")),
        ] {
            let body = (method == Method::POST).then(|| json!({"position": 0}));
            let reply = app.send(request(method, &uri, TOKEN_A, body)).await;
            assert_eq!(reply.problem(400), hive_http::INVALID_GROUP, "{uri}");
            assert_eq!(reply.fields(), ["group"], "{uri}");
        }
    }
    let fine = "a".repeat(64);
    let reply = app.get(TOKEN_A, &format!("/subscriptions/{fine}.v1_x-y")).await;
    assert_eq!(reply.problem(400), hive_http::INVALID_GROUP, "over 64 characters");
    assert_eq!(
        app.get(TOKEN_A, &format!("/subscriptions/{fine}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(TOKEN_A, "/subscriptions/Ledger.v1_x-y").await.status,
        StatusCode::OK
    );
}
