//! A reference cache level for the query-cache tests: tag generations and an epoch, a switch to
//! make it fail, a feed of remote invalidations the test drives, and the TTL of each write.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use hive_application::cache::{Cache, CacheError, CachedEntry, RemoteInvalidation, Stamp};
use tokio::sync::broadcast;

pub struct Level {
    state: Mutex<State>,
    pub failing: AtomicBool,
    pub feed: Option<broadcast::Sender<RemoteInvalidation>>,
}

#[derive(Default)]
struct State {
    counter: u64,
    epoch: u64,
    generations: HashMap<String, u64>,
    entries: HashMap<String, (CachedEntry, Vec<u64>, Duration)>,
}

impl State {
    fn current(&self, tags: &[String]) -> Vec<u64> {
        std::iter::once(self.epoch)
            .chain(tags.iter().map(|t| self.generations.get(t).copied().unwrap_or(0)))
            .collect()
    }
}

impl Level {
    /// A level only this process writes to.
    pub fn local() -> Self {
        Self {
            state: Mutex::default(),
            failing: AtomicBool::new(false),
            feed: None,
        }
    }

    /// A "shared" level whose remote invalidations the test sends.
    pub fn shared() -> Self {
        Self {
            feed: Some(broadcast::channel(16).0),
            ..Self::local()
        }
    }

    /// How many entries are live.
    pub fn live(&self) -> usize {
        let state = self.state.lock().unwrap();
        state
            .entries
            .values()
            .filter(|(entry, stamp, _)| *stamp == state.current(&entry.tags))
            .count()
    }

    /// The TTL the entry under a key was written with.
    pub fn ttl_of(&self, key_part: &str) -> Option<Duration> {
        let state = self.state.lock().unwrap();
        state
            .entries
            .iter()
            .find(|(k, _)| k.contains(key_part))
            .map(|(_, (_, _, ttl))| *ttl)
    }

    fn check(&self) -> Result<(), CacheError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(CacheError::Unavailable("switched off".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl Cache for Level {
    async fn stamp(&self, tags: &[String]) -> Result<Stamp, CacheError> {
        self.check()?;
        Ok(Stamp::new(self.state.lock().unwrap().current(tags)))
    }

    async fn get(&self, key: &str) -> Result<Option<CachedEntry>, CacheError> {
        self.check()?;
        let state = self.state.lock().unwrap();
        Ok(state
            .entries
            .get(key)
            .and_then(|(entry, stamp, _)| (*stamp == state.current(&entry.tags)).then(|| entry.clone())))
    }

    async fn set(&self, key: &str, entry: CachedEntry, stamp: &Stamp, ttl: Duration) -> Result<(), CacheError> {
        self.check()?;
        let stamp = stamp.generations().to_vec();
        self.state
            .lock()
            .unwrap()
            .entries
            .insert(key.to_owned(), (entry, stamp, ttl));
        Ok(())
    }

    async fn invalidate_tags(&self, tags: &[String]) -> Result<(), CacheError> {
        self.check()?;
        let mut state = self.state.lock().unwrap();
        for tag in tags {
            state.counter += 1;
            let generation = state.counter;
            state.generations.insert(tag.clone(), generation);
        }
        Ok(())
    }

    async fn clear(&self) -> Result<(), CacheError> {
        self.check()?;
        let mut state = self.state.lock().unwrap();
        state.counter += 1;
        state.epoch = state.counter;
        Ok(())
    }

    fn remote_invalidations(&self) -> Option<broadcast::Receiver<RemoteInvalidation>> {
        self.feed.as_ref().map(broadcast::Sender::subscribe)
    }
}
