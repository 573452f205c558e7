//! Injection: Elasticsearch query syntax in free text and MongoDB operators (`$`-prefixed keys)
//! in bodies and query parameters are plain data — stored and searched verbatim, never
//! interpreted — over HTTP against the in-memory stores.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{TestApp, TOKEN_A, TOKEN_B};
use serde_json::{json, Value};

/// Free text with query-language meaning in Elasticsearch (`query_string`) or Lucene.
const QUERY_SYNTAX: &[&str] = &[
    "status:failed OR *",
    "*",
    "\"",
    "\\",
    "(",
    "organizationId:org-b",
    "a AND NOT b",
    "/.*/",
    "{\"match_all\":{}}",
    "amount:[0 TO 99999]",
];

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["paymentId"]
                .as_str()
                .or(i["aggregateId"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn query_syntax_in_free_text_is_searched_as_words_not_run() {
    let app = TestApp::new();
    app.create(TOKEN_A, "plain-1", "10", "EUR", "Quarterly hosting").await;
    app.create(TOKEN_A, "plain-2", "20", "EUR", "Office chairs").await;
    app.create(TOKEN_B, "other-org", "30", "EUR", "status failed everything")
        .await;
    for text in QUERY_SYNTAX {
        let uri = format!("/payments/search?q={}", encode(text));
        let reply = app.get(TOKEN_A, &uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.text);
        let found = ids(&reply.body);
        assert!(
            found.len() < 2,
            "{text:?} matched every payment, as a wildcard would: {found:?}"
        );
        assert!(
            !found.contains(&"other-org".to_owned()),
            "{text:?} crossed organizations"
        );
        for route in ["/events/search", "/payments/suggestions"] {
            let uri = format!("{route}?q={}", encode(text));
            let reply = app.get(TOKEN_A, &uri).await;
            assert!(
                reply.status == StatusCode::OK || reply.status == StatusCode::BAD_REQUEST,
                "{uri}: {}",
                reply.text
            );
            if reply.status == StatusCode::OK && route == "/events/search" {
                // Event search wants every word of `q`; text without a word (`*`, `"`, `(`)
                // filters nothing, like an empty `q`, and never reaches another organization.
                let has_words = text.chars().any(char::is_alphanumeric);
                let expected = if has_words { 0 } else { 2 };
                assert_eq!(reply.body["total"], expected, "{uri}: {}", reply.text);
            }
            if reply.status == StatusCode::BAD_REQUEST {
                reply.problem(400);
            }
        }
    }
}

#[tokio::test]
async fn query_syntax_stored_in_a_payment_is_found_literally() {
    let app = TestApp::new();
    app.create(
        TOKEN_A,
        "syntax-1",
        "10",
        "EUR",
        "status:failed OR * (urgent) \"quoted\" back\\slash",
    )
    .await;
    app.create(TOKEN_A, "plain-1", "10", "EUR", "Quarterly hosting").await;
    let payment = app.get(TOKEN_A, "/payments/syntax-1").await;
    assert_eq!(
        payment.body["description"],
        "status:failed OR * (urgent) \"quoted\" back\\slash"
    );
    let reply = app
        .get(TOKEN_A, &format!("/payments/search?q={}", encode("urgent")))
        .await;
    assert_eq!(ids(&reply.body), ["syntax-1"]);
    let events = app
        .get(TOKEN_A, &format!("/events/search?q={}", encode("urgent")))
        .await;
    assert_eq!(ids(&events.body), ["syntax-1"], "{}", events.text);
}

#[tokio::test]
async fn dollar_and_dot_keys_are_stored_verbatim() {
    let app = TestApp::new();
    let metadata = json!({"$where": "sleep(1000) || true", "$ne": "null", "a.b": "dotted", "$set": "{\"x\":1}"});
    let body = json!({
        "paymentId": "dollar-1", "amount": "10", "currency": "EUR",
        "description": "{\"$gt\": \"\"}", "tags": ["$where", "a.b", "$regex"], "metadata": metadata
    });
    let created = app.post(TOKEN_A, "/payments", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let payment = app.get(TOKEN_A, "/payments/dollar-1").await;
    assert_eq!(payment.body["tags"], json!(["$where", "a.b", "$regex"]));
    assert_eq!(payment.body["description"], "{\"$gt\": \"\"}");
    let history = app.get(TOKEN_A, "/payments/dollar-1/history").await;
    let stored = &history.body["events"][0]["metadata"];
    let stored = if stored.is_null() {
        &history.body["items"][0]["metadata"]
    } else {
        stored
    };
    for (key, value) in metadata.as_object().unwrap() {
        assert_eq!(&stored[key], value, "metadata `{key}` in {}", history.text);
    }
    let found = app
        .get(TOKEN_A, &format!("/payments/search?q={}", encode("$where")))
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
}

#[tokio::test]
async fn operators_where_a_value_belongs_are_400_never_a_filter() {
    let app = TestApp::new();
    app.create(TOKEN_B, "theirs", "10", "EUR", "B's").await;
    let cases = [
        (json!({"organizationId": {"$ne": null}}), "organizationId"),
        (json!({"userId": {"$exists": true}}), "userId"),
        (json!({"paymentId": {"$gt": ""}}), "paymentId"),
        (json!({"amount": {"$gt": 0}}), "amount"),
        (json!({"metadata": {"note": {"$where": "1"}}}), "metadata.note"),
        (json!({"tags": {"$in": ["x"]}}), "tags"),
    ];
    for (extra, field) in cases {
        let mut body = json!({"amount": "1", "currency": "EUR", "description": "x"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let reply = app.post(TOKEN_A, "/payments", body.clone()).await;
        assert_eq!(reply.problem(400), "bad_request", "{body}");
        assert_eq!(reply.fields(), [field], "{body}");
    }
    let refund = app
        .post(TOKEN_A, "/payments/theirs/refund", json!({"amount": {"$gt": 0}}))
        .await;
    assert_eq!(refund.problem(400), "bad_request");
    for uri in [
        "/payments/search?status[$ne]=x",
        "/payments/search?q[$regex]=.*",
        "/payments?organizationId[$ne]=x",
        "/events/search?organizationId=org-b",
    ] {
        let reply = app.get(TOKEN_A, uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}: unknown parameters are ignored");
        assert_eq!(reply.body["total"], 0, "{uri}: {}", reply.text);
    }
    let id = app
        .get(TOKEN_A, &format!("/payments/{}", encode("{\"$ne\":null}")))
        .await;
    assert_eq!(id.problem(400), "validation_failed");
}
