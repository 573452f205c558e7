//! The service on Elasticsearch (`store` and/or `search` = `elasticsearch`).
//!
//! A loopback wiremock server answers the requests the adapter sends at start (index
//! templates, index creation, checkpoint and log reads) and `GET _cluster/health`, with bodies
//! shaped like the adapter's fixtures (`hive-store-elasticsearch/tests/fixtures`, from
//! Elastic's API specification and reference docs): the service starts, `/readyz` reports the
//! cluster's health, and a missing or unreachable cluster stops the start with a clear error.
//! The adapter's own requests are checked by its contract tests, not here; the whole billing
//! flow on a live engine is `elasticsearch_live.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

use std::path::Path;

mod common;

use common::{call, start, token, Running};
use hive_server::app::App;
use hive_server::config::{Config, Layer};
use reqwest::Method;
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The `response` of one of the adapter's fixtures.
fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../hive-store-elasticsearch/tests/fixtures/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str::<Value>(&text).unwrap()["response"].clone()
}

/// `GET _cluster/health` answering `status` (the rest of the body from the specification's example).
fn health(status: &str) -> Value {
    let mut body = fixture("cluster.health.ClusterHealthResponseExample1");
    body["status"] = json!(status);
    body
}

/// Answers like an empty Elasticsearch 8 cluster whose health is `status`; with `auth`, only
/// to requests carrying that `Authorization` header.
async fn mount(server: &MockServer, status: &str, auth: Option<&str>) {
    let ok = |body: Value| ResponseTemplate::new(200).set_body_json(body);
    let given = |verb: &str, pattern: &str| {
        let builder = Mock::given(method(verb)).and(path_regex(pattern));
        match auth {
            Some(value) => builder.and(header("authorization", value)),
            None => builder,
        }
    };
    let mocks = [
        given("PUT", r"^/_index_template/[^/]+$").respond_with(ok(fixture("index_template.acknowledged"))),
        given("PUT", r"^/[a-z0-9][a-z0-9._-]*$").respond_with(ok(fixture("create_index.acknowledged"))),
        given("PUT", r"^/[^/]+/_mapping$").respond_with(ok(fixture("indices.acknowledged"))),
        given("DELETE", r"^/[a-z0-9][a-z0-9._-]*$").respond_with(ok(fixture("indices.acknowledged"))),
        given("PUT", r"^/[^/]+/_doc/[^/]+$")
            .respond_with(ResponseTemplate::new(201).set_body_json(fixture("_global.index.IndexResponseExample1"))),
        given("GET", r"^/[^/]+/_doc/[^/]+$")
            .respond_with(ResponseTemplate::new(404).set_body_json(fixture("get.not_found"))),
        given("POST", r"^/[^/]+/_search$").respond_with(ok(fixture("search.empty"))),
        given("GET", r"^/_cluster/health$").respond_with(ok(health(status))),
        given("GET", r"^/$").respond_with(ok(fixture("info.elasticsearch8"))),
    ];
    for mock in mocks {
        mock.mount(server).await;
    }
}

fn layer(data_dir: &Path, store: &str, url: String) -> Layer {
    Layer {
        data_dir: Some(data_dir.display().to_string()),
        store: Some(store.into()),
        search: Some("elasticsearch".into()),
        elasticsearch_url: Some(url),
        ..Layer::default()
    }
}

async fn readyz(server: &Running, token: &str) -> (u16, Value) {
    call(Method::GET, format!("{}/readyz", server.base), token, None).await
}

/// The paths of the requests `server` received with `verb`.
async fn paths(server: &MockServer, verb: &str) -> Vec<String> {
    let requests = server.received_requests().await.unwrap();
    requests
        .iter()
        .filter(|r| r.method.as_str() == verb)
        .map(|r| r.url.path().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_elasticsearch_the_service_starts_and_readyz_follows_the_cluster_health() {
    let cluster = MockServer::start().await;
    // Credentials in the URL are sent as basic authentication (every mock requires them).
    let basic = "Basic ZWxhc3RpYzpzM2NyZXQ="; // elastic:s3cret
    mount(&cluster, "green", Some(basic)).await;
    let url = cluster.uri().replace("http://", "http://elastic:s3cret@");
    let dir = tempfile::tempdir().unwrap();
    let server = start(layer(dir.path(), "elasticsearch", url)).await;
    let token = token(dir.path());

    let puts = paths(&cluster, "PUT").await;
    for index in [
        "hive-events",
        "hive-commits",
        "hive-sequence",
        "hive-checkpoints",
        "payments",
    ] {
        assert!(puts.contains(&format!("/_index_template/{index}")), "{index}: {puts:?}");
        assert!(puts.contains(&format!("/{index}")), "{index}: {puts:?}");
    }
    // The read model has no checkpoint yet: it is rebuilt (the index emptied, then fed the
    // log) and its checkpoint saved beside the search projection's.
    assert_eq!(paths(&cluster, "DELETE").await, vec!["/payments"]);
    assert!(
        puts.contains(&"/hive-checkpoints/_doc/billing.payment_read_model".to_owned()),
        "{puts:?}"
    );
    let (status, ready) = readyz(&server, &token).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["elasticsearch"]["status"], "up", "{ready}");
    assert_eq!(
        ready["checks"]["elasticsearch"]["backend"], "elasticsearch 8.15.5",
        "{ready}"
    );
    assert!(ready["checks"].get("memory-durable").is_none(), "{ready}");

    cluster.reset().await;
    mount(&cluster, "red", Some(basic)).await;
    let (status, problem) = readyz(&server, &token).await;
    assert_eq!(status, 503, "{problem}");
    assert_eq!(problem["code"], "not_ready", "{problem}");
    let check = &problem["checks"]["elasticsearch"];
    assert_eq!(check["status"], "down", "{problem}");
    assert!(check["detail"].as_str().unwrap().contains("red"), "{problem}");

    // Payments are read from the read model in the payments index (a realtime GET).
    let (status, missing) = call(Method::GET, format!("{}/payments/pay-none", server.base), &token, None).await;
    assert_eq!(status, 404, "{missing}");
    let gets = paths(&cluster, "GET").await;
    assert!(
        gets.contains(&"/payments/_doc/org-dev%2Fpay-none".to_owned()),
        "{gets:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_index_alone_on_elasticsearch_uses_the_index_prefix_and_a_yellow_cluster_is_degraded() {
    let cluster = MockServer::start().await;
    mount(&cluster, "yellow", None).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start(Layer {
        elasticsearch_index_prefix: Some("hive-it".into()),
        ..layer(dir.path(), "memory-durable", cluster.uri())
    })
    .await;
    let token = token(dir.path());

    let puts = paths(&cluster, "PUT").await;
    assert!(
        puts.contains(&"/_index_template/hive-it-payments".to_owned()),
        "{puts:?}"
    );
    assert!(puts.contains(&"/hive-it-payments".to_owned()), "{puts:?}");
    assert!(puts.contains(&"/hive-it-checkpoints".to_owned()), "{puts:?}");
    // The search projection's checkpoint is read from Elasticsearch, beside the index.
    let gets = paths(&cluster, "GET").await;
    assert!(
        gets.iter().any(|p| p.starts_with("/hive-it-checkpoints/_doc/")),
        "{gets:?}"
    );

    let (status, ready) = readyz(&server, &token).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert_eq!(ready["checks"]["memory-durable"]["status"], "up", "{ready}");
    assert_eq!(ready["checks"]["elasticsearch"]["status"], "degraded", "{ready}");
    assert!(ready["checks"]["elasticsearch"]["detail"]
        .as_str()
        .unwrap()
        .contains("yellow"));
    server.stop().await;
}

/// Answers `POST /_bulk` with one successful `index` item for `id` in `index` (the first item
/// of the specification's bulk example), and document `PUT`s (checkpoints) with the index example.
async fn mount_writes(server: &MockServer, index: &str, id: &str) {
    let mut bulk = fixture("_global.bulk.BulkResponseExample1");
    let mut item = bulk["items"][0].clone();
    item["index"]["_index"] = json!(index);
    item["index"]["_id"] = json!(id);
    bulk["items"] = json!([item]);
    Mock::given(method("POST"))
        .and(path_regex(r"^/_bulk$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(bulk))
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex(r"^/[^/]+/_doc/[^/]+$"))
        .respond_with(ResponseTemplate::new(201).set_body_json(fixture("_global.index.IndexResponseExample1")))
        .mount(server)
        .await;
}

/// The JSON bodies of the requests `server` received at `verb path` (NDJSON split in lines),
/// once at least one arrived; bounded by a number of attempts (empty when none came).
async fn bodies_at(server: &MockServer, verb: &str, path: &str) -> Vec<Vec<Value>> {
    for _ in 0..100 {
        let requests = server.received_requests().await.unwrap();
        let bodies: Vec<Vec<Value>> = requests
            .iter()
            .filter(|r| r.method.as_str() == verb && r.url.path() == path)
            .map(|r| {
                std::str::from_utf8(&r.body)
                    .unwrap()
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect()
            })
            .collect();
        if !bodies.is_empty() {
            return bodies;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Vec::new()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_is_indexed_in_elasticsearch_by_the_search_projection_with_its_checkpoint_beside_it() {
    let cluster = MockServer::start().await;
    mount_writes(&cluster, "payments", "pay-wm").await;
    mount(&cluster, "green", None).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start(layer(dir.path(), "memory-durable", cluster.uri())).await;
    let token = token(dir.path());
    let (status, created) = call(
        Method::POST,
        format!("{}/payments", server.base),
        &token,
        Some(json!({"paymentId": "pay-wm", "amount": "12.30", "currency": "EUR", "description": "Wiremock invoice"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let checkpoints = bodies_at(&cluster, "PUT", "/hive-checkpoints/_doc/billing.payment_search_index").await;
    assert_eq!(checkpoints.last().expect("the checkpoint was saved")[0]["position"], 1);
    let bulks = bodies_at(&cluster, "POST", "/_bulk").await;
    let lines = bulks.first().expect("the payment was sent to Elasticsearch");
    assert_eq!(lines[0]["index"]["_index"], "payments", "{lines:?}");
    assert_eq!(
        lines[0]["index"]["_id"], "org-dev/pay-wm",
        "the key: organization and payment id; {lines:?}"
    );
    assert_eq!(lines[0]["index"]["version"], 1, "{lines:?}");
    assert!(lines[1].to_string().contains("Wiremock invoice"), "{lines:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_checkpoint_past_the_log_head_makes_the_index_rebuilt_at_start() {
    let cluster = MockServer::start().await;
    // Of the current projection version: only the position is wrong.
    let checkpoint = hive_domain::Checkpoint::new("billing.payment_search_index", 7, None)
        .with_version(hive_billing::BILLING_PROJECTION_VERSION);
    let mut found = fixture("_global.get.GetResponseExample1");
    found["_index"] = json!("hive-checkpoints");
    found["_id"] = json!("billing.payment_search_index");
    found["_source"] = serde_json::to_value(&checkpoint).unwrap();
    Mock::given(method("GET"))
        .and(path_regex(r"^/hive-checkpoints/_doc/billing\.payment_search_index$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(found))
        .with_priority(1)
        .mount(&cluster)
        .await;
    mount_writes(&cluster, "payments", "none").await;
    mount(&cluster, "green", None).await;
    // A new data directory: the log is empty, the index's checkpoint says 7.
    let dir = tempfile::tempdir().unwrap();
    let server = start(layer(dir.path(), "memory-durable", cluster.uri())).await;
    // Emptied by deleting the index and creating it again (no version tombstones left).
    assert_eq!(
        paths(&cluster, "DELETE").await,
        vec!["/payments"],
        "the index was emptied once"
    );
    let checkpoints = bodies_at(&cluster, "PUT", "/hive-checkpoints/_doc/billing.payment_search_index").await;
    assert_eq!(checkpoints[0][0]["position"], 0, "moved back to the start of the log");
    server.stop().await;
}

#[test]
fn without_a_url_the_service_refuses_to_start_and_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hive"))
        .arg("serve")
        .env_remove("HIVE_ELASTICSEARCH_URL")
        .env_remove("HIVE_CONFIG")
        .env("HIVE_STORE", "elasticsearch")
        .env("HIVE_DATA_DIR", dir.path())
        .env("HIVE_HTTP_ADDR", "127.0.0.1:0")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`elasticsearch.url`"), "{stderr}");
    assert!(stderr.contains("HIVE_ELASTICSEARCH_URL"), "{stderr}");
}

#[tokio::test]
async fn an_unreachable_cluster_is_a_start_error_naming_the_url_without_its_password() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let config = Config::resolve(Config::defaults().overridden_by(layer(
        dir.path(),
        "elasticsearch",
        format!("http://elastic:s3cret@127.0.0.1:{port}"),
    )))
    .unwrap();
    let error = App::start(config).await.unwrap_err().to_string();
    assert!(error.contains("cannot connect to Elasticsearch"), "{error}");
    assert!(error.contains("HIVE_ELASTICSEARCH_URL"), "{error}");
    assert!(error.contains(&format!("elastic:***@127.0.0.1:{port}")), "{error}");
    assert!(!error.contains("s3cret"), "{error}");
}
