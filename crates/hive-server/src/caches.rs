//! The query cache the configuration names: `none`, `moka` (in process) or `moka+redis` (in
//! process, then shared), and what the rest of the service needs from it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hive_application::cache::{Cache, CacheConfig, QueryCache};
use hive_application::{Lease, Message};
use hive_billing::{BillingModule, GetPaymentById};
use hive_cache_moka::{MokaCache, MokaCacheConfig};
use hive_cache_redis::{RedisCache, RedisCacheConfig, RedisLease};
use hive_http::{Readiness, ReadinessCheck};

use crate::app::StartError;
use crate::config::{CacheKind, Config, ConfigError, StoreKind};

/// The TTL of a projection lease (renewed every third of it; another instance takes over at
/// most this long after the holder died).
pub const LEASE_TTL: Duration = Duration::from_secs(10);

/// The caches of one process.
#[derive(Clone, Default)]
pub struct Caches {
    /// The query cache (`None` with `cache = "none"`).
    pub query: Option<QueryCache>,
    /// The shared level, for readiness.
    pub redis: Option<RedisCache>,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches")
            .field("query", &self.query)
            .field("redis", &self.redis)
            .finish_non_exhaustive()
    }
}

/// The query cache's settings with `store`. Where the payment read model is in process
/// (the embedded stores), a payment by id is a hash look-up, cheaper than a cache hit (the
/// key, the freshness check, decoding the answer): `GetPaymentById` is left uncached there
/// (docs/performance.md, P8: 23 600 → 36 900 requests/s). In MongoDB, Elasticsearch and
/// PostgreSQL it is a network round trip away, and cached.
pub fn query_cache_config(store: StoreKind) -> CacheConfig {
    match store {
        StoreKind::Mongodb | StoreKind::Elasticsearch | StoreKind::Postgres => CacheConfig::default(),
        StoreKind::Memory | StoreKind::MemoryDurable => {
            CacheConfig::default().uncached(<GetPaymentById as Message>::name())
        }
    }
}

impl Caches {
    /// Builds the configured caches. Redis is not dialled here: when it is down the service
    /// starts anyway, degraded (see `/readyz`). Call it inside a Tokio runtime.
    pub fn open(config: &Config) -> Result<Self, StartError> {
        let l1 = || Arc::new(MokaCache::new(MokaCacheConfig::default())) as Arc<dyn Cache>;
        match config.cache {
            CacheKind::None => Ok(Self::default()),
            CacheKind::Moka => Ok(Self {
                query: Some(QueryCache::new(vec![l1()], query_cache_config(config.store))),
                redis: None,
            }),
            CacheKind::MokaRedis => {
                let url = config
                    .redis_url
                    .as_deref()
                    .filter(|u| !u.trim().is_empty())
                    .ok_or_else(|| {
                        ConfigError::new(
                            "redis.url",
                            None,
                            "required with cache = \"moka+redis\": set `[redis] url` in hive.toml or HIVE_REDIS_URL, \
                         e.g. redis://127.0.0.1:6379",
                        )
                    })?;
                let redis = RedisCache::open(RedisCacheConfig::new(url))
                    .map_err(|e| ConfigError::new("redis.url", Some(url), e.to_string()))?;
                let levels = vec![l1(), Arc::new(redis.clone()) as Arc<dyn Cache>];
                Ok(Self {
                    query: Some(QueryCache::new(levels, query_cache_config(config.store))),
                    redis: Some(redis),
                })
            }
        }
    }

    /// `module` with these caches.
    pub fn apply(&self, mut module: BillingModule) -> BillingModule {
        if let Some(query) = &self.query {
            module = module.with_query_cache(query.clone());
        }
        module
    }

    /// Projection leases on the shared level, when there is one.
    pub fn lease(&self) -> Option<Arc<dyn Lease>> {
        self.redis
            .clone()
            .map(|redis| Arc::new(RedisLease::new(redis)) as Arc<dyn Lease>)
    }

    /// The readiness check of the shared level: Redis down is `degraded`, never `down`.
    pub fn readiness(&self) -> Option<Arc<dyn ReadinessCheck>> {
        self.redis
            .clone()
            .map(|redis| Arc::new(RedisReady(redis)) as Arc<dyn ReadinessCheck>)
    }
}

/// `/readyz` entry `redis`.
struct RedisReady(RedisCache);

#[async_trait]
impl ReadinessCheck for RedisReady {
    fn name(&self) -> &str {
        "redis"
    }

    async fn check(&self) -> Readiness {
        match self.0.ping().await {
            Ok(()) => Readiness::Up,
            Err(error) => Readiness::Degraded(format!("{error}: queries are answered without the shared cache")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_payment_by_id_is_cached_only_when_the_read_model_is_a_network_away() {
        let name = <GetPaymentById as Message>::name();
        let asked = Some(Duration::from_secs(60));
        for store in [StoreKind::Memory, StoreKind::MemoryDurable] {
            assert_eq!(query_cache_config(store).ttl_of(name, asked), None, "{store:?}");
        }
        for store in [StoreKind::Mongodb, StoreKind::Elasticsearch, StoreKind::Postgres] {
            assert_eq!(query_cache_config(store).ttl_of(name, asked), asked, "{store:?}");
        }
        assert!(
            query_cache_config(StoreKind::Memory)
                .ttl_of(<hive_billing::GetPaymentStatistics as Message>::name(), asked)
                .is_some(),
            "other queries stay cached"
        );
    }
}
