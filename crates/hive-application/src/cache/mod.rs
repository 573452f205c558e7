//! Query caching: the [`Cache`] port, the [`QueryCache`] over its levels, the handler decorator,
//! and invalidation by tags from events.
//!
//! A query opts in by implementing [`Cacheable`] (its [`CachePolicy`]: key material, tags,
//! TTL), and its handler by being registered as [`QueryCache::cached`]`(handler)`. That
//! [`CachedHandler`] looks the answer up level by level (L1 in process, L2 shared), fills the
//! levels above on a lower hit, and on a miss runs the handler once for all concurrent callers
//! and stores the answer in every level. The bus and the messages know nothing of it. Events invalidate the
//! tags they touch through a [`CacheInvalidator`] registered after the projections.
//!
//! **Freshness.** Each level counts generations per tag; an answer is stored with the
//! generations of its tags taken *before* the handler read anything ([`Stamp`]), and a level
//! never serves an entry whose tags moved since. So the race "a query reads the old read model,
//! a write and its invalidation happen, the query stores its old answer" leaves nothing stale.
//!
//! **Failures.** A failing level (Redis down) is a miss or a skipped write, counted in
//! [`QueryCache::stats`]; the handler answers.

mod cacheable;
mod invalidator;
mod policy;
mod port;
mod query_cache;
mod stats;

pub use cacheable::{Cacheable, CachedHandler};
pub use invalidator::{CacheInvalidator, EventTags};
pub use policy::{CacheConfig, CachePolicy};
pub use port::{Cache, CacheError, CachedEntry, RemoteInvalidation, Stamp};
pub use query_cache::QueryCache;
pub use stats::LevelStats;
