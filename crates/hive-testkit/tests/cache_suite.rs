//! The cache suite passes the reference cache (`hive_testkit::ReferenceCache`) and catches a
//! naive one that stores whatever it is given (the stale-fill race) or that ignores tags.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hive_application::cache::{Cache, CacheError, CachedEntry, Stamp};
use hive_testkit::{cache, ReferenceCache};

mod reference {
    hive_testkit::cache_conformance!(async { hive_testkit::ReferenceCache::local() });
}

/// Stores under the generations current at `set`, whatever the stamp says.
struct IgnoresStamps(ReferenceCache);

#[async_trait]
impl Cache for IgnoresStamps {
    async fn stamp(&self, tags: &[String]) -> Result<Stamp, CacheError> {
        self.0.stamp(tags).await
    }
    async fn get(&self, key: &str) -> Result<Option<CachedEntry>, CacheError> {
        self.0.get(key).await
    }
    async fn set(&self, key: &str, entry: CachedEntry, _: &Stamp, ttl: Duration) -> Result<(), CacheError> {
        let now = self.0.stamp(&entry.tags).await?;
        self.0.set(key, entry, &now, ttl).await
    }
    async fn invalidate_tags(&self, tags: &[String]) -> Result<(), CacheError> {
        self.0.invalidate_tags(tags).await
    }
    async fn clear(&self) -> Result<(), CacheError> {
        self.0.clear().await
    }
}

/// Invalidates only the entries whose *first* tag is invalidated: it stores each entry under its
/// first tag alone and hands the full tag list back on a hit.
#[derive(Default)]
struct FirstTagOnly {
    inner: ReferenceCache,
    tags: Mutex<HashMap<String, Arc<[String]>>>,
}

#[async_trait]
impl Cache for FirstTagOnly {
    async fn stamp(&self, tags: &[String]) -> Result<Stamp, CacheError> {
        self.inner.stamp(tags).await
    }
    async fn get(&self, key: &str) -> Result<Option<CachedEntry>, CacheError> {
        let found = self.inner.get(key).await?;
        let tags = self.tags.lock().unwrap().get(key).cloned();
        Ok(found.map(|entry| CachedEntry {
            tags: tags.unwrap_or(entry.tags),
            ..entry
        }))
    }
    async fn set(&self, key: &str, entry: CachedEntry, _: &Stamp, ttl: Duration) -> Result<(), CacheError> {
        // Checks (and keeps) only the first tag's generation.
        let first: Vec<String> = entry.tags.iter().take(1).cloned().collect();
        let stamp = self.inner.stamp(&first).await?;
        self.inner
            .set(key, CachedEntry::new(entry.bytes.to_vec(), first), &stamp, ttl)
            .await?;
        self.tags.lock().unwrap().insert(key.to_owned(), entry.tags);
        Ok(())
    }
    async fn invalidate_tags(&self, tags: &[String]) -> Result<(), CacheError> {
        self.inner.invalidate_tags(tags).await
    }
    async fn clear(&self) -> Result<(), CacheError> {
        self.inner.clear().await
    }
}

#[tokio::test]
#[should_panic(expected = "stale fill")]
async fn a_cache_that_ignores_stamps_fails() {
    cache::stale_fill_is_refused(Arc::new(IgnoresStamps(ReferenceCache::local()))).await;
}

#[tokio::test]
#[should_panic(expected = "before clear was served after it")]
async fn a_cache_that_ignores_stamps_across_clear_fails() {
    cache::clear_makes_everything_stale(Arc::new(IgnoresStamps(ReferenceCache::local()))).await;
}

#[tokio::test]
#[should_panic(expected = "an entry tagged `b, a` survived invalidating `a`")]
async fn a_cache_that_checks_only_the_first_tag_fails() {
    cache::invalidate_hits_tagged_entries_only(Arc::new(FirstTagOnly::default())).await;
}
