//! Redis down is not an outage: with a `redis-server` of its own, stopped mid-test, the cache
//! keeps answering (L1 and handler), counts the failures, keeps invalidations local and sends
//! them when Redis is back, and uses Redis again by itself. Skipped without `redis-server`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::items::{Instance, Store};
use common::OwnRedis;
use hive_application::cache::Cache;
use hive_cache_moka::{MokaCache, MokaCacheConfig};
use hive_cache_redis::{RedisCache, RedisCacheConfig};
use hive_testkit::proxy::Proxy;

fn level(url: &str, prefix: &str) -> RedisCache {
    let config = RedisCacheConfig::new(url)
        .with_prefix(prefix)
        .with_op_timeout(Duration::from_millis(200))
        .with_retry_after(Duration::from_millis(100));
    RedisCache::open(config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queries_survive_a_redis_outage_and_the_cache_recovers_by_itself() {
    let Some(mut server) = OwnRedis::start().await else {
        return;
    };
    let prefix = common::prefix();
    let store = Store::default();
    let (redis_a, redis_b) = (level(&server.url(), &prefix), level(&server.url(), &prefix));
    let moka: Arc<dyn Cache> = Arc::new(MokaCache::new(MokaCacheConfig::default()));
    let a = Instance::new(&store, vec![moka, Arc::new(redis_a.clone())]);
    // B reads Redis only: it shows what the shared level holds.
    let b = Instance::new(&store, vec![Arc::new(redis_b)]);
    a.write("k", 1).await;
    assert_eq!(a.read("k").await, 1);
    assert_eq!(b.read("k").await, 1, "from L2, filled by A");
    assert_eq!(b.runs(), 0);

    server.stop();
    assert_eq!(a.read("k").await, 1, "L1 still answers");
    a.write("k", 2).await; // the L2 invalidation fails and is kept for later
    assert_eq!(
        a.read("k").await,
        2,
        "read-your-writes holds through L1 and the handler"
    );
    assert_eq!(a.read("k").await, 2);
    assert_eq!(
        b.read("k").await,
        2,
        "a process with Redis only falls back to its handler"
    );
    let l2 = a.cache.stats()[1];
    assert!(l2.errors > 0, "Redis failures are counted: {l2:?}");
    assert!(redis_a.errors() > 0);

    server.restart().await;
    // Nobody writes or reads on A: the feed's return sends A's pending invalidation.
    common::eventually("A's pending invalidation is sent", async || {
        redis_a.pending_invalidations() == 0
    })
    .await;
    common::eventually("B's reads hit L2 again", async || {
        let before = b.cache.stats()[0].hits;
        assert_eq!(b.read("k").await, 2, "never the value from before the outage");
        b.cache.stats()[0].hits > before
    })
    .await;
    a.write("k", 3).await;
    assert_eq!(b.read("k").await, 3, "invalidations reach Redis again");
    assert_eq!(a.read("k").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_invalidation_made_while_cut_off_reaches_redis_when_it_returns() {
    let Some(server) = OwnRedis::start().await else { return };
    let proxy = Proxy::start(server.port).await;
    let prefix = common::prefix();
    let store = Store::default();
    let redis_a = level(&format!("redis://127.0.0.1:{}", proxy.port()), &prefix);
    let a = Instance::new(&store, vec![Arc::new(redis_a.clone())]);
    let b = Instance::new(&store, vec![Arc::new(level(&server.url(), &prefix))]);
    a.write("p", 1).await;
    assert_eq!(b.read("p").await, 1, "B fills L2");
    assert_eq!(b.read("p").await, 1);
    assert_eq!(b.runs(), 1, "B's second read is an L2 hit");

    proxy.cut().await; // A alone loses Redis, which keeps its data
    a.write("p", 2).await;
    assert_eq!(a.read("p").await, 2, "A reads its write from its handler");
    assert_eq!(
        redis_a.pending_invalidations(),
        1,
        "A keeps the invalidation Redis did not get"
    );

    proxy.restore();
    // Nothing is asked of A: the return of its feed sends what was pending.
    common::eventually("A's pending invalidation is sent", async || {
        redis_a.pending_invalidations() == 0
    })
    .await;
    assert_eq!(
        b.read("p").await,
        2,
        "the entry of before the cut is stale for everyone"
    );
    assert_eq!(b.read("p").await, 2);
    assert_eq!(b.runs(), 2, "and the fresh answer is shared again");
}
