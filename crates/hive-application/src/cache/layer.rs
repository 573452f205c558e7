//! The query-bus layer that answers from the [`QueryCache`].

use futures::future::BoxFuture;
use futures::FutureExt;
use tower::ServiceExt;

use super::QueryCache;
use crate::bus::{BusRequest, BusResponse};
use crate::middleware::{Middleware, MiddlewareLayer, Next};
use crate::{ApplicationError, MessageContext, QueryBusBuilder};

/// Answers cacheable queries (those whose [`Message::cache_policy`](crate::Message::cache_policy)
/// is `Some` and whose type the [`CacheConfig`](super::CacheConfig) does not leave uncached)
/// from the [`QueryCache`]; the others go straight on. Errors are never cached.
#[derive(Debug, Clone)]
pub struct QueryCaching {
    cache: QueryCache,
}

/// The [`QueryCaching`] layer.
pub type QueryCacheLayer = MiddlewareLayer<QueryCaching>;

impl QueryCache {
    /// The layer answering from this cache (put it after validation: invalid queries never
    /// reach the cache).
    pub fn layer(&self) -> QueryCacheLayer {
        MiddlewareLayer::wrap(QueryCaching { cache: self.clone() })
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

impl Middleware for QueryCaching {
    fn call(&self, request: BusRequest, next: Next) -> BoxFuture<'static, Result<BusResponse, ApplicationError>> {
        let policy = request.message.cache_policy(&request.context);
        let ttl = policy
            .as_ref()
            .and_then(|p| self.cache.config().ttl_of(request.message_type, p.ttl()));
        let (Some(policy), Some(ttl)) = (policy, ttl) else {
            return next.oneshot(request).boxed();
        };
        let key = cache_key(request.message_type, &request.context, policy.material());
        let cache = self.cache.clone();
        async move { cache.fetch(key, policy, ttl, next.oneshot(request)).await }.boxed()
    }
}

impl QueryBusBuilder {
    /// The default query middleware with the cache between validation and the timeout:
    /// tracing, validation, [`QueryCaching`], timeout.
    #[must_use]
    pub fn with_default_middleware_and_cache(self, config: crate::MiddlewareConfig, cache: &QueryCache) -> Self {
        self.layer(crate::middleware::TracingLayer::queries())
            .layer(crate::middleware::ValidationLayer::new())
            .layer(cache.layer())
            .layer(crate::middleware::timeout_layer(config.timeout))
    }
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
