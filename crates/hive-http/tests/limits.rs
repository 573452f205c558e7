//! Limits on hostile input: bodies over the configured limit are `413` on every command route,
//! huge paging parameters are clamped (never a `400`, never a `500`), negative or garbage ones
//! are a `400` naming them, and JSON nested deeper than 32 levels is a `400`, never a crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{raw, Options, TestApp, TOKEN_A};
use hive_http::HttpConfig;
use serde_json::json;

/// The deepest nesting of arrays and objects a request body may have (the README's figure).
const MAX_JSON_DEPTH: usize = 32;

/// Billing's largest page (`hive_billing::validate::MAX_PAGE_SIZE`), which the API clamps to.
const MAX_PAGE_SIZE: u64 = 100;

/// Every command route and a body it accepts.
fn command_routes() -> [(&'static str, serde_json::Value); 4] {
    [
        (
            "/payments",
            json!({"paymentId": "l-new", "amount": "1", "currency": "EUR", "description": "x"}),
        ),
        ("/payments/l-1/process", json!({})),
        ("/payments/l-1/fail", json!({"error": "x"})),
        ("/payments/l-1/refund", json!({"amount": "1"})),
    ]
}

fn app_with_limit(body_limit: usize) -> TestApp {
    TestApp::with(Options {
        config: HttpConfig {
            body_limit,
            ..HttpConfig::default()
        },
        ..Options::default()
    })
}

/// `body` padded with an ignored `padding` member to at least `len` bytes.
fn padded(body: &serde_json::Value, len: usize) -> String {
    let mut body = body.clone();
    body["padding"] = json!("p".repeat(len));
    body.to_string()
}

#[tokio::test]
async fn every_command_route_answers_413_past_the_configured_body_limit() {
    for limit in [512, 4096] {
        let app = app_with_limit(limit);
        app.create(TOKEN_A, "l-1", "10", "EUR", "x").await;
        for (uri, body) in command_routes() {
            let over = padded(&body, limit + 1);
            let reply = app
                .send(raw(Method::POST, uri, TOKEN_A, "application/json", over.clone()))
                .await;
            assert_eq!(reply.problem(413), "payload_too_large", "{uri} limit {limit}");
            let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
                over.as_bytes().chunks(97).map(|c| Ok(c.to_vec())).collect();
            let streamed = Body::from_stream(futures::stream::iter(chunks));
            let reply = app
                .send(raw(Method::POST, uri, TOKEN_A, "application/json", streamed))
                .await;
            assert_eq!(
                reply.problem(413),
                "payload_too_large",
                "{uri} limit {limit}, chunked without a length"
            );
        }
        let nothing_created = app.get(TOKEN_A, "/payments/l-new").await;
        assert_eq!(nothing_created.problem(404), "payment_not_found");
    }
}

#[tokio::test]
async fn a_body_just_under_the_limit_is_accepted() {
    let app = app_with_limit(4096);
    let body = json!({"paymentId": "l-ok", "amount": "1", "currency": "EUR", "description": "x"});
    let text = padded(&body, 3900);
    assert!(text.len() <= 4096);
    let reply = app
        .send(raw(Method::POST, "/payments", TOKEN_A, "application/json", text))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}

#[tokio::test]
async fn huge_paging_parameters_are_clamped() {
    let app = TestApp::new();
    for i in 0..3 {
        app.create(TOKEN_A, &format!("c-{i}"), "10", "EUR", "clamp").await;
    }
    let huge = [
        "101",
        "1000",
        "1001",
        "4294967296",
        "18446744073709551615",
        "99999999999999999999999999",
    ];
    for value in huge {
        let list = app.get(TOKEN_A, &format!("/payments?limit={value}")).await;
        assert_eq!(list.status, StatusCode::OK, "limit={value}: {}", list.text);
        assert_eq!(list.body["limit"], MAX_PAGE_SIZE, "limit={value}");
        assert_eq!(list.body["items"].as_array().unwrap().len(), 3);
        for route in ["/payments/search", "/events/search"] {
            let page = app.get(TOKEN_A, &format!("{route}?size={value}")).await;
            assert_eq!(page.status, StatusCode::OK, "{route}?size={value}: {}", page.text);
            assert_eq!(page.body["size"], MAX_PAGE_SIZE, "{route}?size={value}");
            assert_eq!(page.body["total"], 3, "{route}?size={value}");
            let far = app.get(TOKEN_A, &format!("{route}?page={value}")).await;
            assert_eq!(far.status, StatusCode::OK, "{route}?page={value}: {}", far.text);
            assert_eq!(far.body["items"], json!([]), "{route}?page={value}");
            assert_eq!(far.body["total"], 3, "{route}?page={value}");
        }
        let offset = app.get(TOKEN_A, &format!("/payments?offset={value}")).await;
        assert_eq!(offset.status, StatusCode::OK, "offset={value}: {}", offset.text);
        assert_eq!(offset.body["items"], json!([]));
        let suggestions = app
            .get(TOKEN_A, &format!("/payments/suggestions?q=cl&size={value}"))
            .await;
        assert_eq!(suggestions.status, StatusCode::OK, "{}", suggestions.text);
        assert_eq!(suggestions.body["items"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn negative_or_garbage_paging_parameters_are_400_naming_them() {
    let app = TestApp::new();
    let garbage = [
        "-1",
        "-99999999999999999999999",
        "1.5",
        "1e3",
        "0x10",
        "ten",
        "١٢",
        "1 2",
    ];
    let routes = [
        ("/payments", "limit"),
        ("/payments", "offset"),
        ("/payments/search", "size"),
        ("/payments/search", "page"),
        ("/events/search", "size"),
        ("/events/search", "page"),
        ("/payments/suggestions?q=x&", "size"),
        ("/payments/p/replay", "version"),
    ];
    for (route, name) in routes {
        for value in garbage {
            let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            let separator = if route.ends_with('&') { "" } else { "?" };
            let uri = format!("{route}{separator}{name}={encoded}");
            let reply = app.get(TOKEN_A, &uri).await;
            assert_eq!(reply.problem(400), "bad_request", "{uri}");
            assert_eq!(reply.fields(), [name], "{uri}");
        }
    }
    for (uri, field) in [
        ("/payments?limit=0", "limit"),
        ("/payments/search?size=0", "size"),
        ("/payments/search?page=0", "page"),
        ("/events/search?page=0", "page"),
    ] {
        let reply = app.get(TOKEN_A, uri).await;
        assert_eq!(reply.problem(400), "validation_failed", "{uri}");
        assert_eq!(reply.fields(), [field], "{uri}");
    }
}

/// A create body whose ignored `extra` member nests `depth - 1` arrays (the body itself is
/// the first level).
fn nested_body(depth: usize) -> String {
    let inner = depth - 1;
    format!(
        "{{\"amount\":\"1\",\"currency\":\"EUR\",\"description\":\"x\",\"extra\":{}{}}}",
        "[".repeat(inner),
        "]".repeat(inner)
    )
}

#[tokio::test]
async fn json_nesting_is_refused_past_32_levels_on_every_command_route() {
    let app = app_with_limit(1 << 20);
    app.create(TOKEN_A, "l-1", "10", "EUR", "x").await;
    let at_limit = app
        .send(raw(
            Method::POST,
            "/payments",
            TOKEN_A,
            "application/json",
            nested_body(MAX_JSON_DEPTH),
        ))
        .await;
    assert_eq!(at_limit.status, StatusCode::CREATED, "{}", at_limit.text);
    for depth in [MAX_JSON_DEPTH + 1, 129, 10_000, 100_000] {
        for (uri, _) in command_routes() {
            let arrays = format!("{{\"amount\":{}{}}}", "[".repeat(depth - 1), "]".repeat(depth - 1));
            let objects = format!("{}{}", "{\"a\":".repeat(depth), "}".repeat(depth));
            for body in [nested_body(depth), arrays, objects] {
                let reply = app
                    .send(raw(Method::POST, uri, TOKEN_A, "application/json", body))
                    .await;
                assert_eq!(reply.problem(400), "malformed_json", "{uri} depth {depth}");
                assert!(reply.text.contains("nest deeper than 32"), "{}", reply.text);
            }
        }
    }
    let unbalanced = format!("{{\"amount\":{}", "[".repeat(10_000));
    let reply = app
        .send(raw(Method::POST, "/payments", TOKEN_A, "application/json", unbalanced))
        .await;
    assert_eq!(reply.problem(400), "malformed_json");
    let still_serving = app.get(TOKEN_A, "/payments/l-1").await;
    assert_eq!(still_serving.status, StatusCode::OK);
}
