//! The query cache over moka (L1) and Redis (L2): read-your-writes on one instance and across
//! instances, the stale-fill race, stampedes. Against `HIVE_REDIS_URL`; skipped without it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::items::{Instance, Store};
use hive_application::cache::Cache;
use hive_cache_moka::{MokaCache, MokaCacheConfig};
use hive_cache_redis::{RedisCache, RedisCacheConfig};

/// Two handles on one Redis namespace, as two processes would have.
fn two_processes(url: &str) -> (RedisCache, RedisCache, common::Cleanup) {
    let prefix = common::prefix();
    let open = || RedisCache::open(RedisCacheConfig::new(url).with_prefix(prefix.clone())).unwrap();
    let cleanup = common::Cleanup {
        url: url.to_owned(),
        prefix: prefix.clone(),
    };
    (open(), open(), cleanup)
}

fn l1() -> Arc<dyn Cache> {
    Arc::new(MokaCache::new(MokaCacheConfig::default()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_read_after_a_write_sees_it_on_one_instance() {
    let Some(url) = common::redis_url() else { return };
    let guard = common::held_cache(&url);
    let store = Store::default();
    let instance = Instance::new(&store, vec![l1(), guard.store()]);
    for value in 0..50 {
        instance.write("a", value).await;
        assert_eq!(instance.read("a").await, value, "read after write {value}");
        assert_eq!(instance.read("a").await, value, "second read after write {value}");
    }
    let stats = instance.cache.stats();
    assert_eq!(
        instance.runs(),
        50,
        "one handler run per write: the second read is an L1 hit"
    );
    assert_eq!(stats[0].hits, 50);
    assert_eq!(stats[0].invalidations, 50);
    assert_eq!(stats[1].invalidations, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_read_after_a_write_sees_it_across_instances() {
    let Some(url) = common::redis_url() else { return };
    let (redis_a, redis_b, _cleanup) = two_processes(&url);
    let store = Store::default();
    let a = Instance::new(&store, vec![l1(), Arc::new(redis_a.clone())]);
    let b = Instance::new(&store, vec![l1(), Arc::new(redis_b.clone())]);
    // A third process without L1 reads Redis directly: fresh at once, no feed involved.
    let c = Instance::new(&store, vec![Arc::new(redis_b)]);
    a.write("x", 0).await;
    for value in 1..=20 {
        assert_eq!(b.read("x").await, value - 1, "B fills its L1");
        assert_eq!(c.read("x").await, value - 1, "C fills L2");
        let heard = b.invalidations(0);
        a.write("x", value).await;
        assert_eq!(a.read("x").await, value, "A reads its own write");
        assert_eq!(
            c.read("x").await,
            value,
            "L2 (shared generations) is fresh as soon as A's write returns"
        );
        common::eventually("B hears A's invalidation", async || b.invalidations(0) > heard).await;
        assert_eq!(
            b.read("x").await,
            value,
            "B reads A's write once the invalidation reached it"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_answer_computed_before_a_write_is_not_cached_after_it() {
    let Some(url) = common::redis_url() else { return };
    let guard = common::held_cache(&url);
    let store = Store::default();
    let instance = Arc::new(Instance::new(&store, vec![l1(), guard.store()]));
    instance.write("r", 1).await;
    instance.gate.arm();
    let slow = tokio::spawn({
        let instance = Arc::clone(&instance);
        async move { instance.read("r").await }
    });
    // The handler has read 1 and waits; meanwhile a write and its invalidation complete.
    instance.gate.reached.notified().await;
    instance.write("r", 2).await;
    instance.gate.release.notify_one();
    assert_eq!(slow.await.unwrap(), 1, "the slow query answers what it read");
    assert_eq!(instance.read("r").await, 2, "its stale answer was not cached");
    assert_eq!(instance.read("r").await, 2);
    assert_eq!(instance.runs(), 2, "the fresh answer is cached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_misses_run_the_handler_once() {
    let Some(url) = common::redis_url() else { return };
    let guard = common::held_cache(&url);
    let store = Store::default();
    let instance = Arc::new(Instance::new(&store, vec![l1(), guard.store()]));
    instance.write("s", 7).await;
    instance.gate.arm();
    let readers: Vec<_> = (0..32)
        .map(|_| {
            let instance = Arc::clone(&instance);
            tokio::spawn(async move { instance.read("s").await })
        })
        .collect();
    instance.gate.reached.notified().await;
    // Every reader has had time to join while the one run is held at the gate.
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    instance.gate.release.notify_one();
    for reader in readers {
        assert_eq!(reader.await.unwrap(), 7);
    }
    assert_eq!(
        instance.runs(),
        1,
        "32 concurrent misses of one key ran the handler once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn purge_deletes_the_namespace_and_only_it() {
    let Some(url) = common::redis_url() else { return };
    let (one, other) = (common::shared_cache(&url), common::shared_cache(&url));
    for cache in [&one, &other] {
        let tags = vec!["t".to_owned()];
        let stamp = cache.stamp(&tags).await.unwrap();
        let entry = hive_application::cache::CachedEntry::new(b"v".to_vec(), tags.clone());
        cache
            .set("k", entry, &stamp, std::time::Duration::from_secs(60))
            .await
            .unwrap();
        cache.invalidate_tags(&tags).await.unwrap();
        cache
            .set(
                "k",
                hive_application::cache::CachedEntry::new(b"v".to_vec(), tags.clone()),
                &cache.stamp(&tags).await.unwrap(),
                std::time::Duration::from_secs(60),
            )
            .await
            .unwrap();
    }
    assert_eq!(
        one.purge().await.unwrap(),
        3,
        "the entry, the tag's generation, the counter"
    );
    assert_eq!(one.purge().await.unwrap(), 0);
    assert!(one.get("k").await.unwrap().is_none());
    assert!(
        other.get("k").await.unwrap().is_some(),
        "another namespace is left alone"
    );
    assert_eq!(other.purge().await.unwrap(), 3);
}
