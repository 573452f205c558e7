//! The event routes, happy paths.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TestApp, ORG_A, TOKEN_A, TOKEN_B, USER_A};
use serde_json::{json, Value};

/// Creates and processes `id` under one correlation id; answers it.
async fn correlated(app: &TestApp, id: &str, correlation: &str) {
    let body = json!({"paymentId": id, "amount": "10", "currency": "EUR", "description": "Correlated payment"});
    for (uri, body) in [
        ("/payments".to_owned(), Some(body)),
        (format!("/payments/{id}/process"), None),
    ] {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header("authorization", format!("Bearer {TOKEN_A}"))
            .header("x-correlation-id", correlation);
        let body = match body {
            Some(body) => {
                builder = builder.header("content-type", "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        let reply = app.send(builder.body(body).unwrap()).await;
        assert!(reply.status.is_success(), "{}", reply.text);
    }
}

fn event_types(reply: &common::Reply) -> Vec<String> {
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn search_finds_events_by_type_and_text_in_the_last_30_days_by_default() {
    let app = TestApp::new();
    correlated(&app, "e-1", "corr-1").await;
    app.create(TOKEN_A, "e-2", "5", "USD", "Other thing").await;
    let all = app.get(TOKEN_A, "/events/search").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.body["total"], 3);
    assert_eq!(all.body["page"], 1);
    assert_eq!(all.body["size"], 20);
    assert_eq!(all.body["items"][0]["aggregateId"], "e-2", "newest first by default");
    let oldest_first = app.get(TOKEN_A, "/events/search?order=asc").await;
    let event = &oldest_first.body["items"][0];
    assert_eq!(event["aggregateId"], "e-1");
    assert_eq!(event["aggregateType"], "Payment");
    assert_eq!(event["metadata"]["organizationId"], ORG_A);
    assert_eq!(event["metadata"]["userId"], USER_A);
    assert!(event["eventId"].is_string() && event["timestamp"].is_string() && event["data"].is_object());

    let created = app.get(TOKEN_A, "/events/search?eventType=PaymentCreated").await;
    assert_eq!(event_types(&created), ["PaymentCreated", "PaymentCreated"]);
    let text = app.get(TOKEN_A, "/events/search?q=other").await;
    assert_eq!(text.body["total"], 1);
    let old = app
        .get(
            TOKEN_A,
            "/events/search?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z",
        )
        .await;
    assert_eq!(old.body["total"], 0);
    let paged = app.get(TOKEN_A, "/events/search?page=2&size=2").await;
    assert_eq!(paged.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(paged.body["totalPages"], 2);
    let clamped = app.get(TOKEN_A, "/events/search?size=100000").await;
    assert_eq!(clamped.body["size"], 100);
}

#[tokio::test]
async fn timeline_and_correlations_follow_the_correlation_id() {
    let app = TestApp::new();
    correlated(&app, "t-1", "checkout-42").await;
    correlated(&app, "t-2", "other").await;
    let timeline = app.get(TOKEN_A, "/events/timeline/checkout-42").await;
    assert_eq!(timeline.status, StatusCode::OK, "{}", timeline.text);
    assert_eq!(timeline.body["correlationId"], "checkout-42");
    assert_eq!(event_types(&timeline), ["PaymentCreated", "PaymentProcessed"]);
    assert!(timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["correlationId"] == "checkout-42"));

    let short = app.get(TOKEN_A, "/events/correlations/checkout-42").await;
    assert_eq!(short.status, StatusCode::OK, "{}", short.text);
    let first = &short.body["items"][0];
    let mut keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["aggregateId", "data", "eventType", "timestamp"]);
    let none = app.get(TOKEN_A, "/events/timeline/unknown").await;
    assert_eq!(none.body["items"], json!([]));
}

#[tokio::test]
async fn statistics_trends_and_heatmap_count_the_organizations_events() {
    let app = TestApp::new();
    correlated(&app, "a-1", "c-1").await;
    app.create(TOKEN_A, "a-2", "1", "EUR", "x").await;
    let stats = app.get(TOKEN_A, "/events/statistics").await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.text);
    assert_eq!(stats.body["total"], 3);
    assert_eq!(stats.body["byOrganization"], json!({ORG_A: 3}));
    assert_eq!(stats.body["byUser"], json!({USER_A: 3}));
    let created = app.get(TOKEN_A, "/events/statistics?eventType=PaymentCreated").await;
    assert_eq!(created.body["total"], 2);

    let trends = app.get(TOKEN_A, "/events/trends?interval=hour").await;
    assert_eq!(trends.status, StatusCode::OK, "{}", trends.text);
    assert_eq!(trends.body["interval"], "hour");
    let total: u64 = trends.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 3);
    let by_default = app.get(TOKEN_A, "/events/trends").await;
    assert_eq!(by_default.body["interval"], "day");
    for interval in ["week", "month"] {
        let reply = app.get(TOKEN_A, &format!("/events/trends?interval={interval}")).await;
        assert_eq!(reply.body["interval"], interval);
    }

    let heatmap = app.get(TOKEN_A, "/events/heatmap").await;
    assert_eq!(heatmap.status, StatusCode::OK, "{}", heatmap.text);
    let cells: u64 = heatmap.body["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(cells, 3);
    let days: u64 = heatmap.body["byDay"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(days, 3);
    let empty = app
        .get(
            TOKEN_A,
            "/events/heatmap?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z",
        )
        .await;
    assert_eq!(empty.body, json!({"cells": [], "byDay": {}}));
}

#[tokio::test]
async fn time_parameters_accept_offsets_and_an_unencoded_plus() {
    let app = TestApp::new();
    app.create(TOKEN_A, "z-1", "1", "EUR", "x").await;
    let encoded = app
        .get(TOKEN_A, "/events/statistics?from=2020-01-01T00:00:00%2B02:00")
        .await;
    assert_eq!(encoded.status, StatusCode::OK, "{}", encoded.text);
    assert_eq!(encoded.body["total"], 1);
    let raw_plus = app
        .get(TOKEN_A, "/events/statistics?from=2020-01-01T00:00:00+02:00")
        .await;
    assert_eq!(raw_plus.status, StatusCode::OK, "{}", raw_plus.text);
    assert_eq!(raw_plus.body, encoded.body);
    let _: Value = raw_plus.body;
}

/// The `(aggregateId, eventType)` of each item.
fn events_of(reply: &common::Reply) -> Vec<(String, String)> {
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["aggregateId"].as_str().unwrap().to_owned(),
                e["eventType"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn search_and_by_type_look_ups_are_newest_first_unless_asked_oldest_first() {
    let app = TestApp::new();
    correlated(&app, "o-1", "c-1").await;
    app.create(TOKEN_A, "o-2", "1", "EUR", "x").await;
    let newest = app.get(TOKEN_A, "/events/search").await;
    let desc = app.get(TOKEN_A, "/events/search?order=desc").await;
    let asc = app.get(TOKEN_A, "/events/search?order=asc").await;
    assert_eq!(desc.body, newest.body, "desc is the default");
    let created = |id: &str| (id.to_owned(), "PaymentCreated".to_owned());
    let processed = ("o-1".to_owned(), "PaymentProcessed".to_owned());
    assert_eq!(events_of(&asc), [created("o-1"), processed.clone(), created("o-2")]);
    assert_eq!(events_of(&desc), [created("o-2"), processed, created("o-1")]);
    let by_type = app.get(TOKEN_A, "/events/search?eventType=PaymentCreated").await;
    assert_eq!(events_of(&by_type), [created("o-2"), created("o-1")]);
    let by_type = app
        .get(TOKEN_A, "/events/search?eventType=PaymentCreated&order=asc")
        .await;
    assert_eq!(events_of(&by_type), [created("o-1"), created("o-2")]);
    // Pages cut the ordered list.
    let second = app.get(TOKEN_A, "/events/search?size=1&page=2").await;
    assert_eq!(events_of(&second), [("o-1".to_owned(), "PaymentProcessed".to_owned())]);
    for order in ["up", "ASC", "newest"] {
        let reply = app.get(TOKEN_A, &format!("/events/search?order={order}")).await;
        assert_eq!(reply.problem(400), "bad_request", "{order}");
        assert_eq!(reply.fields(), ["order"]);
    }
}

#[tokio::test]
async fn an_event_by_its_id_only_in_its_organization() {
    let app = TestApp::new();
    correlated(&app, "i-1", "c-1").await;
    app.create(TOKEN_B, "i-1", "7", "USD", "Theirs").await;
    let ours = app.get(TOKEN_A, "/events/search?order=asc").await;
    let processed = &ours.body["items"][1];
    let id = processed["eventId"].as_str().unwrap();
    let reply = app.get(TOKEN_A, &format!("/events/{id}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(&reply.body, processed, "the same event as the search shows");
    assert_eq!(reply.body["streamId"], format!("{ORG_A}/i-1"));

    let theirs = app.get(TOKEN_B, "/events/search").await;
    let their_id = theirs.body["items"][0]["eventId"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get(TOKEN_A, &format!("/events/{their_id}")).await.problem(404),
        "event_not_found"
    );
    assert_eq!(
        app.get(TOKEN_B, &format!("/events/{id}")).await.problem(404),
        "event_not_found"
    );
    assert_eq!(
        app.get(TOKEN_B, &format!("/events/{their_id}")).await.status,
        StatusCode::OK
    );
    let unknown = app.get(TOKEN_A, "/events/01a206d7-1b23-721f-93d4-d0eea2d35293").await;
    assert_eq!(unknown.problem(404), "event_not_found");
    for malformed in ["not-a-uuid", "01a206d7-1b23-721f-93d4", "12345"] {
        let reply = app.get(TOKEN_A, &format!("/events/{malformed}")).await;
        assert_eq!(reply.problem(400), "bad_request", "{malformed}");
        assert_eq!(reply.fields(), ["eventId"], "{malformed}");
    }
}

#[tokio::test]
async fn to_is_exclusive_and_to_inclusive_takes_the_event_at_the_bound() {
    let app = TestApp::new();
    app.create(TOKEN_A, "b-1", "1", "EUR", "x").await;
    let events = app.get(TOKEN_A, "/events/search").await;
    let at = events.body["items"][0]["timestamp"].as_str().unwrap().to_owned();
    let at = at.replace('+', "%2B");
    let count = |uri: String| {
        let app = &app;
        async move {
            let reply = app.get(TOKEN_A, &uri).await;
            assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.text);
            reply.body["total"].as_u64().unwrap()
        }
    };
    assert_eq!(
        count(format!("/events/search?from={at}&to={at}")).await,
        0,
        "`to` is exclusive"
    );
    assert_eq!(count(format!("/events/search?from={at}&toInclusive={at}")).await, 1);
    assert_eq!(
        count(format!("/events/search?toInclusive={at}")).await,
        1,
        "from defaults to 30 days before"
    );
    assert_eq!(count(format!("/events/statistics?from={at}&to={at}")).await, 0);
    assert_eq!(count(format!("/events/statistics?from={at}&toInclusive={at}")).await, 1);
    let heatmap = app
        .get(TOKEN_A, &format!("/events/heatmap?from={at}&toInclusive={at}"))
        .await;
    assert_eq!(heatmap.body["cells"][0]["count"], 1, "{}", heatmap.text);
    let trends = app.get(TOKEN_A, &format!("/events/trends?from={at}&to={at}")).await;
    assert_eq!(trends.body["items"], json!([]), "{}", trends.text);

    let both = app
        .get(TOKEN_A, &format!("/events/search?to={at}&toInclusive={at}"))
        .await;
    assert_eq!(both.problem(400), "validation_failed");
    assert_eq!(both.fields(), ["toInclusive"]);
    let malformed = app.get(TOKEN_A, "/events/statistics?toInclusive=yesterday").await;
    assert_eq!(malformed.fields(), ["toInclusive"]);
}
