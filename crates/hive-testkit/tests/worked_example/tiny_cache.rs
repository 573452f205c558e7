//! `hive-cache-tiny`: a complete, minimal query-cache level — the cache example of
//! `docs/adapters.md`. Entries live in a `HashMap` behind a mutex; freshness comes from
//! generations: every invalidation gives its tags a generation never used before, every entry
//! is stored with the generations its tags had when its value started being computed (the
//! stamp), and it is served only while those are still current.
//!
//! It keeps every entry until it is read after its TTL and every invalidated tag forever: a real
//! level bounds its memory (`hive-cache-moka` weighs entries and evicts, and forgets tag
//! generations older than the longest TTL).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hive_application::cache::{Cache, CacheError, CachedEntry, Stamp};

struct Stored {
    entry: CachedEntry,
    /// The stamp the value was computed under.
    stamp: Stamp,
    /// `None`: a TTL too long for the clock to represent, i.e. never.
    expires: Option<Instant>,
}

#[derive(Default)]
struct State {
    /// Moved by every invalidation and clear, so a generation is never reused.
    counter: u64,
    /// Each invalidated tag's generation (a tag never invalidated is at 0).
    generations: HashMap<String, u64>,
    /// The generation of the last `clear`.
    epoch: u64,
    entries: HashMap<String, Stored>,
}

impl State {
    /// The current generations of `tags`, after the epoch.
    fn stamp(&self, tags: &[String]) -> Stamp {
        let mut generations = Vec::with_capacity(tags.len() + 1);
        generations.push(self.epoch);
        generations.extend(tags.iter().map(|t| self.generations.get(t).copied().unwrap_or(0)));
        Stamp::new(generations)
    }

    fn next_generation(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }
}

/// A cache level in process memory.
#[derive(Default)]
pub struct TinyCache {
    state: Mutex<State>,
}

impl TinyCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl Cache for TinyCache {
    async fn stamp(&self, tags: &[String]) -> Result<Stamp, CacheError> {
        Ok(self.state().stamp(tags))
    }

    async fn get(&self, key: &str) -> Result<Option<CachedEntry>, CacheError> {
        let mut state = self.state();
        let Some(stored) = state.entries.get(key) else {
            return Ok(None);
        };
        let alive = stored.expires.is_none_or(|at| Instant::now() < at);
        // Fresh while neither the cache nor any of its tags was invalidated since its stamp.
        if alive && stored.stamp == state.stamp(&stored.entry.tags) {
            return Ok(Some(stored.entry.clone()));
        }
        state.entries.remove(key);
        Ok(None)
    }

    async fn set(&self, key: &str, entry: CachedEntry, stamp: &Stamp, ttl: Duration) -> Result<(), CacheError> {
        let mut state = self.state();
        // No stale fill: a stamp that is no longer current for the entry's tags was taken before
        // an invalidation of one of them (or a clear), so the value may predate a write.
        if *stamp != state.stamp(&entry.tags) {
            return Ok(());
        }
        let stored = Stored {
            entry,
            stamp: stamp.clone(),
            expires: Instant::now().checked_add(ttl),
        };
        state.entries.insert(key.to_owned(), stored);
        Ok(())
    }

    async fn invalidate_tags(&self, tags: &[String]) -> Result<(), CacheError> {
        let mut state = self.state();
        for tag in tags {
            let generation = state.next_generation();
            state.generations.insert(tag.clone(), generation);
        }
        Ok(())
    }

    async fn clear(&self) -> Result<(), CacheError> {
        let mut state = self.state();
        state.epoch = state.next_generation();
        state.entries.clear();
        Ok(())
    }
}
