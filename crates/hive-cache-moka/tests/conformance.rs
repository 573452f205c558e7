//! The moka level passes the cache conformance suite, and is bounded by weight.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use hive_application::cache::{Cache, CachedEntry};
use hive_cache_moka::{MokaCache, MokaCacheConfig};

hive_testkit::cache_conformance!(async { MokaCache::new(MokaCacheConfig::default()) });

#[tokio::test]
async fn weight_bounds_what_is_kept() {
    let cache = MokaCache::new(MokaCacheConfig {
        max_bytes: 64 * 1024,
        ..MokaCacheConfig::default()
    });
    let stamp = cache.stamp(&[]).await.unwrap();
    for i in 0..200 {
        let entry = CachedEntry::new(vec![7u8; 4096], Vec::new());
        cache
            .set(&format!("k{i}"), entry, &stamp, Duration::from_secs(60))
            .await
            .unwrap();
    }
    cache.run_pending_tasks().await;
    let mut kept = 0;
    for i in 0..200 {
        kept += u32::from(cache.get(&format!("k{i}")).await.unwrap().is_some());
    }
    assert!(kept <= 16, "{kept} entries of 4 KiB kept in 64 KiB");
    assert!(kept > 0, "nothing kept at all");
}

#[tokio::test]
async fn ttl_is_capped_by_max_ttl() {
    let cache = MokaCache::new(MokaCacheConfig {
        max_ttl: Duration::from_millis(200),
        ..MokaCacheConfig::default()
    });
    let stamp = cache.stamp(&[]).await.unwrap();
    let entry = CachedEntry::new(b"v".to_vec(), Vec::new());
    cache.set("k", entry, &stamp, Duration::from_secs(3600)).await.unwrap();
    assert!(cache.get("k").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(cache.get("k").await.unwrap().is_none(), "an entry outlived max_ttl");
}
