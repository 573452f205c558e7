//! [`MokaCache`]: the in-process level.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hive_application::cache::{Cache, CacheError, CachedEntry, Stamp};
use moka::Expiry;

/// Settings of a [`MokaCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MokaCacheConfig {
    /// Total weight (bytes of keys, values and tags, plus a fixed overhead per entry) kept
    /// before the least useful entries are evicted (default 64 MiB).
    pub max_bytes: u64,
    /// Longest TTL an entry gets, whatever it asks for (default 1 hour).
    pub max_ttl: Duration,
    /// Drop entries not read for this long (default: never).
    pub time_to_idle: Option<Duration>,
}

impl Default for MokaCacheConfig {
    fn default() -> Self {
        Self {
            max_bytes: 64 * 1024 * 1024,
            max_ttl: Duration::from_secs(3600),
            time_to_idle: None,
        }
    }
}

/// Weight counted for each entry on top of its bytes (map slot, `Arc`s, stamp).
const ENTRY_OVERHEAD: usize = 96;

/// What is kept per key.
#[derive(Debug)]
struct Stored {
    entry: CachedEntry,
    /// The epoch, then the generation of each tag, when the value was computed.
    stamp: Vec<u64>,
    ttl: Duration,
}

/// Each entry lives its own TTL from its last write.
struct PerEntryTtl;

impl Expiry<String, Arc<Stored>> for PerEntryTtl {
    fn expire_after_create(&self, _: &String, value: &Arc<Stored>, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _: &String,
        value: &Arc<Stored>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// The in-process cache level (L1), on a moka future cache bounded by weight.
///
/// Freshness by generations: every invalidation gives each invalidated tag a new generation
/// (a process-wide counter, never reused), a clear gives the whole cache a new epoch; an entry
/// keeps the generations of its tags from *before* its value was computed (its [`Stamp`]) and
/// is served only while they are unchanged. So an answer computed before an invalidation is
/// never served after it, even when it is stored after it. Stale entries are dropped when
/// read, or evicted. The generation of a tag is forgotten once no entry can be older than it
/// (`max_ttl` after its last invalidation).
///
/// ```
/// use std::time::Duration;
/// use hive_application::cache::{Cache, CachedEntry};
/// use hive_cache_moka::{MokaCache, MokaCacheConfig};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let cache = MokaCache::new(MokaCacheConfig::default());
/// let tags = vec!["org:o1:payments".to_string()];
/// let stamp = cache.stamp(&tags).await.unwrap();
/// let entry = CachedEntry::new(b"answer".to_vec(), tags.clone());
/// cache.set("k", entry, &stamp, Duration::from_secs(60)).await.unwrap();
/// assert!(cache.get("k").await.unwrap().is_some());
/// cache.invalidate_tags(&tags).await.unwrap();
/// assert!(cache.get("k").await.unwrap().is_none());
/// # });
/// ```
#[derive(Clone)]
pub struct MokaCache {
    entries: moka::future::Cache<String, Arc<Stored>>,
    generations: moka::sync::Cache<String, u64>,
    epoch: Arc<AtomicU64>,
    counter: Arc<AtomicU64>,
    max_ttl: Duration,
}

impl std::fmt::Debug for MokaCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MokaCache")
            .field("entries", &self.entries.entry_count())
            .field("weight", &self.entries.weighted_size())
            .field("max_ttl", &self.max_ttl)
            .finish()
    }
}

impl MokaCache {
    /// An empty cache.
    pub fn new(config: MokaCacheConfig) -> Self {
        let mut builder = moka::future::Cache::builder()
            .max_capacity(config.max_bytes)
            .weigher(|key: &String, value: &Arc<Stored>| {
                let tags: usize = value.entry.tags.iter().map(String::len).sum();
                let weight = key.len() + value.entry.bytes.len() + tags + ENTRY_OVERHEAD;
                u32::try_from(weight).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntryTtl);
        if let Some(idle) = config.time_to_idle {
            builder = builder.time_to_idle(idle);
        }
        let max_ttl = config.max_ttl.max(Duration::from_millis(1));
        Self {
            entries: builder.build(),
            // Kept a little longer than any entry can live: see the type's documentation.
            generations: moka::sync::Cache::builder()
                .time_to_live(max_ttl + Duration::from_secs(1))
                .build(),
            epoch: Arc::default(),
            counter: Arc::default(),
            max_ttl,
        }
    }

    /// How many entries are held (stale ones included until they are read or evicted;
    /// approximate: moka applies writes in batches).
    pub fn entry_count(&self) -> u64 {
        self.entries.entry_count()
    }

    /// Applies moka's pending maintenance now (evictions by weight, expirations); it otherwise
    /// runs in batches as the cache is used.
    pub async fn run_pending_tasks(&self) {
        self.entries.run_pending_tasks().await;
    }

    fn current(&self, tags: &[String]) -> Vec<u64> {
        let mut stamp = Vec::with_capacity(tags.len() + 1);
        stamp.push(self.epoch.load(Ordering::Acquire));
        stamp.extend(tags.iter().map(|tag| self.generations.get(tag).unwrap_or(0)));
        stamp
    }

    fn next_generation(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::AcqRel) + 1
    }
}

#[async_trait]
impl Cache for MokaCache {
    async fn stamp(&self, tags: &[String]) -> Result<Stamp, CacheError> {
        Ok(Stamp::new(self.current(tags)))
    }

    async fn get(&self, key: &str) -> Result<Option<CachedEntry>, CacheError> {
        let Some(stored) = self.entries.get(key).await else {
            return Ok(None);
        };
        if stored.stamp == self.current(&stored.entry.tags) {
            return Ok(Some(stored.entry.clone()));
        }
        self.entries.invalidate(key).await;
        Ok(None)
    }

    async fn set(&self, key: &str, entry: CachedEntry, stamp: &Stamp, ttl: Duration) -> Result<(), CacheError> {
        let stamp = stamp.generations();
        // Already stale (or a stamp of other tags): not worth its room.
        if stamp != self.current(&entry.tags).as_slice() {
            return Ok(());
        }
        let stored = Stored {
            entry,
            stamp: stamp.to_vec(),
            ttl: ttl.min(self.max_ttl),
        };
        self.entries.insert(key.to_owned(), Arc::new(stored)).await;
        Ok(())
    }

    async fn invalidate_tags(&self, tags: &[String]) -> Result<(), CacheError> {
        for tag in tags {
            self.generations.insert(tag.clone(), self.next_generation());
        }
        Ok(())
    }

    async fn clear(&self) -> Result<(), CacheError> {
        self.epoch.store(self.next_generation(), Ordering::Release);
        self.entries.invalidate_all();
        Ok(())
    }
}
