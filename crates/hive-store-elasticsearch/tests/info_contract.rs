//! `EsStore::connect` reads which engine answers from the root endpoint: Elasticsearch 8
//! (no `version.distribution`) or OpenSearch 2 (`distribution: opensearch`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::fixture;
use hive_store_elasticsearch::{Distribution, EsOptions, EsStore};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A server answering the set-up requests of `connect`, with `root` at `GET /`.
async fn cluster(root: &str) -> MockServer {
    let server = MockServer::start().await;
    let ok = |name: &str| ResponseTemplate::new(200).set_body_json(fixture(name));
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(ok(root))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex(r"^/_index_template/[^/]+$"))
        .respond_with(ok("index_template.acknowledged"))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex(r"^/[a-z0-9][a-z0-9._-]*$"))
        .respond_with(ok("create_index.acknowledged"))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn connect_tells_elasticsearch_from_opensearch() {
    for (root, distribution, version) in [
        ("info.elasticsearch8", Distribution::Elasticsearch, "8.15.5"),
        ("info.opensearch2", Distribution::OpenSearch, "2.19.6"),
    ] {
        let server = cluster(root).await;
        let store = EsStore::connect(EsOptions::new(server.uri())).await.unwrap();
        let info = store.cluster_info().expect("read at connect");
        assert_eq!(
            (info.distribution, info.version.as_str()),
            (distribution, version),
            "{root}"
        );
    }
    let lazy = EsStore::lazy(EsOptions::new("http://127.0.0.1:9")).unwrap();
    assert!(lazy.cluster_info().is_none(), "a lazy store sends nothing");
}
