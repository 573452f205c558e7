//! R6, the tenant isolation matrix: for every route of [`hive_http::ROUTES`], organization A's
//! token never reads, searches, aggregates, replays, exports or changes organization B's data.
//!
//! The API runs with the query cache on (moka, in process) and B asks every question first, so
//! B's answers are cached when A asks the same questions: a cache key without the tenant would
//! hand B's answer to A. A route added to the table without a row here fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{Options, Reply, TestApp, ORG_A, TOKEN_A, TOKEN_B};
use hive_application::cache::{Cache, CacheConfig, QueryCache};
use hive_cache_moka::{MokaCache, MokaCacheConfig};
use hive_http::ROUTES;
use serde_json::{json, Value};

/// The correlation id both organizations use.
const SHARED_CORRELATION: &str = "shared-corr";

/// Text that only B's data contains (compared case-insensitively): its organization, its user,
/// its payment ids and descriptions.
const B_MARKERS: &[&str] = &["org-b", "bob", "bravo", "secret", "declined"];

/// What A must get from one request.
enum Expect {
    /// `404` with this problem code.
    Hidden(&'static str),
    /// `403` (acting for B).
    Forbidden,
    /// A `4xx` problem (the id is taken), B's payment untouched.
    Refused,
    /// `200`, and this check of the body holds (B's markers are checked for every `200`).
    Own(fn(&Value)),
}

/// One request of the matrix: the route of [`ROUTES`] it exercises, the URI, the body.
struct Row {
    route: (Method, &'static str),
    uri: String,
    body: Option<Value>,
    expect: Expect,
}

fn row(method: Method, template: &'static str, uri: &str, body: Option<Value>, expect: Expect) -> Row {
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

/// Every request A sends, aimed at B's data.
fn matrix() -> Vec<Row> {
    use Expect::{Forbidden, Hidden, Own, Refused};
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
            create(json!({"paymentId": "bravo-1"})),
            Refused,
        ),
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

fn with_cache() -> TestApp {
    let l1: Arc<dyn Cache> = Arc::new(MokaCache::new(MokaCacheConfig::default()));
    TestApp::with(Options {
        cache: Some(QueryCache::new(vec![l1], CacheConfig::default())),
        ..Options::default()
    })
}

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
/// A: `alpha-1` pending, same correlation id.
async fn seed(app: &TestApp) {
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
    let rows = matrix();
    let covered: BTreeSet<(String, &str)> = rows.iter().map(|r| (r.route.0.to_string(), r.route.1)).collect();
    let all: BTreeSet<(String, &str)> = ROUTES.iter().map(|(m, p)| (m.to_string(), *p)).collect();
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

    let app = with_cache();
    seed(&app).await;
    let before = b_view(&app).await;
    // B asks every question first: its answers are in the cache when A asks.
    for row in rows.iter().filter(|r| r.route.0 == Method::GET) {
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
                Expect::Refused => {
                    assert!(reply.status.is_client_error(), "{what}: {}", reply.text);
                    reply.problem(reply.status.as_u16());
                }
                Expect::Own(check) => {
                    assert_eq!(reply.status, StatusCode::OK, "{what}: {}", reply.text);
                    check(&reply.body);
                }
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
}

#[tokio::test]
async fn a_taken_payment_id_does_not_reveal_its_owner() {
    let app = with_cache();
    seed(&app).await;
    let reply = app
        .post(
            TOKEN_A,
            "/payments",
            json!({"paymentId": "bravo-1", "amount": "1", "currency": "EUR", "description": "mine"}),
        )
        .await;
    let code = reply.problem(reply.status.as_u16()).to_owned();
    assert_no_b_data(&reply, "create with B's id");
    let own = app
        .post(
            TOKEN_A,
            "/payments",
            json!({"paymentId": "alpha-1", "amount": "1", "currency": "EUR", "description": "mine"}),
        )
        .await;
    assert_eq!(
        (own.status, own.problem(own.status.as_u16())),
        (reply.status, code.as_str()),
        "an id taken by B answers exactly like one taken by A"
    );
}
