//! Injection contract: user text with Elasticsearch query syntax only ever travels as the
//! `query` of a `match` or `multi_match` (or the `prefix` of the completion suggester), never in a
//! `query_string`, `simple_query_string`, `regexp`, `wildcard` or `script`; identifiers with
//! query syntax or MongoDB operators only in exact `term` filters.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{body, fixture, store};
use hive_billing::{PaymentSearchCriteria, PaymentSearchIndex};
use hive_domain::{EventCriteria, EventSearch, Page};
use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Text that means something to Lucene's query parser.
const HOSTILE: &[&str] = &[
    "status:failed OR *",
    "*",
    "\"",
    "\\",
    "(",
    "organizationId:org-2 OR organizationId:*",
    "/.*/",
    "amount:[0 TO 99999] AND NOT x",
    "{\"$where\": \"1\"}",
    "cloud^10 ~2 && ||",
];

/// Query types that parse or run their input.
const INTERPRETING: &[&str] = &[
    "query_string",
    "simple_query_string",
    "regexp",
    "wildcard",
    "script",
    "prefix",
];

/// Every `(path, string)` leaf of `value`, the path as `key/key/…` (array indices skipped).
fn leaves(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                leaves(child, &format!("{path}/{key}"), out);
            }
        }
        Value::Array(items) => items.iter().for_each(|child| leaves(child, path, out)),
        Value::String(text) => out.push((path.to_owned(), text.clone())),
        _ => {}
    }
}

/// Every key in `value`, recursively.
fn keys(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                out.push(key.clone());
                keys(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|child| keys(child, out)),
        _ => {}
    }
}

/// Asserts `sent` interprets nothing, and that `text` appears only where `allowed` paths end.
fn assert_literal(sent: &Value, text: &str, allowed: &[&str]) {
    let mut all_keys = Vec::new();
    keys(&sent["query"], &mut all_keys);
    for key in INTERPRETING {
        assert!(
            !all_keys.iter().any(|k| k == key),
            "`{key}` in the query for {text:?}: {sent}"
        );
    }
    let mut found = Vec::new();
    leaves(sent, "", &mut found);
    let places: Vec<&String> = found.iter().filter(|(_, v)| v == text.trim()).map(|(p, _)| p).collect();
    assert!(!places.is_empty(), "{text:?} was not sent: {sent}");
    for place in places {
        assert!(
            allowed.iter().any(|a| place.ends_with(a)),
            "{text:?} sent at {place}, not as a literal: {sent}"
        );
    }
}

/// A server answering every `POST` with the fixture `answer`.
async fn server_answering(answer: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture(answer)))
        .mount(&server)
        .await;
    server
}

async fn server() -> MockServer {
    server_answering("search.empty").await
}

#[tokio::test]
async fn event_search_text_only_goes_into_a_match_query() {
    let server = server().await;
    let events = store(&server).event_store();
    for text in HOSTILE {
        let criteria = EventCriteria {
            organization_id: Some("org-1".into()),
            text: Some((*text).into()),
            ..EventCriteria::default()
        };
        events.search(&criteria, Page::new(0, 10)).await.unwrap();
    }
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), HOSTILE.len());
    for (request, text) in received.iter().zip(HOSTILE) {
        let sent = body(request);
        assert_literal(&sent, text, &["/match/searchText/query"]);
        assert_eq!(sent["query"]["bool"]["must"][0]["match"]["searchText"]["query"], *text);
    }
}

#[tokio::test]
async fn payment_search_text_only_goes_into_multi_match() {
    let server = server().await;
    let index = store(&server).payment_search_index();
    for text in HOSTILE {
        let criteria = PaymentSearchCriteria {
            organization_id: "org-1".into(),
            text: Some((*text).into()),
            limit: 10,
            ..PaymentSearchCriteria::default()
        };
        index.search(&criteria).await.unwrap();
    }
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), HOSTILE.len());
    for (request, text) in received.iter().zip(HOSTILE) {
        assert_literal(&body(request), text, &["/multi_match/query"]);
    }
}

#[tokio::test]
async fn suggestion_prefixes_only_go_into_the_completion_suggester() {
    let server = server_answering("payments.suggest.completion").await;
    let index = store(&server).payment_search_index();
    let prefixes = ["status:fa", "org* OR", "(cl", "$where"];
    for prefix in prefixes {
        index.suggest("org-1", prefix, 5).await.unwrap();
    }
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), prefixes.len());
    for request in &received {
        let sent = body(request);
        let mut all_keys = Vec::new();
        keys(&sent, &mut all_keys);
        for key in [
            "query_string",
            "simple_query_string",
            "regexp",
            "wildcard",
            "script",
            "query",
        ] {
            assert!(
                !all_keys.iter().any(|k| k == key),
                "`{key}` in a suggest request: {sent}"
            );
        }
        let suggestion = sent["suggest"].as_object().unwrap().values().next().unwrap();
        assert!(suggestion["prefix"].is_string(), "{sent}");
        assert_eq!(suggestion["completion"]["contexts"]["organizationId"][0], "org-1");
    }
}

#[tokio::test]
async fn identifiers_with_operators_are_exact_term_filters() {
    let server = server().await;
    let events = store(&server).event_store();
    let hostile_id = "{\"$ne\": null} OR *";
    let criteria = EventCriteria {
        organization_id: Some(hostile_id.into()),
        aggregate_id: Some(hostile_id.into()),
        correlation_id: Some(hostile_id.into()),
        user_id: Some(hostile_id.into()),
        ..EventCriteria::default()
    };
    events.search(&criteria, Page::new(0, 10)).await.unwrap();
    let received = server.received_requests().await.unwrap();
    let sent = body(&received[0]);
    let mut found = Vec::new();
    leaves(&sent, "", &mut found);
    let places: Vec<&String> = found.iter().filter(|(_, v)| v == hostile_id).map(|(p, _)| p).collect();
    assert_eq!(places.len(), 4, "{sent}");
    for place in places {
        assert!(place.starts_with("/query/bool/filter/term/"), "{place}: {sent}");
    }
}
