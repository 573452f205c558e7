//! The billing queries through the query cache: every answer is the same as without a cache,
//! after every command (read-your-writes), on one instance and across instances; through the
//! runners' path; after a rebuild. The Redis cases run against `HIVE_REDIS_URL` (skipped
//! without it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{t0, Harness};
use hive_application::cache::{Cache, CacheConfig, QueryCache};
use hive_application::ApplicationError;
use hive_billing::*;
use hive_cache_moka::{MokaCache, MokaCacheConfig};
use hive_cache_redis::{RedisCache, RedisCacheConfig};
use hive_domain::Interval;
use serde::Serialize;

fn moka() -> Arc<dyn Cache> {
    Arc::new(MokaCache::new(MokaCacheConfig::default()))
}

fn cache(levels: Vec<Arc<dyn Cache>>) -> QueryCache {
    QueryCache::new(levels, CacheConfig::default())
}

fn json<T: Serialize>(answer: Result<T, ApplicationError>) -> Result<serde_json::Value, ApplicationError> {
    answer.map(|a| serde_json::to_value(a).unwrap())
}

/// Every billing query an organization can send, answered as JSON.
async fn answers(h: &Harness, org: &str) -> Vec<(&'static str, Result<serde_json::Value, ApplicationError>)> {
    let (from, to) = (t0() - chrono::Duration::days(1), t0() + chrono::Duration::days(30));
    let id = |n: u32| format!("{org}-p{n}");
    let analytics = |event_type: Option<&str>| (event_type.map(str::to_owned), from, to);
    let (t, f, u) = analytics(None);
    let (pt, pf, pu) = analytics(Some("PaymentProcessed"));
    vec![
        ("by id", json(h.query(org, GetPaymentById { payment_id: id(1) }).await)),
        (
            "missing",
            json(h.query(org, GetPaymentById { payment_id: id(99) }).await),
        ),
        ("list", json(h.query(org, GetPaymentsByOrganization::default()).await)),
        (
            "statistics",
            json(h.query(org, GetPaymentStatistics { from, to }).await),
        ),
        ("trends", json(h.query(org, GetPaymentTrends { from, to }).await)),
        ("search", json(h.query(org, SearchPayments::new()).await)),
        (
            "suggestions",
            json(
                h.query(
                    org,
                    GetPaymentSuggestions {
                        prefix: "clo".into(),
                        size: 5,
                    },
                )
                .await,
            ),
        ),
        (
            "history",
            json(
                h.query(
                    org,
                    GetPaymentHistory {
                        payment_id: id(1),
                        from_version: Default::default(),
                    },
                )
                .await,
            ),
        ),
        ("events", json(h.query(org, SearchPaymentEvents::default()).await)),
        (
            "timeline",
            json(
                h.query(
                    org,
                    GetEventTimeline {
                        correlation_id: format!("corr-{org}"),
                    },
                )
                .await,
            ),
        ),
        (
            "correlations",
            json(
                h.query(
                    org,
                    GetEventCorrelations {
                        correlation_id: format!("corr-{org}"),
                    },
                )
                .await,
            ),
        ),
        (
            "replay",
            json(
                h.query(
                    org,
                    ReplayPayment {
                        payment_id: id(1),
                        ..ReplayPayment::default()
                    },
                )
                .await,
            ),
        ),
        (
            "event statistics",
            json(
                h.query(
                    org,
                    GetEventStatistics {
                        scope: Default::default(),
                        event_type: t.clone(),
                        from: f,
                        to: u,
                    },
                )
                .await,
            ),
        ),
        (
            "processed statistics",
            json(
                h.query(
                    org,
                    GetEventStatistics {
                        scope: Default::default(),
                        event_type: pt,
                        from: pf,
                        to: pu,
                    },
                )
                .await,
            ),
        ),
        (
            "event trends",
            json(
                h.query(
                    org,
                    GetEventTrends {
                        scope: Default::default(),
                        event_type: t.clone(),
                        from: f,
                        to: u,
                        interval: Interval::Day,
                    },
                )
                .await,
            ),
        ),
        (
            "heatmap",
            json(
                h.query(
                    org,
                    GetEventHeatmap {
                        scope: Default::default(),
                        event_type: t,
                        from: f,
                        to: u,
                    },
                )
                .await,
            ),
        ),
    ]
}

/// The commands of the scenario: step `n` for `org`.
async fn step(h: &Harness, org: &str, n: u32) {
    let id = |k: u32| format!("{org}-p{k}");
    match n % 4 {
        0 => drop(h.create(org, &id(n / 4 + 1), "100.00", "EUR", "Cloud compute").await),
        1 => drop(h.process(org, &id(n / 4 + 1)).await.unwrap()),
        2 => drop(h.refund(org, &id(n / 4 + 1), "10.00").await.unwrap()),
        _ => drop(h.refund(org, &id(1), "1.00").await),
    }
    h.advance(7);
}

/// After each command on `writer`, every reader answers what an uncached view answers.
async fn assert_fresh_after_every_command(
    orgs: [&str; 2],
    writer: &Harness,
    readers: &[&Harness],
    heard: impl AsyncFn(usize),
) {
    let truth = writer.sharing(None);
    for n in 0..16 {
        for org in orgs {
            for reader in readers {
                answers(reader, org).await; // warm every cache
            }
        }
        step(writer, orgs[n as usize % 2], n / 2).await;
        heard(n as usize).await;
        for org in orgs {
            let expected = answers(&truth, org).await;
            for reader in readers {
                assert_eq!(
                    answers(reader, org).await,
                    expected,
                    "step {n}, {org}: a cached answer is stale"
                );
            }
        }
    }
}

#[tokio::test]
async fn cached_answers_equal_fresh_ones_after_every_command() {
    let h = Harness::cached(true, cache(vec![moka()]));
    assert_fresh_after_every_command(["org-a", "org-b"], &h, &[&h], async |_| {}).await;
    let stats = h.billing.query_cache().unwrap().stats()[0];
    assert!(stats.hits > 100, "the cache answered: {stats:?}");
}

#[tokio::test]
async fn through_the_runners_the_cache_follows_the_projections() {
    let h = Harness::cached(false, cache(vec![moka()]));
    let runners = h.billing.projection_runners(h.checkpoints.clone());
    let truth = h.sharing(None);
    for n in 0..8 {
        answers(&h, "org-a").await;
        step(&h, "org-a", n).await;
        answers(&h, "org-a").await; // cached while the read model lags: fine until it moves
        for runner in &runners {
            runner.catch_up().await.unwrap();
        }
        assert_eq!(answers(&h, "org-a").await, answers(&truth, "org-a").await, "step {n}");
    }
    h.read_model.reset().await.unwrap();
    h.index.reset().await.unwrap();
    for runner in &runners {
        runner.rebuild().await.unwrap();
    }
    assert_eq!(
        answers(&h, "org-a").await,
        answers(&truth, "org-a").await,
        "after a rebuild"
    );
}

fn redis_url() -> Option<String> {
    hive_testkit::backend::url(hive_testkit::backend::REDIS)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_sharing_redis_read_each_others_writes() {
    let Some(url) = redis_url() else { return };
    let prefix = format!("hive:test:{}:", uuid::Uuid::new_v4().simple());
    let open = || RedisCache::open(RedisCacheConfig::new(&url).with_prefix(prefix.clone())).unwrap();
    let namespace = open();
    let redis = || -> Arc<dyn Cache> { Arc::new(open()) };
    let a = Harness::cached(true, cache(vec![moka(), redis()]));
    let b_cache = cache(vec![moka(), redis()]);
    let b = a.sharing(Some(b_cache.clone()));
    let c = a.sharing(Some(cache(vec![redis()]))); // Redis only: fresh as soon as A returns
    assert_fresh_after_every_command(["org-a", "org-b"], &a, &[&a, &c], async |_| {}).await;
    // B's L1 is fresh once A's invalidations have reached it (pub/sub): wait for that, then
    // every answer of B must be A's writes.
    let sent = a.billing.query_cache().unwrap().clone();
    assert_fresh_after_every_command(["org-c", "org-d"], &a, &[&b], async |_| {
        for _ in 0..2000 {
            if b_cache.stats()[0].invalidations >= sent.stats()[1].invalidations {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("B never heard A's invalidations");
    })
    .await;
    namespace.purge().await.unwrap();
}
