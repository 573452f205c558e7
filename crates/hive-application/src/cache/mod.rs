//! Query caching: the [`Cache`] port, the [`QueryCache`] over its levels, the bus layer, and
//! invalidation by tags from events.
//!
//! A query opts in with [`Message::cache_policy`](crate::Message::cache_policy) (key material,
//! tags, TTL, codec). The [`QueryCaching`] layer looks the answer up level by level (L1 in
//! process, L2 shared), fills the levels above on a lower hit, and on a miss runs the handler
//! once for all concurrent callers and stores the answer in every level. Events invalidate the
//! tags they touch through a [`CacheInvalidator`] registered after the projections.
//!
//! **Freshness.** Each level counts generations per tag; an answer is stored with the
//! generations of its tags taken *before* the handler read anything ([`Stamp`]), and a level
//! never serves an entry whose tags moved since. So the race "a query reads the old read model,
//! a write and its invalidation happen, the query stores its old answer" leaves nothing stale.
//!
//! **Failures.** A failing level (Redis down) is a miss or a skipped write, counted in
//! [`cache_stats`]; the handler answers.

mod invalidator;
mod layer;
mod policy;
mod port;
mod query_cache;
mod stats;

pub use invalidator::{CacheInvalidator, EventTags};
pub use layer::{QueryCacheLayer, QueryCaching};
pub use policy::{CacheConfig, CachePolicy};
pub use port::{Cache, CacheError, CachedEntry, RemoteInvalidation, Stamp};
pub use query_cache::QueryCache;
pub use stats::{cache_stats, LevelStats};
