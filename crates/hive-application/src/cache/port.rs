//! The `Cache` port: what a cache level (in process, shared) must do.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use thiserror::Error;
use tokio::sync::broadcast;

/// Why a cache operation failed. The query cache treats every failure as a miss (or a skipped
/// write) and goes on: a cache is never an outage.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CacheError {
    /// The backend does not answer (refused, timed out, disconnected).
    #[error("cache unavailable: {0}")]
    Unavailable(String),
    /// The backend answered with something unexpected.
    #[error("cache backend error: {0}")]
    Backend(String),
}

/// One cached answer: the encoded value and the tags it depends on. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedEntry {
    /// The encoded value.
    pub bytes: Arc<[u8]>,
    /// The tags whose invalidation makes this entry stale.
    pub tags: Arc<[String]>,
}

impl CachedEntry {
    /// An entry of `bytes` depending on `tags`.
    pub fn new(bytes: impl Into<Arc<[u8]>>, tags: impl Into<Arc<[String]>>) -> Self {
        Self {
            bytes: bytes.into(),
            tags: tags.into(),
        }
    }
}

/// The generations of some tags (and of the whole cache) at one instant, as one cache level
/// counts them. Taken with [`Cache::stamp`] *before* the value is computed, and handed back
/// with it to [`Cache::set`]: the level then never serves the value if any of those tags was
/// invalidated in between. Its numbers only mean something to the level that made it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamp(Vec<u64>);

impl Stamp {
    /// A stamp of these generations (the layout is the level's own).
    pub fn new(generations: Vec<u64>) -> Self {
        Self(generations)
    }

    /// The generations.
    pub fn generations(&self) -> &[u64] {
        &self.0
    }
}

/// What a shared level heard from other processes, for the levels above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteInvalidation {
    /// Another process invalidated these tags.
    Tags(Vec<String>),
    /// Another process cleared the whole cache.
    All,
    /// The feed of invalidations is lost (the backend is unreachable): invalidations made
    /// elsewhere may be missed until [`RemoteInvalidation::FeedRestored`].
    FeedLost,
    /// The feed is back; what was said while it was lost is unknown.
    FeedRestored,
}

/// One level of the query cache: values with a TTL, invalidated by tags.
///
/// The contract (checked by `hive_testkit::cache_conformance!`):
///
/// * [`get`](Cache::get) returns what [`set`](Cache::set) stored under the key, with its tags,
///   until the TTL passes, one of its tags is invalidated, or the cache is cleared.
/// * **No stale fill**: `set(key, entry, stamp, ttl)` with a `stamp` taken by
///   [`stamp`](Cache::stamp)`(entry.tags)` before an invalidation of one of those tags (or a
///   clear) must never be returned by `get`, whichever of `set` and the invalidation runs
///   first. A stamp taken for other tags than the entry's is refused the same way.
/// * Invalidating a tag leaves entries without that tag alone.
///
/// Implementations: `hive-cache-moka` (in process) and `hive-cache-redis` (shared).
#[async_trait]
pub trait Cache: Send + Sync {
    /// The current generations of `tags`, to hand to [`Cache::set`] with a value computed after
    /// this call.
    async fn stamp(&self, tags: &[String]) -> Result<Stamp, CacheError>;

    /// The live, fresh entry under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<CachedEntry>, CacheError>;

    /// Stores `entry` under `key` for `ttl` (levels may cap it), unless a tag of the entry was
    /// invalidated since `stamp` was taken.
    async fn set(&self, key: &str, entry: CachedEntry, stamp: &Stamp, ttl: Duration) -> Result<(), CacheError>;

    /// Makes every entry carrying one of `tags` stale (and tells other processes, for a shared
    /// level).
    async fn invalidate_tags(&self, tags: &[String]) -> Result<(), CacheError>;

    /// Makes every entry stale.
    async fn clear(&self) -> Result<(), CacheError>;

    /// For a shared level: invalidations made by other processes, which the levels above must
    /// apply too. `None` (the default) for a level only this process writes to.
    fn remote_invalidations(&self) -> Option<broadcast::Receiver<RemoteInvalidation>> {
        None
    }
}
