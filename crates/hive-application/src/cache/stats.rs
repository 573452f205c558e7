//! Hit, miss, invalidation and error counters per cache level: per query cache and for the
//! whole process (what `/metrics` shows).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The most levels counted separately process-wide; deeper levels count as the last one.
const MAX_LEVELS: usize = 4;
const NAMES: [&str; MAX_LEVELS] = ["l1", "l2", "l3", "l4"];

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

#[derive(Debug, Default)]
pub(crate) struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    invalidations: AtomicU64,
    errors: AtomicU64,
}

impl Counters {
    fn read(&self, level: &'static str) -> LevelStats {
        LevelStats {
            level,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            invalidations: self.invalidations.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }
}

static GLOBAL: [Counters; MAX_LEVELS] = [
    Counters::new_const(),
    Counters::new_const(),
    Counters::new_const(),
    Counters::new_const(),
];
static LEVELS_IN_USE: AtomicUsize = AtomicUsize::new(0);

impl Counters {
    const fn new_const() -> Self {
        Self {
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            invalidations: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        }
    }
}

/// What happened at a level.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event {
    Hit,
    Miss,
    Invalidated(u64),
    Error,
}

/// The counters of one level of one query cache, mirrored into the process-wide ones.
#[derive(Debug)]
pub(crate) struct LevelCounters {
    index: usize,
    own: Counters,
}

impl LevelCounters {
    pub(crate) fn new(index: usize) -> Self {
        let index = index.min(MAX_LEVELS - 1);
        LEVELS_IN_USE.fetch_max(index + 1, Ordering::Relaxed);
        Self {
            index,
            own: Counters::default(),
        }
    }

    pub(crate) fn record(&self, event: Event) {
        for counters in [&self.own, &GLOBAL[self.index]] {
            let (counter, by) = match event {
                Event::Hit => (&counters.hits, 1),
                Event::Miss => (&counters.misses, 1),
                Event::Invalidated(n) => (&counters.invalidations, n),
                Event::Error => (&counters.errors, 1),
            };
            counter.fetch_add(by, Ordering::Relaxed);
        }
    }

    pub(crate) fn read(&self) -> LevelStats {
        self.own.read(NAMES[self.index])
    }
}

/// The counters of every cache level used in this process, summed over its query caches
/// (for metrics; see [`QueryCache::stats`](super::QueryCache::stats) for one cache's own).
pub fn cache_stats() -> Vec<LevelStats> {
    let levels = LEVELS_IN_USE.load(Ordering::Relaxed);
    GLOBAL[..levels]
        .iter()
        .zip(NAMES)
        .map(|(counters, name)| counters.read(name))
        .collect()
}
