//! Hit, miss, invalidation and error counters per level of one query cache (what `/metrics`
//! shows, read with [`QueryCache::stats`](super::QueryCache::stats)).

use std::sync::atomic::{AtomicU64, Ordering};

/// Level names, by index; deeper levels are all `l4+`.
const NAMES: [&str; 4] = ["l1", "l2", "l3", "l4+"];

/// The counters of one cache level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LevelStats {
    /// `l1` for the first level, `l2` for the second…
    pub level: &'static str,
    /// Look-ups answered by this level.
    pub hits: u64,
    /// Look-ups this level could not answer.
    pub misses: u64,
    /// Tags invalidated in this level (by this process's events or heard from others).
    pub invalidations: u64,
    /// Failed operations (each also a miss or a skipped write).
    pub errors: u64,
}

/// What happened at a level.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event {
    Hit,
    Miss,
    Invalidated(u64),
    Error,
}

/// The counters of one level of one query cache.
#[derive(Debug)]
pub(crate) struct LevelCounters {
    level: &'static str,
    hits: AtomicU64,
    misses: AtomicU64,
    invalidations: AtomicU64,
    errors: AtomicU64,
}

impl LevelCounters {
    pub(crate) fn new(index: usize) -> Self {
        Self {
            level: NAMES[index.min(NAMES.len() - 1)],
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            invalidations: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        }
    }

    pub(crate) fn record(&self, event: Event) {
        let (counter, by) = match event {
            Event::Hit => (&self.hits, 1),
            Event::Miss => (&self.misses, 1),
            Event::Invalidated(n) => (&self.invalidations, n),
            Event::Error => (&self.errors, 1),
        };
        counter.fetch_add(by, Ordering::Relaxed);
    }

    pub(crate) fn read(&self) -> LevelStats {
        LevelStats {
            level: self.level,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            invalidations: self.invalidations.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }
}
