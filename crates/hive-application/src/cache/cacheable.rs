//! The opt-in of a query to caching, and the handler decorator answering it from the cache.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::query_cache::Flights;
use super::{CachePolicy, QueryCache};
use crate::{ApplicationError, Handler, MessageContext, Query};

/// A query whose answers may be cached: its policy gives the key material, the tags and the
/// TTL. Its handler caches only when wrapped with [`QueryCache::cached`].
pub trait Cacheable: Query<Output: Serialize + DeserializeOwned> {
    /// How this answer may be cached; `None` leaves this one uncached (for example when the
    /// context has no organization to key it by).
    fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy>;
}

/// A handler answering its [`Cacheable`] query `M` from a [`QueryCache`], running the inner
/// handler only on a miss (once for all concurrent callers of one key). Errors are never
/// cached; a query with no policy, or whose type the [`CacheConfig`](super::CacheConfig) leaves
/// uncached, goes straight to the inner handler.
pub struct CachedHandler<M: Cacheable, H> {
    handler: H,
    cache: Option<QueryCache>,
    flights: Flights<M::Output>,
}

impl<M: Cacheable, H> std::fmt::Debug for CachedHandler<M, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedHandler")
            .field("message", &M::name())
            .field("cached", &self.cache.is_some())
            .finish_non_exhaustive()
    }
}

impl<M: Cacheable, H: Handler<M>> CachedHandler<M, H> {
    /// `handler`, answering from `cache` when there is one (and plainly otherwise).
    pub fn new(handler: H, cache: Option<&QueryCache>) -> Self {
        let flights = Flights::default();
        if let Some(cache) = cache {
            cache.follow(&flights);
        }
        Self {
            handler,
            cache: cache.cloned(),
            flights,
        }
    }
}

impl QueryCache {
    /// `handler`, answering its [`Cacheable`] query from this cache:
    /// `QueryBus::builder().handler::<M, _>(cache.cached(handler))`.
    pub fn cached<M: Cacheable, H: Handler<M>>(&self, handler: H) -> CachedHandler<M, H> {
        CachedHandler::new(handler, Some(self))
    }
}

impl<M: Cacheable, H: Handler<M>> Handler<M> for CachedHandler<M, H> {
    async fn handle(&self, query: &M, context: &MessageContext) -> Result<M::Output, ApplicationError> {
        let Some(cache) = &self.cache else {
            return self.handler.handle(query, context).await;
        };
        let Some(policy) = query.cache_policy(context) else {
            return self.handler.handle(query, context).await;
        };
        let Some(ttl) = cache.config().ttl_of(M::name(), policy.ttl()) else {
            return self.handler.handle(query, context).await;
        };
        let key = cache_key(M::name(), context, policy.material());
        cache
            .fetch(&self.flights, key, &policy, ttl, self.handler.handle(query, context))
            .await
    }
}

/// The cache key: message type, tenant (always), canonical query — each length-prefixed, so no
/// two different triples give one key.
pub(crate) fn cache_key(message_type: &str, context: &MessageContext, material: &str) -> String {
    let tenant = match context.metadata.organization_id.as_deref() {
        Some(org) => format!("{}:{org}", org.len()),
        None => "none".to_owned(),
    };
    format!("q:{}:{message_type}:{tenant}:{material}", message_type.len())
}

#[cfg(test)]
mod tests {
    use hive_domain::Metadata;

    use super::*;

    #[test]
    fn keys_separate_types_tenants_and_queries() {
        let org = |o: &str| MessageContext::new().with_metadata(Metadata::default().with_organization(o));
        let key = cache_key("T", &org("a:b"), "{}");
        assert_ne!(key, cache_key("T", &org("a"), "b:{}"));
        assert_ne!(key, cache_key("T:a", &org("b"), "{}"));
        assert_ne!(
            cache_key("T", &MessageContext::new(), "{}"),
            cache_key("T", &org("none"), "{}")
        );
        assert_eq!(key, cache_key("T", &org("a:b"), "{}"));
    }
}
