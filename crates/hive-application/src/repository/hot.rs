//! Hot aggregates: recently used aggregates kept in process as typed values, by stream id.

use std::sync::Arc;

use quick_cache::sync::{Cache, EntryAction, EntryResult};

use super::Loaded;

/// How many aggregates a repository keeps hot unless told otherwise.
pub const DEFAULT_HOT_AGGREGATES: usize = 10_000;

/// A bounded map stream id → the aggregate at a version (no serialization: the typed value,
/// shared). Least recently used entries go first once `capacity` is reached (CLOCK-Pro, from
/// `quick_cache`). An entry is only a starting point: whoever decides on it still appends with
/// its version as the expected version, so a stale entry is refused by the store, never
/// trusted.
pub(super) struct HotAggregates<A> {
    map: Cache<String, Arc<Loaded<A>>>,
}

impl<A> std::fmt::Debug for HotAggregates<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotAggregates")
            .field("len", &self.map.len())
            .field("capacity", &self.map.capacity())
            .finish()
    }
}

impl<A: Clone> HotAggregates<A> {
    /// A map keeping at most `capacity` aggregates (at least one).
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            map: Cache::new(capacity.max(1)),
        }
    }

    /// The aggregate kept for `stream`, if any.
    pub(super) fn get(&self, stream: &str) -> Option<Arc<Loaded<A>>> {
        self.map.get(stream)
    }

    /// Keeps `loaded` for `stream` unless a newer version is already kept (two commands of one
    /// process may finish out of order).
    pub(super) fn keep(&self, stream: &str, loaded: Arc<Loaded<A>>) {
        let version = loaded.version;
        let mut fresh = Some(loaded);
        let result = self.map.entry(stream, None, |_, kept| {
            if kept.version < version {
                if let Some(fresh) = fresh.take() {
                    *kept = fresh;
                }
            }
            EntryAction::Retain(())
        });
        if let (EntryResult::Vacant(guard), Some(fresh)) = (result, fresh) {
            // The guard inserts on drop when not filled; filling it cannot fail for us.
            let _ = guard.insert(fresh);
        }
    }

    /// Forgets `stream` if what is kept is not newer than `version` (it was found stale there).
    pub(super) fn evict(&self, stream: &str, version: u64) {
        self.map.remove_if(stream, |kept| kept.version <= version);
    }

    /// How many aggregates are kept.
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(version: u64) -> Arc<Loaded<u64>> {
        Arc::new(Loaded {
            state: version,
            version,
        })
    }

    #[test]
    fn keeps_the_newest_version_and_evicts_only_what_is_stale() {
        let hot = HotAggregates::new(8);
        hot.keep("a", at(2));
        hot.keep("a", at(1));
        assert_eq!(
            hot.get("a").map(|l| l.version),
            Some(2),
            "an older version never replaces a newer"
        );
        hot.keep("a", at(3));
        hot.evict("a", 2);
        assert_eq!(
            hot.get("a").map(|l| l.version),
            Some(3),
            "newer than the stale version: kept"
        );
        hot.evict("a", 3);
        assert!(hot.get("a").is_none());
    }

    #[test]
    fn holds_at_most_its_capacity() {
        let hot = HotAggregates::new(100);
        for i in 0..1_000 {
            hot.keep(&format!("s-{i}"), at(1));
        }
        assert!(hot.len() <= 100, "{} kept", hot.len());
        assert!(hot.len() > 0);
    }
}
