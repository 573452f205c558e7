//! Fixtures and a loopback wiremock server for the contract tests.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

pub mod live;

use hive_store_elasticsearch::{EsOptions, EsStore, Refresh};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The `response` of `tests/fixtures/{name}.json`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let value: Value = serde_json::from_str(&text).unwrap();
    value["response"].clone()
}

/// A search answer (shape of `search.empty`) holding `sources` as hits of `index`.
pub fn search_hits(index: &str, sources: Vec<(String, Value, Value)>) -> Value {
    let mut body = fixture("search.empty");
    body["hits"]["total"]["value"] = json!(sources.len());
    body["hits"]["hits"] = sources
        .into_iter()
        .map(|(id, source, sort)| json!({"_index": index, "_id": id, "_score": null, "_source": source, "sort": sort}))
        .collect();
    body
}

/// A GET answer (shape of `_global.get.GetResponseExample1`) for `source`.
pub fn found(index: &str, id: &str, source: Value, seq_no: u64) -> Value {
    let mut body = fixture("_global.get.GetResponseExample1");
    body["_index"] = json!(index);
    body["_id"] = json!(id);
    body["_seq_no"] = json!(seq_no);
    body["_source"] = source;
    body
}

/// An `_mget` answer: each entry a GET answer ([`found`]) or, for `None`, a missing document
/// of `index`.
pub fn mget(index: &str, docs: Vec<Result<Value, &str>>) -> Value {
    let docs: Vec<Value> = docs
        .into_iter()
        .map(|doc| doc.unwrap_or_else(|id| json!({"_index": index, "_id": id, "found": false})))
        .collect();
    json!({ "docs": docs })
}

/// Answers `verb at` with `status` and the JSON `body`, every time.
pub async fn mount(server: &MockServer, verb: &str, at: &str, status: u16, body: Value) {
    Mock::given(method(verb))
        .and(path(at))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

/// Options whose indices are `t-events`, `t-commits`…, `refresh=wait_for`.
pub fn options(server: &MockServer) -> EsOptions {
    EsOptions::new(server.uri())
        .with_prefix("t")
        .with_refresh(Refresh::WaitFor)
}

/// A store on the mock server (no request sent).
pub fn store(server: &MockServer) -> EsStore {
    EsStore::lazy(options(server)).unwrap()
}

/// `METHOD /path?query` of every request received, in order.
pub async fn requests(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| match r.url.query() {
            Some(q) => format!("{} {}?{q}", r.method, r.url.path()),
            None => format!("{} {}", r.method, r.url.path()),
        })
        .collect()
}

/// The JSON body of a request.
pub fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

/// The JSON lines of an NDJSON body.
pub fn ndjson(request: &Request) -> Vec<Value> {
    std::str::from_utf8(&request.body)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
