//! [`ReferenceCache`]: a small, obviously correct query-cache level, for tests of what sits on
//! top of the [`Cache`] port (and as the model the cache suite is checked against).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hive_application::cache::{Cache, CacheError, CachedEntry, RemoteInvalidation, Stamp};
use tokio::sync::broadcast;

/// A cache level in memory: a generation per tag and a cache-wide epoch, and every entry keeps
/// the stamp it was computed under, so an entry is live only while its tags are unchanged (and
/// its TTL has not run out). A switch makes every call fail; a shared level has a feed of
/// remote invalidations the test sends.
#[derive(Debug, Default)]
pub struct ReferenceCache {
    state: Mutex<State>,
    failing: AtomicBool,
    feed: Option<broadcast::Sender<RemoteInvalidation>>,
}

#[derive(Debug, Default)]
struct State {
    counter: u64,
    epoch: u64,
    generations: HashMap<String, u64>,
    entries: HashMap<String, Entry>,
}

#[derive(Debug)]
struct Entry {
    value: CachedEntry,
    stamp: Vec<u64>,
    ttl: Duration,
    /// `None`: a TTL too long to add to the clock, which never runs out.
    until: Option<Instant>,
}

impl State {
    fn current(&self, tags: &[String]) -> Vec<u64> {
        std::iter::once(self.epoch)
            .chain(tags.iter().map(|t| self.generations.get(t).copied().unwrap_or(0)))
            .collect()
    }

    fn is_live(&self, entry: &Entry) -> bool {
        entry.until.is_none_or(|until| Instant::now() < until) && entry.stamp == self.current(&entry.value.tags)
    }
}

impl ReferenceCache {
    /// A level only this process writes to (no remote invalidations).
    pub fn local() -> Self {
        Self::default()
    }

    /// A "shared" level whose remote invalidations the test sends through [`Self::feed`].
    pub fn shared() -> Self {
        Self {
            feed: Some(broadcast::channel(16).0),
            ..Self::default()
        }
    }

    /// The sender of remote invalidations of a [`Self::shared`] level.
    pub fn feed(&self) -> Option<&broadcast::Sender<RemoteInvalidation>> {
        self.feed.as_ref()
    }

    /// Switches failure on (every call answers [`CacheError::Unavailable`]) or off.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// How many entries are live (unexpired, and no tag of theirs invalidated since).
    pub fn live(&self) -> usize {
        let state = self.state();
        state.entries.values().filter(|entry| state.is_live(entry)).count()
    }

    /// The TTL of the first entry whose key contains `key_part`.
    pub fn ttl_of(&self, key_part: &str) -> Option<Duration> {
        self.state()
            .entries
            .iter()
            .find(|(key, _)| key.contains(key_part))
            .map(|(_, entry)| entry.ttl)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn check(&self) -> Result<(), CacheError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(CacheError::Unavailable("switched off".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl Cache for ReferenceCache {
    async fn stamp(&self, tags: &[String]) -> Result<Stamp, CacheError> {
        self.check()?;
        Ok(Stamp::new(self.state().current(tags)))
    }

    async fn get(&self, key: &str) -> Result<Option<CachedEntry>, CacheError> {
        self.check()?;
        let state = self.state();
        Ok(state
            .entries
            .get(key)
            .filter(|entry| state.is_live(entry))
            .map(|entry| entry.value.clone()))
    }

    async fn set(&self, key: &str, entry: CachedEntry, stamp: &Stamp, ttl: Duration) -> Result<(), CacheError> {
        self.check()?;
        let entry = Entry {
            value: entry,
            stamp: stamp.generations().to_vec(),
            ttl,
            until: Instant::now().checked_add(ttl),
        };
        self.state().entries.insert(key.to_owned(), entry);
        Ok(())
    }

    async fn invalidate_tags(&self, tags: &[String]) -> Result<(), CacheError> {
        self.check()?;
        let mut state = self.state();
        for tag in tags {
            state.counter += 1;
            let generation = state.counter;
            state.generations.insert(tag.clone(), generation);
        }
        Ok(())
    }

    async fn clear(&self) -> Result<(), CacheError> {
        self.check()?;
        let mut state = self.state();
        state.counter += 1;
        state.epoch = state.counter;
        Ok(())
    }

    fn remote_invalidations(&self) -> Option<broadcast::Receiver<RemoteInvalidation>> {
        self.feed.as_ref().map(broadcast::Sender::subscribe)
    }
}
