//! [`RedisLease`]: projection leases with expiry and fencing.

use std::time::Duration;

use async_trait::async_trait;
use hive_application::{ApplicationError, Lease, LeaseGrant};
use redis::Script;

use crate::{scripts, RedisCache};

/// Named leases on Redis: `SET {prefix}lease:{name} token NX PX ttl` to acquire (with a
/// fencing token from `INCR {prefix}lease:{name}:fence`), renew and release only with the
/// holder's token (Lua scripts). Shares the [`RedisCache`]'s connection, timeout and circuit.
///
/// A holder that dies keeps the lease until it expires; the next `acquire` after that wins it
/// with a larger fencing token.
#[derive(Clone)]
pub struct RedisLease {
    cache: RedisCache,
    acquire: Script,
    renew: Script,
    release: Script,
}

impl std::fmt::Debug for RedisLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLease")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl RedisLease {
    /// Leases on the connection of `cache`, under its key prefix.
    pub fn new(cache: RedisCache) -> Self {
        Self {
            cache,
            acquire: scripts::acquire(),
            renew: scripts::renew(),
            release: scripts::release(),
        }
    }

    fn keys(&self, name: &str) -> (String, String) {
        let key = format!("{}lease:{name}", self.cache.config().prefix);
        let fence = format!("{key}:fence");
        (key, fence)
    }
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn unavailable(error: hive_application::cache::CacheError) -> ApplicationError {
    ApplicationError::Unavailable(error.to_string())
}

#[async_trait]
impl Lease for RedisLease {
    async fn acquire(&self, name: &str, ttl: Duration) -> Result<Option<LeaseGrant>, ApplicationError> {
        let (key, fence_key) = self.keys(name);
        let token = uuid::Uuid::new_v4().to_string();
        let (script, arg_token) = (&self.acquire, token.clone());
        let fence = self
            .cache
            .redis()
            .call("lease acquire", |mut c| async move {
                script
                    .key(key)
                    .key(fence_key)
                    .arg(arg_token)
                    .arg(millis(ttl))
                    .arg(scripts::counter_start())
                    .invoke_async::<u64>(&mut c)
                    .await
            })
            .await
            .map_err(unavailable)?;
        Ok((fence > 0).then_some(LeaseGrant { token, fence }))
    }

    async fn renew(&self, name: &str, grant: &LeaseGrant, ttl: Duration) -> Result<bool, ApplicationError> {
        let (key, _) = self.keys(name);
        let (script, token) = (&self.renew, grant.token.clone());
        let renewed = self
            .cache
            .redis()
            .call("lease renew", |mut c| async move {
                script
                    .key(key)
                    .arg(token)
                    .arg(millis(ttl))
                    .invoke_async::<u64>(&mut c)
                    .await
            })
            .await
            .map_err(unavailable)?;
        Ok(renewed == 1)
    }

    async fn release(&self, name: &str, grant: &LeaseGrant) -> Result<(), ApplicationError> {
        let (key, _) = self.keys(name);
        let (script, token) = (&self.release, grant.token.clone());
        self.cache
            .redis()
            .call("lease release", |mut c| async move {
                script.key(key).arg(token).invoke_async::<u64>(&mut c).await
            })
            .await
            .map(drop)
            .map_err(unavailable)
    }
}
