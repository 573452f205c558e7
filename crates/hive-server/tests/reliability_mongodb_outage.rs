//! R4 (issue #9), MongoDB: the service on MongoDB reaches the server through a TCP proxy the
//! test cuts and restores (the server and its data stay up). During the outage commands fail
//! with a 503 problem body and write nothing; when the proxy is restored the same service takes
//! commands again, without a restart. The driver's server selection is bounded through the URI
//! (`serverSelectionTimeoutMS`). Skipped without `HIVE_MONGODB_URI`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{call, start, token};
use hive_server::config::Layer;
use hive_store_mongodb::{MongoOptions, MongoStore};
use hive_testkit::proxy::Proxy;
use serde_json::json;

const PAYMENTS: usize = 5;

/// The port of `mongodb://host:port/...`.
fn port_of(uri: &str) -> u16 {
    let rest = uri.split("://").nth(1).unwrap();
    let host_port = rest.split(['/', '?']).next().unwrap();
    host_port.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_fail_with_503_during_an_outage_and_recover_without_a_restart() {
    let Some(uri) = hive_testkit::backend::url(hive_testkit::backend::MONGODB) else {
        return;
    };
    let proxy = Proxy::start(port_of(&uri)).await;
    let database = format!("hive_test_r4_{}", uuid::Uuid::new_v4().simple());
    let through_proxy = format!(
        "mongodb://127.0.0.1:{}/?directConnection=true&retryWrites=false&serverSelectionTimeoutMS=1000&connectTimeoutMS=1000",
        proxy.port()
    );
    let dir = tempfile::tempdir().unwrap();
    let service = start(Layer {
        data_dir: Some(dir.path().display().to_string()),
        store: Some("mongodb".into()),
        mongodb_uri: Some(through_proxy),
        mongodb_database: Some(database.clone()),
        ..Layer::default()
    })
    .await;
    let token = token(dir.path());
    let base = service.base.clone();
    let create = |id: String| json!({"paymentId": id, "amount": "10.00", "currency": "EUR", "description": "Outage"});
    for i in 0..PAYMENTS {
        let (status, body) = call(
            reqwest::Method::POST,
            format!("{base}/payments"),
            &token,
            Some(create(format!("r4m-{i}"))),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }

    proxy.cut().await;
    let mut refused = 0;
    for i in 0..PAYMENTS {
        let (status, problem) = call(
            reqwest::Method::POST,
            format!("{base}/payments"),
            &token,
            Some(create(format!("r4m-down-{i}"))),
        )
        .await;
        assert_eq!(status, 503, "a create during the outage: {problem}");
        assert_eq!(problem["status"], 503, "a problem body: {problem}");
        let (status, problem) = call(
            reqwest::Method::POST,
            format!("{base}/payments/r4m-{i}/process"),
            &token,
            Some(json!({})),
        )
        .await;
        assert_eq!(status, 503, "a process during the outage: {problem}");
        refused += 2;
    }

    proxy.restore();
    // The same service recovers on its own (bounded wait for the driver to reconnect).
    let mut recovered = false;
    for _ in 0..100 {
        let (status, _) = call(reqwest::Method::GET, format!("{base}/payments/r4m-0"), &token, None).await;
        if status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the service did not recover after the outage");
    for i in 0..PAYMENTS {
        // Nothing of the refused commands was written.
        let (status, view) = call(reqwest::Method::GET, format!("{base}/payments/r4m-{i}"), &token, None).await;
        assert_eq!(
            (status, &view["version"], &view["status"]),
            (200, &json!(1), &json!("pending")),
            "{view}"
        );
        let (status, _) = call(
            reqwest::Method::GET,
            format!("{base}/payments/r4m-down-{i}"),
            &token,
            None,
        )
        .await;
        assert_eq!(status, 404, "a refused create left a payment behind");
        // And the commands work again.
        let (status, view) = call(
            reqwest::Method::POST,
            format!("{base}/payments/r4m-{i}/process"),
            &token,
            Some(json!({})),
        )
        .await;
        assert_eq!((status, &view["version"]), (200, &json!(2)), "{view}");
        let (status, _) = call(
            reqwest::Method::POST,
            format!("{base}/payments"),
            &token,
            Some(create(format!("r4m-down-{i}"))),
        )
        .await;
        assert_eq!(status, 201);
    }
    eprintln!("R4 mongodb: {refused} commands refused with 503 during the outage, 0 partial writes, recovered without a restart");
    service.stop().await;
    let store = MongoStore::connect(&uri, MongoOptions::default().with_database(database))
        .await
        .unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(10), store.drop_database()).await;
}
