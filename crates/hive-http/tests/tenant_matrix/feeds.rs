//! The rows of the tenant matrix for `/subscriptions/…`: A's feed, checkpoint, ack, refusals
//! and parked events of the group name B uses too (B's `shared` group is at B's last event
//! and holds one parked event of B's).

use axum::http::Method;
use serde_json::{json, Value};

use crate::common::ORG_A;
use crate::rows::{row, Expect, Row};

/// A's feed: some events, every one of organization A.
fn only_organization_a(body: &Value) {
    let events = body.as_array().unwrap();
    assert!(!events.is_empty(), "A's own events are missing");
    for event in events {
        assert_eq!(event["metadata"]["organizationId"], ORG_A, "{event}");
    }
}

/// A's requests to the subscription routes.
pub(crate) fn rows() -> Vec<Row> {
    use Expect::{Conflict, Own, PlatformOnly};
    let (get, post) = (Method::GET, Method::POST);
    vec![
        row(
            get.clone(),
            "/subscriptions/{group}/events",
            "/subscriptions/shared/events?live=false",
            None,
            Own(only_organization_a),
        ),
        row(
            get.clone(),
            "/subscriptions/{group}/events",
            "/subscriptions/shared/events?live=false&from=0&eventType=PaymentCreated,PaymentProcessed,PaymentFailed",
            None,
            Own(only_organization_a),
        ),
        row(
            get.clone(),
            "/subscriptions/{group}/events",
            "/subscriptions/shared/events?live=false&scope=platform",
            None,
            PlatformOnly,
        ),
        row(
            post.clone(),
            "/subscriptions/{group}/ack",
            "/subscriptions/shared/ack",
            Some(json!({"position": 1})),
            Own(|b| assert_eq!(b["position"], 1, "{b}")),
        ),
        row(
            post.clone(),
            "/subscriptions/{group}/ack",
            "/subscriptions/shared/ack?scope=platform",
            Some(json!({"position": 1})),
            PlatformOnly,
        ),
        row(
            get.clone(),
            "/subscriptions/{group}",
            "/subscriptions/shared",
            None,
            Own(|b| assert_eq!(b["position"], 1, "B's checkpoint of its own `shared` group: {b}")),
        ),
        row(
            get.clone(),
            "/subscriptions/{group}",
            "/subscriptions/shared?scope=platform",
            None,
            PlatformOnly,
        ),
        row(
            post.clone(),
            "/subscriptions/{group}/nack",
            "/subscriptions/shared/nack",
            Some(json!({"position": 1})),
            Conflict(hive_http::NOT_IN_FLIGHT),
        ),
        row(
            get.clone(),
            "/subscriptions/{group}/parked",
            "/subscriptions/shared/parked",
            None,
            Own(|b| assert_eq!(b, &json!([]), "B's parked event is B's")),
        ),
        row(
            get.clone(),
            "/subscriptions/{group}/parked",
            "/subscriptions/shared/parked?scope=platform",
            None,
            PlatformOnly,
        ),
        row(
            post.clone(),
            "/subscriptions/{group}/parked/replay",
            "/subscriptions/shared/parked/replay",
            Some(json!({})),
            Own(|b| assert_eq!(b["count"], 0, "{b}")),
        ),
        row(
            post.clone(),
            "/subscriptions/{group}/parked/skip",
            "/subscriptions/shared/parked/skip",
            Some(json!({})),
            Own(|b| assert_eq!(b["count"], 0, "{b}")),
        ),
    ]
}
