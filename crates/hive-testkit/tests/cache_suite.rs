//! The cache suite passes a small reference cache and catches a naive one that stores whatever
//! it is given (the stale-fill race) or that ignores tags.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hive_application::cache::{Cache, CacheError, CachedEntry, Stamp};
use hive_testkit::cache;

/// Generations per tag and a cache-wide epoch; entries keep the stamp they were computed under.
#[derive(Default)]
struct Reference {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    epoch: u64,
    counter: u64,
    generations: HashMap<String, u64>,
    entries: HashMap<String, (CachedEntry, Vec<u64>, Instant)>,
}

impl State {
    fn current(&self, tags: &[String]) -> Vec<u64> {
        std::iter::once(self.epoch)
            .chain(tags.iter().map(|t| self.generations.get(t).copied().unwrap_or(0)))
            .collect()
    }
}

#[async_trait]
impl Cache for Reference {
    async fn stamp(&self, tags: &[String]) -> Result<Stamp, CacheError> {
        Ok(Stamp::new(self.state.lock().unwrap().current(tags)))
    }

    async fn get(&self, key: &str) -> Result<Option<CachedEntry>, CacheError> {
        let state = self.state.lock().unwrap();
        Ok(state.entries.get(key).and_then(|(entry, stamp, until)| {
            (Instant::now() < *until && *stamp == state.current(&entry.tags)).then(|| entry.clone())
        }))
    }

    async fn set(&self, key: &str, entry: CachedEntry, stamp: &Stamp, ttl: Duration) -> Result<(), CacheError> {
        let until = Instant::now() + ttl;
        let stamp = stamp.generations().to_vec();
        self.state
            .lock()
            .unwrap()
            .entries
            .insert(key.to_owned(), (entry, stamp, until));
        Ok(())
    }

    async fn invalidate_tags(&self, tags: &[String]) -> Result<(), CacheError> {
        let mut state = self.state.lock().unwrap();
        for tag in tags {
            state.counter += 1;
            let generation = state.counter;
            state.generations.insert(tag.clone(), generation);
        }
        Ok(())
    }

    async fn clear(&self) -> Result<(), CacheError> {
        let mut state = self.state.lock().unwrap();
        state.counter += 1;
        state.epoch = state.counter;
        Ok(())
    }
}

mod reference {
    hive_testkit::cache_conformance!(async { super::Reference::default() });
}

/// Stores under the generations current at `set`, whatever the stamp says.
struct IgnoresStamps(Reference);

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

/// Invalidates only the entries whose *first* tag is invalidated.
struct FirstTagOnly(Reference);

#[async_trait]
impl Cache for FirstTagOnly {
    async fn stamp(&self, tags: &[String]) -> Result<Stamp, CacheError> {
        self.0.stamp(tags).await
    }
    async fn get(&self, key: &str) -> Result<Option<CachedEntry>, CacheError> {
        let state = self.0.state.lock().unwrap();
        Ok(state.entries.get(key).and_then(|(entry, stamp, _)| {
            let first = &entry.tags[..entry.tags.len().min(1)];
            (*stamp == state.current(first)).then(|| entry.clone())
        }))
    }
    async fn set(&self, key: &str, entry: CachedEntry, _: &Stamp, ttl: Duration) -> Result<(), CacheError> {
        // Checks (and keeps) only the first tag's generation.
        let first: Vec<String> = entry.tags.iter().take(1).cloned().collect();
        let stamp = self.0.stamp(&first).await?;
        let checked = CachedEntry::new(entry.bytes.clone(), first);
        self.0.set(key, checked, &stamp, ttl).await?;
        let mut state = self.0.state.lock().unwrap();
        if let Some(stored) = state.entries.get_mut(key) {
            stored.0 = entry;
            stored.1.truncate(2);
        }
        Ok(())
    }
    async fn invalidate_tags(&self, tags: &[String]) -> Result<(), CacheError> {
        self.0.invalidate_tags(tags).await
    }
    async fn clear(&self) -> Result<(), CacheError> {
        self.0.clear().await
    }
}

#[tokio::test]
#[should_panic(expected = "stale fill")]
async fn a_cache_that_ignores_stamps_fails() {
    cache::stale_fill_is_refused(Arc::new(IgnoresStamps(Reference::default()))).await;
}

#[tokio::test]
#[should_panic(expected = "before clear was served after it")]
async fn a_cache_that_ignores_stamps_across_clear_fails() {
    cache::clear_makes_everything_stale(Arc::new(IgnoresStamps(Reference::default()))).await;
}

#[tokio::test]
#[should_panic(expected = "an entry tagged `b, a` survived invalidating `a`")]
async fn a_cache_that_checks_only_the_first_tag_fails() {
    cache::invalidate_hits_tagged_entries_only(Arc::new(FirstTagOnly(Reference::default()))).await;
}
