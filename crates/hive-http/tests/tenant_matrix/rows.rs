//! The rows of the tenant matrix: every request organization A sends, aimed at B's data, and
//! what A must get.

use axum::http::Method;
use serde_json::{json, Value};

use crate::common::ORG_A;

/// What A must get from one request.
pub(crate) enum Expect {
    /// `404` with this problem code.
    Hidden(&'static str),
    /// `403` (acting for B).
    Forbidden,
    /// `403` `insufficient_role`: every organization's analytics need the `platform` role,
    /// which A's token (a writer) lacks.
    PlatformOnly,
    /// `200`, and this check of the body holds (B's markers are checked for every `200`).
    Own(fn(&Value)),
    /// `409` with this problem code (A's group holds nothing of B's).
    Conflict(&'static str),
}

/// One request of the matrix: the route of [`hive_http::ROUTES`] it exercises, the URI, the body.
pub(crate) struct Row {
    pub(crate) route: (Method, &'static str),
    pub(crate) uri: String,
    pub(crate) body: Option<Value>,
    pub(crate) expect: Expect,
}

pub(crate) fn row(method: Method, template: &'static str, uri: &str, body: Option<Value>, expect: Expect) -> Row {
    Row {
        route: (method, template),
        uri: uri.to_owned(),
        body,
        expect,
    }
}

fn count_items(body: &Value, key: &str) -> usize {
    body[key].as_array().unwrap().len()
}

/// Every request A sends, aimed at B's data (`b_event`: an event id of B's, `a_event`: A's).
pub(crate) fn matrix(b_event: &str, a_event: &str) -> Vec<Row> {
    let mut rows = payment_and_event_rows(b_event, a_event);
    rows.extend(crate::feeds::rows());
    rows
}

/// The rows of the payment and event routes.
fn payment_and_event_rows(b_event: &str, a_event: &str) -> Vec<Row> {
    use Expect::{Forbidden, Hidden, Own, PlatformOnly};
    let (get, post) = (Method::GET, Method::POST);
    let create = |extra: Value| {
        let mut body = json!({"amount": "1", "currency": "EUR", "description": "mine"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        Some(body)
    };
    vec![
        row(
            post.clone(),
            "/payments",
            "/payments",
            create(json!({"organizationId": "org-b"})),
            Forbidden,
        ),
        row(
            post.clone(),
            "/payments",
            "/payments",
            create(json!({"userId": "bob"})),
            Forbidden,
        ),
        row(
            get.clone(),
            "/payments",
            "/payments",
            None,
            Own(|b| assert_eq!(b["total"], 1)),
        ),
        row(
            get.clone(),
            "/payments",
            "/payments?limit=100&offset=0",
            None,
            Own(|b| assert_eq!(count_items(b, "items"), 1)),
        ),
        row(
            get.clone(),
            "/payments/search",
            "/payments/search?q=bravo",
            None,
            Own(|b| assert_eq!(b["total"], 0)),
        ),
        row(
            get.clone(),
            "/payments/search",
            "/payments/search?q=bravo-project",
            None,
            Own(|b| assert_eq!(b["total"], 0)),
        ),
        row(
            get.clone(),
            "/payments/search",
            "/payments/search?toInclusive=2100-01-01T00:00:00Z",
            None,
            Own(|b| assert_eq!(b["total"], 0, "A's one payment is pending: never processed")),
        ),
        row(
            get.clone(),
            "/payments/search",
            "/payments/search?status=completed",
            None,
            Own(|b| assert_eq!(b["total"], 0)),
        ),
        row(
            get.clone(),
            "/payments/search",
            "/payments/search",
            None,
            Own(|b| assert_eq!(b["total"], 1)),
        ),
        row(
            get.clone(),
            "/payments/suggestions",
            "/payments/suggestions?q=bra",
            None,
            Own(|b| assert_eq!(count_items(b, "items"), 0)),
        ),
        row(
            get.clone(),
            "/payments/statistics",
            "/payments/statistics",
            None,
            Own(|b| {
                assert_eq!(
                    b["byStatus"].as_object().unwrap().keys().collect::<Vec<_>>(),
                    ["pending"]
                );
                assert_eq!(b["byStatus"]["pending"]["EUR"]["count"], 1);
            }),
        ),
        row(
            get.clone(),
            "/payments/trends",
            "/payments/trends",
            None,
            Own(|b| {
                assert_eq!(count_items(b, "daily"), 1);
                assert_eq!(b["daily"][0]["count"], 1);
            }),
        ),
        row(
            get.clone(),
            "/payments/{id}",
            "/payments/bravo-1",
            None,
            Hidden("payment_not_found"),
        ),
        row(
            get.clone(),
            "/payments/{id}",
            "/payments/bravo-2",
            None,
            Hidden("payment_not_found"),
        ),
        row(
            post.clone(),
            "/payments/{id}/process",
            "/payments/bravo-2/process",
            None,
            Hidden("payment_not_found"),
        ),
        row(
            post.clone(),
            "/payments/{id}/fail",
            "/payments/bravo-2/fail",
            Some(json!({"error": "x"})),
            Hidden("payment_not_found"),
        ),
        row(
            post.clone(),
            "/payments/{id}/refund",
            "/payments/bravo-1/refund",
            Some(json!({"amount": "1"})),
            Hidden("payment_not_found"),
        ),
        row(
            get.clone(),
            "/payments/{id}/history",
            "/payments/bravo-1/history",
            None,
            Hidden("payment_not_found"),
        ),
        row(
            get.clone(),
            "/payments/{id}/history",
            "/payments/bravo-1/history?fromVersion=2",
            None,
            Hidden("payment_not_found"),
        ),
        row(
            get.clone(),
            "/payments/{id}/replay",
            "/payments/bravo-1/replay",
            None,
            Hidden("payment_not_found"),
        ),
        row(
            get.clone(),
            "/payments/{id}/replay",
            "/payments/bravo-1/replay?version=1",
            None,
            Hidden("payment_not_found"),
        ),
        row(
            get.clone(),
            "/payments/{id}/replay",
            "/payments/bravo-1/replay?at=2100-01-01T00:00:00Z",
            None,
            Hidden("payment_not_found"),
        ),
        row(
            get.clone(),
            "/events/search",
            "/events/search",
            None,
            Own(|b| assert_eq!(b["total"], 1)),
        ),
        row(
            get.clone(),
            "/events/search",
            "/events/search?q=bravo",
            None,
            Own(|b| assert_eq!(b["total"], 0)),
        ),
        row(
            get.clone(),
            "/events/search",
            "/events/search?eventType=PaymentProcessed",
            None,
            Own(|b| assert_eq!(b["total"], 0)),
        ),
        row(
            get.clone(),
            "/events/search",
            "/events/search?order=asc&from=2000-01-01T00:00:00Z&toInclusive=2100-01-01T00:00:00Z",
            None,
            Own(|b| assert_eq!(b["total"], 1)),
        ),
        row(
            get.clone(),
            "/events/search",
            "/events/search?order=desc&q=bravo-project",
            None,
            Own(|b| assert_eq!(b["total"], 0)),
        ),
        row(
            get.clone(),
            "/events/{eventId}",
            &format!("/events/{b_event}"),
            None,
            Hidden("event_not_found"),
        ),
        row(
            get.clone(),
            "/events/{eventId}",
            &format!("/events/{a_event}"),
            None,
            Own(|b| assert_eq!(b["aggregateId"], "alpha-1")),
        ),
        row(
            get.clone(),
            "/events/timeline/{correlationId}",
            "/events/timeline/shared-corr",
            None,
            Own(only_alpha),
        ),
        row(
            get.clone(),
            "/events/correlations/{correlationId}",
            "/events/correlations/shared-corr",
            None,
            Own(only_alpha),
        ),
        row(
            get.clone(),
            "/events/statistics",
            "/events/statistics",
            None,
            Own(|b| {
                assert_eq!(b["total"], 1);
                assert_eq!(b["byOrganization"], json!({ORG_A: 1}));
            }),
        ),
        row(
            get.clone(),
            "/events/statistics",
            "/events/statistics?eventType=PaymentProcessed",
            None,
            Own(|b| assert_eq!(b["total"], 0)),
        ),
        row(
            get.clone(),
            "/events/statistics",
            "/events/statistics?scope=organization&from=2000-01-01T00:00:00Z&toInclusive=2100-01-01T00:00:00Z",
            None,
            Own(|b| assert_eq!(b["byOrganization"], json!({ORG_A: 1}))),
        ),
        row(
            get.clone(),
            "/events/statistics",
            "/events/statistics?scope=platform",
            None,
            PlatformOnly,
        ),
        row(
            get.clone(),
            "/events/trends",
            "/events/trends?scope=platform&interval=hour",
            None,
            PlatformOnly,
        ),
        row(
            get.clone(),
            "/events/heatmap",
            "/events/heatmap?scope=platform",
            None,
            PlatformOnly,
        ),
        row(
            get.clone(),
            "/events/trends",
            "/events/trends",
            None,
            Own(|b| {
                let total: u64 = b["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["count"].as_u64().unwrap())
                    .sum();
                assert_eq!(total, 1);
            }),
        ),
        row(
            get.clone(),
            "/events/heatmap",
            "/events/heatmap",
            None,
            Own(|b| {
                let total: u64 = b["cells"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["count"].as_u64().unwrap())
                    .sum();
                assert_eq!(total, 1);
            }),
        ),
        row(get.clone(), "/healthz", "/healthz", None, Own(|_| {})),
        row(get.clone(), "/readyz", "/readyz", None, Own(|_| {})),
        row(get.clone(), "/metrics", "/metrics", None, Own(|_| {})),
        row(get, "/openapi.json", "/openapi.json", None, Own(|_| {})),
    ]
}

/// A timeline or correlation answer holding A's one event only.
fn only_alpha(body: &Value) {
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{body}");
    assert_eq!(items[0]["aggregateId"], "alpha-1");
}
