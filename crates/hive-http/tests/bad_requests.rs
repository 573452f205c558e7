//! Malformed requests: 400 naming the field, 415, and never a 500 for client input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{raw, request, Options, TestApp, TOKEN_A};
use hive_http::HttpConfig;
use serde_json::{json, Value};

fn create_body(id: &str) -> Value {
    json!({"paymentId": id, "amount": "10", "currency": "EUR", "description": "x"})
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = TestApp::new();
    let reply = app
        .send(raw(
            Method::POST,
            "/payments",
            TOKEN_A,
            "application/json",
            "{\"amount\": ",
        ))
        .await;
    assert_eq!(reply.problem(400), "malformed_json");
    assert_eq!(reply.fields(), ["body"]);
    let trailing = app
        .send(raw(
            Method::POST,
            "/payments/x/fail",
            TOKEN_A,
            "application/json",
            "{\"error\":\"e\"} x",
        ))
        .await;
    assert_eq!(trailing.problem(400), "malformed_json");
}

#[tokio::test]
async fn a_field_of_the_wrong_type_or_missing_is_400_naming_it() {
    let app = TestApp::new();
    let wrong = app
        .post(
            TOKEN_A,
            "/payments",
            json!({"amount": true, "currency": "EUR", "description": "x"}),
        )
        .await;
    assert_eq!(wrong.problem(400), "bad_request");
    assert_eq!(wrong.fields(), ["amount"]);
    let missing = app
        .post(TOKEN_A, "/payments", json!({"amount": "1", "description": "x"}))
        .await;
    assert_eq!(missing.problem(400), "bad_request");
    assert_eq!(missing.fields(), ["currency"]);
    let tag = app
        .post(
            TOKEN_A,
            "/payments",
            json!({"amount": "1", "currency": "EUR", "description": "x", "tags": ["a", 3]}),
        )
        .await;
    assert_eq!(tag.fields(), ["tags[1]"]);
    let refund = app.post(TOKEN_A, "/payments/p/refund", json!({"amount": "1,5"})).await;
    assert_eq!(refund.fields(), ["amount"]);
}

#[tokio::test]
async fn invalid_values_are_400_naming_the_http_field() {
    let app = TestApp::new();
    let currency = app
        .post(
            TOKEN_A,
            "/payments",
            json!({"amount": "1", "currency": "XYZ", "description": "x"}),
        )
        .await;
    assert_eq!(currency.problem(400), "validation_failed");
    assert_eq!(currency.fields(), ["currency"]);
    let amount = app
        .post(
            TOKEN_A,
            "/payments",
            json!({"amount": "-1", "currency": "EUR", "description": "x"}),
        )
        .await;
    assert_eq!(amount.fields(), ["amount"]);
    app.create(TOKEN_A, "p-1", "10", "EUR", "x").await;
    app.post(TOKEN_A, "/payments/p-1/process", Value::Null).await;
    let refund = app.post(TOKEN_A, "/payments/p-1/refund", json!({"amount": "0"})).await;
    assert_eq!(refund.problem(400), "validation_failed");
    assert_eq!(
        refund.fields(),
        ["amount"],
        "billing's refundAmount is the body's amount"
    );
    let id = app.get(TOKEN_A, "/payments/bad%20id").await;
    assert_eq!(id.problem(400), "validation_failed");
    assert_eq!(id.fields(), ["id"]);
    let reserved = app
        .post(
            TOKEN_A,
            "/payments",
            json!({"amount": "1", "currency": "EUR", "description": "x", "metadata": {"organizationId": "org-b"}}),
        )
        .await;
    assert_eq!(reserved.problem(400), "bad_request");
    assert_eq!(reserved.fields(), ["metadata.organizationId"]);
}

#[tokio::test]
async fn bad_query_parameters_are_400_naming_the_parameter() {
    let app = TestApp::new();
    let cases = [
        ("/payments?limit=abc", "limit"),
        ("/payments?limit=0", "limit"),
        ("/payments?offset=-1", "offset"),
        ("/payments/search?status=done", "status"),
        ("/payments/search?currency=EUR,nope", "currency"),
        ("/payments/search?minAmount=ten", "minAmount"),
        ("/payments/search?page=0", "page"),
        ("/payments/search?from=yesterday", "from"),
        ("/payments/suggestions", "q"),
        ("/payments/statistics?from=2024-13-01", "from"),
        ("/payments/trends?to=2024-01-01", "to"),
        (
            "/payments/statistics?from=2024-02-01T00:00:00Z&to=2024-01-01T00:00:00Z",
            "from",
        ),
        ("/payments/p/replay?version=x", "version"),
        ("/payments/p/replay?at=noon", "at"),
        ("/payments/p/replay?version=1&at=2024-01-01T00:00:00Z", "at"),
        ("/events/search?size=x", "size"),
        ("/events/trends?interval=fortnight", "interval"),
        ("/events/heatmap?to=later", "to"),
        ("/events/statistics?eventType=x&from=tomorrow", "from"),
    ];
    for (uri, field) in cases {
        let reply = app.get(TOKEN_A, uri).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}: {}", reply.text);
        reply.problem(400);
        assert_eq!(reply.fields(), [field], "{uri}");
        assert!(reply.body["detail"].as_str().unwrap().contains(field), "{uri}");
    }
}

#[tokio::test]
async fn deep_json_nesting_is_400() {
    let app = TestApp::new();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let body = format!("{{\"amount\":\"1\",\"currency\":\"EUR\",\"description\":\"x\",\"extra\":{deep}}}");
    let config = HttpConfig {
        body_limit: 1 << 20,
        ..HttpConfig::default()
    };
    let app_big = TestApp::with(Options {
        config,
        ..Options::default()
    });
    for app in [&app, &app_big] {
        let reply = app
            .send(raw(
                Method::POST,
                "/payments",
                TOKEN_A,
                "application/json",
                body.clone(),
            ))
            .await;
        if reply.status == StatusCode::PAYLOAD_TOO_LARGE {
            continue;
        }
        assert_eq!(reply.problem(400), "malformed_json");
        assert!(reply.text.contains("nest deeper"), "{}", reply.text);
    }
    let refund = format!("{{\"amount\":{deep}}}");
    let reply = app_big
        .send(raw(
            Method::POST,
            "/payments/p/refund",
            TOKEN_A,
            "application/json",
            refund,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = TestApp::new();
    let reply = app
        .send(raw(
            Method::POST,
            "/payments",
            TOKEN_A,
            "text/plain",
            create_body("p").to_string(),
        ))
        .await;
    assert_eq!(reply.problem(415), "unsupported_media_type");
    let none = app.send(request(Method::POST, "/payments/p/fail", TOKEN_A, None)).await;
    assert_eq!(none.problem(415), "unsupported_media_type");
    let merge = app
        .send(raw(
            Method::POST,
            "/payments",
            TOKEN_A,
            "application/merge-patch+json; charset=utf-8",
            create_body("p").to_string(),
        ))
        .await;
    assert_eq!(
        merge.status,
        StatusCode::CREATED,
        "+json types are JSON: {}",
        merge.text
    );
}

#[tokio::test]
async fn client_input_never_causes_a_500() {
    let app = TestApp::new();
    app.create(TOKEN_A, "f-1", "10", "EUR", "x").await;
    let garbage = [
        "",
        "null",
        "[]",
        "{}",
        "\"x\"",
        "{\"amount\":{}}",
        "{\"amount\":1e400}",
        "\u{0}",
        "{\"error\":null}",
    ];
    let uris = [
        "/payments",
        "/payments/f-1/fail",
        "/payments/f-1/refund",
        "/payments/f-1/process",
    ];
    for uri in uris {
        for body in garbage {
            let reply = app
                .send(raw(Method::POST, uri, TOKEN_A, "application/json", body))
                .await;
            assert!(
                reply.status.is_client_error() || reply.status.is_success(),
                "{uri} {body:?}: {}",
                reply.text
            );
            if reply.status.is_client_error() {
                reply.problem(reply.status.as_u16());
            }
        }
    }
    let queries = [
        "/payments?limit=99999999999999999999999",
        "/payments/search?q=%FF%FE",
        "/payments/%FF",
        "/events/timeline/%00",
        "/payments/search?minAmount=1e999",
    ];
    for uri in queries {
        let reply = app.get(TOKEN_A, uri).await;
        assert!(
            reply.status.is_client_error() || reply.status.is_success(),
            "{uri}: {}",
            reply.text
        );
    }
}
