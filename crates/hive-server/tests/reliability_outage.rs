//! R4 (issue #9), Redis: the service with `cache = "moka+redis"` reaches its own `redis-server`
//! through a TCP proxy the test cuts and restores. During the outage a query load keeps being
//! answered with 2xx and fresh data (errors never reach clients); after it, caching in Redis
//! resumes (keys appear again in the emptied Redis). Skipped when `redis-server` is not
//! installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::redis::OwnRedis;
use common::{call, start, token};
use hive_server::config::Layer;
use hive_testkit::proxy::Proxy;
use serde_json::json;

const PAYMENTS: usize = 10;
const ROUNDS: usize = 20;

/// `ROUNDS` rounds of reads of every payment and of the list: every answer 2xx, each payment
/// with the `expected` status. The number of requests.
async fn query_load(base: &str, token: &str, expected: &str) -> usize {
    let mut requests = 0;
    for _ in 0..ROUNDS {
        for i in 0..PAYMENTS {
            let (status, view) = call(reqwest::Method::GET, format!("{base}/payments/r4-{i}"), token, None).await;
            assert_eq!(status, 200, "{view}");
            assert_eq!(view["status"], expected, "{view}");
            requests += 1;
        }
        let (status, list) = call(reqwest::Method::GET, format!("{base}/payments"), token, None).await;
        assert_eq!(status, 200, "{list}");
        requests += 1;
    }
    requests
}

async fn process_all(base: &str, token: &str) {
    for i in 0..PAYMENTS {
        let (status, view) = call(
            reqwest::Method::POST,
            format!("{base}/payments/r4-{i}/process"),
            token,
            Some(json!({})),
        )
        .await;
        assert_eq!(status, 200, "{view}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_survive_a_redis_outage_and_caching_resumes() {
    let Some(redis) = OwnRedis::start() else { return };
    let proxy = Proxy::start(redis.port()).await;
    let dir = tempfile::tempdir().unwrap();
    let service = start(Layer {
        data_dir: Some(dir.path().display().to_string()),
        store: Some("memory".into()),
        cache: Some("moka+redis".into()),
        redis_url: Some(format!("redis://127.0.0.1:{}", proxy.port())),
        ..Layer::default()
    })
    .await;
    let token = token(dir.path());
    let base = service.base.clone();
    for i in 0..PAYMENTS {
        let body =
            json!({"paymentId": format!("r4-{i}"), "amount": "10.00", "currency": "EUR", "description": "Outage"});
        assert_eq!(
            call(reqwest::Method::POST, format!("{base}/payments"), &token, Some(body))
                .await
                .0,
            201
        );
    }
    let before = query_load(&base, &token, "pending").await;
    assert!(redis.keys() > 0, "answers are cached in Redis while it is up");

    proxy.cut().await;
    // Commands invalidate the cache while Redis is unreachable; queries stay 2xx and fresh.
    process_all(&base, &token).await;
    let during = query_load(&base, &token, "completed").await;

    redis.cli(&["FLUSHALL"]);
    proxy.restore();
    // The Redis client reconnects on its own; answers go back into Redis (bounded wait).
    // New payments: answers the in-process level has never seen, so they go to Redis too.
    let mut after = 0;
    for k in 0..100 {
        after += query_load(&base, &token, "completed").await;
        let id = format!("r4-after-{k}");
        let body = json!({"paymentId": id, "amount": "1.00", "currency": "EUR", "description": "After"});
        assert_eq!(
            call(reqwest::Method::POST, format!("{base}/payments"), &token, Some(body))
                .await
                .0,
            201
        );
        let (status, view) = call(reqwest::Method::GET, format!("{base}/payments/{id}"), &token, None).await;
        assert_eq!((status, &view["status"]), (200, &json!("pending")), "{view}");
        after += 1;
        if redis.keys() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(redis.keys() > 0, "caching in Redis did not resume after the outage");
    eprintln!("R4 redis: {before} queries before, {during} during the outage, {after} after; all 2xx and fresh");
    service.stop().await;
}
