//! R6, the tenant isolation matrix: for every route of [`hive_http::ROUTES`], organization A's
//! token never reads, searches, aggregates, replays, exports or changes organization B's data.
//!
//! The API runs with the query cache on (moka, in process) and B asks every question first, so
//! B's answers are cached when A asks the same questions: a cache key without the tenant would
//! hand B's answer to A. A route added to the table without a row here fails the test.
//!
//! The role dimension (every route × every role, and no token) is in `tenant_matrix/roles.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "tenant_matrix/feeds.rs"]
mod feeds;
#[path = "tenant_matrix/platform.rs"]
mod platform;
#[path = "tenant_matrix/roles.rs"]
mod roles;
#[path = "tenant_matrix/rows.rs"]
mod rows;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::feed::Feed;
use common::{with_cache, Reply, TestApp, TOKEN_A, TOKEN_B};
use hive_http::ROUTES;
use rows::{matrix, Expect, Row};
use serde_json::{json, Value};

/// The correlation id both organizations use.
const SHARED_CORRELATION: &str = "shared-corr";

/// Text that only B's data contains (compared case-insensitively): its organization, its user,
/// its payment ids and descriptions.
const B_MARKERS: &[&str] = &["org-b", "bob", "bravo", "secret", "declined"];

async fn send(
    app: &TestApp,
    token: &str,
    method: &Method,
    uri: &str,
    body: Option<&Value>,
    correlation: &str,
) -> Reply {
    let builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("x-correlation-id", correlation);
    let request = match body {
        Some(body) => builder
            .header("content-type", "application/json")
            .body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    };
    app.send(request.unwrap()).await
}

/// B: `bravo-1` completed (correlation shared with A), `bravo-2` pending, `bravo-3` failed.
/// A: `alpha-1` pending, same correlation id. Answers the id of B's `bravo-1` creation event
/// and of A's `alpha-1` creation event.
async fn seed(app: &TestApp) -> (String, String) {
    let payments = [
        (TOKEN_B, "bravo-1", "Bravo secret hosting"),
        (TOKEN_B, "bravo-2", "Bravo pending"),
        (TOKEN_B, "bravo-3", "Bravo failing"),
        (TOKEN_A, "alpha-1", "Alpha hosting"),
    ];
    for (token, id, description) in payments {
        let body = json!({"paymentId": id, "amount": "10", "currency": "EUR", "description": description,
            "tags": ["bravo-tag"], "metadata": {"project": "bravo-project"}});
        let body = match token {
            TOKEN_A => json!({"paymentId": id, "amount": "10", "currency": "EUR", "description": description}),
            _ => body,
        };
        let reply = send(app, token, &Method::POST, "/payments", Some(&body), SHARED_CORRELATION).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
    let processed = app.post(TOKEN_B, "/payments/bravo-1/process", Value::Null).await;
    assert_eq!(processed.status, StatusCode::OK, "{}", processed.text);
    let failed = app
        .post(
            TOKEN_B,
            "/payments/bravo-3/fail",
            json!({"error": "Bravo card declined"}),
        )
        .await;
    assert_eq!(failed.status, StatusCode::OK, "{}", failed.text);
    let first_event = |token: &'static str, id: &'static str| async move {
        let history = app.get(token, &format!("/payments/{id}/history")).await;
        history.body["items"][0]["eventId"].as_str().unwrap().to_owned()
    };
    (
        first_event(TOKEN_B, "bravo-1").await,
        first_event(TOKEN_A, "alpha-1").await,
    )
}

/// What B sees of its own payments, to compare before and after A's attempts.
async fn b_view(app: &TestApp) -> Vec<Value> {
    let mut views = Vec::new();
    for id in ["bravo-1", "bravo-2", "bravo-3"] {
        let payment = app.get(TOKEN_B, &format!("/payments/{id}")).await;
        assert_eq!(payment.status, StatusCode::OK, "{}", payment.text);
        let history = app.get(TOKEN_B, &format!("/payments/{id}/history")).await;
        views.push(json!([payment.body, history.body]));
    }
    views
}

/// `reply` holds none of B's markers; a problem may echo the id A sent (`bravo-1`), so for
/// problems only the markers A never sends count (B's organization, user, descriptions, error).
fn assert_no_b_data(reply: &Reply, what: &str) {
    let text = reply.text.to_lowercase();
    let markers: &[&str] = match reply.status.is_client_error() {
        true => &["org-b", "bob", "secret", "declined"],
        false => B_MARKERS,
    };
    for marker in markers {
        assert!(!text.contains(marker), "{what}: B's `{marker}` leaked: {}", reply.text);
    }
}

#[tokio::test]
async fn organization_a_never_reaches_organization_b_through_any_route_even_cached() {
    let app = with_cache();
    let (b_event, a_event) = seed(&app).await;
    let rows = matrix(&b_event, &a_event);
    let covered: BTreeSet<(String, &str)> = rows.iter().map(|r| (r.route.0.to_string(), r.route.1)).collect();
    let all: BTreeSet<(String, &str)> = ROUTES.iter().map(|r| (r.method.to_string(), r.path)).collect();
    let missing: Vec<_> = all.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the tenant matrix: {missing:?}"
    );
    let unknown: Vec<_> = covered.difference(&all).collect();
    assert!(
        unknown.is_empty(),
        "rows for routes that are not in ROUTES: {unknown:?}"
    );

    // B's group `shared` holds one parked event of B's, and is at B's last event: A's group
    // of the same name must not be.
    let mut b_consumer = Feed::open(&app, TOKEN_B, "/subscriptions/shared/events?consumer=b", None).await;
    let parked = b_consumer.next().await.id;
    for _ in 0..hive_http::GroupOptions::default().max_deliveries {
        let refused = app
            .post(
                TOKEN_B,
                "/subscriptions/shared/nack",
                json!({"position": parked, "consumer": "b"}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::OK, "{}", refused.text);
        if refused.body["parked"] == json!(false) {
            // Sent again, after B's other events already on their way.
            while b_consumer.next().await.id != parked {}
        }
    }
    drop(b_consumer);
    let head = app.get(TOKEN_B, "/subscriptions/shared/events?live=false").await;
    let b_position = head.body.as_array().unwrap().last().unwrap()["globalPosition"].clone();
    let b_ack = app
        .post(TOKEN_B, "/subscriptions/shared/ack", json!({"position": b_position}))
        .await;
    assert_eq!(b_ack.body["position"], b_position, "{}", b_ack.text);
    let before = b_view(&app).await;
    // B asks every question first: its answers are in the cache when A asks (B, a writer, may
    // not ask for every organization's analytics either, nor see A's event).
    let b_may_ask = |r: &&Row| {
        r.route.0 == Method::GET && !matches!(r.expect, Expect::PlatformOnly) && !r.uri.ends_with(a_event.as_str())
    };
    for row in rows.iter().filter(b_may_ask) {
        let reply = app.get(TOKEN_B, &row.uri).await;
        assert_eq!(reply.status, StatusCode::OK, "B {}: {}", row.uri, reply.text);
    }
    let mut sent = 0;
    for pass in ["cold for A", "warm for A"] {
        for row in &rows {
            let what = format!("{pass}: A {} {}", row.route.0, row.uri);
            let reply = send(&app, TOKEN_A, &row.route.0, &row.uri, row.body.as_ref(), "a-probe").await;
            sent += 1;
            match &row.expect {
                Expect::Hidden(code) => assert_eq!(reply.problem(404), *code, "{what}"),
                Expect::Forbidden => assert_eq!(reply.problem(403), "forbidden", "{what}"),
                Expect::PlatformOnly => {
                    assert_eq!(reply.problem(403), "insufficient_role", "{what}");
                    assert_eq!(reply.body["requiredRole"], "platform", "{what}");
                }
                Expect::Own(check) => {
                    assert_eq!(reply.status, StatusCode::OK, "{what}: {}", reply.text);
                    check(&reply.body);
                }
                Expect::Conflict(code) => assert_eq!(reply.problem(409), *code, "{what}"),
            }
            assert_no_b_data(&reply, &what);
        }
    }
    assert_eq!(sent, rows.len() * 2);
    let metrics = app.get("", "/metrics").await.text;
    let hits: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("hive_cache_requests_total") && l.contains("result=\"hit\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(
        hits > 0.0,
        "the query cache answered nothing: the matrix did not run cached\n{metrics}"
    );
    assert_eq!(b_view(&app).await, before, "A's attempts changed B's payments");
    let b_parked = app.get(TOKEN_B, "/subscriptions/shared/parked").await;
    assert_eq!(
        b_parked.body[0]["position"],
        json!(parked),
        "A's attempts changed B's parked events"
    );
}
