//! One Redis connection (a `ConnectionManager`, reconnecting by itself) behind a per-call
//! timeout, a short circuit breaker and rate-limited warnings.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use hive_application::cache::CacheError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisResult};

use crate::RedisCacheConfig;

/// The connection and its failure bookkeeping.
pub(crate) struct Redis {
    pub(crate) client: Client,
    manager: ConnectionManager,
    op_timeout: Duration,
    retry_after: Duration,
    log_interval: Duration,
    state: Mutex<Health>,
    errors: AtomicU64,
}

#[derive(Default)]
struct Health {
    /// Calls fail at once until then.
    open_until: Option<Instant>,
    /// When the last warning was logged.
    last_warning: Option<Instant>,
    /// Failures since the last warning.
    unreported: u64,
    /// Whether the last call failed.
    failing: bool,
}

impl Redis {
    /// A lazy connection: nothing is dialled until the first call, so a Redis that is down at
    /// start does not stop the process.
    pub(crate) fn open(config: &RedisCacheConfig) -> Result<Self, CacheError> {
        let client = Client::open(config.url.as_str()).map_err(|e| CacheError::Backend(e.to_string()))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.op_timeout.max(Duration::from_millis(100))))
            .set_response_timeout(Some(config.op_timeout))
            .set_number_of_retries(1)
            .set_max_delay(config.retry_after);
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), manager_config)
            .map_err(|e| CacheError::Backend(e.to_string()))?;
        Ok(Self {
            client,
            manager,
            op_timeout: config.op_timeout,
            retry_after: config.retry_after,
            log_interval: config.log_interval,
            state: Mutex::default(),
            errors: AtomicU64::new(0),
        })
    }

    /// How many calls failed since the start.
    pub(crate) fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Runs `op` on the connection, bounded by the timeout. Any failure (refused, timed out, or
    /// an error reply such as `LOADING` or `OOM`) opens the circuit for `retry_after` and is
    /// logged at most once per `log_interval`.
    pub(crate) async fn call<T, F, Fut>(&self, what: &'static str, op: F) -> Result<T, CacheError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if let Some(until) = self.health().open_until {
            if Instant::now() < until {
                self.errors.fetch_add(1, Ordering::Relaxed);
                return Err(CacheError::Unavailable(format!("redis is down; {what} skipped")));
            }
        }
        match tokio::time::timeout(self.op_timeout, op(self.manager.clone())).await {
            Ok(Ok(value)) => {
                self.succeeded();
                Ok(value)
            }
            Ok(Err(error)) => Err(self.failed(what, error.to_string())),
            Err(_) => Err(self.failed(what, format!("no answer within {:?}", self.op_timeout))),
        }
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn succeeded(&self) {
        let mut health = self.health();
        if health.failing {
            tracing::info!(failures = health.unreported, "redis answers again: shared cache back");
            *health = Health::default();
        }
    }

    fn failed(&self, what: &'static str, error: String) -> CacheError {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let mut health = self.health();
        health.failing = true;
        health.open_until = Some(now + self.retry_after);
        health.unreported += 1;
        if health
            .last_warning
            .is_none_or(|at| now.duration_since(at) >= self.log_interval)
        {
            tracing::warn!(
                operation = what,
                %error,
                failures = health.unreported,
                "redis unavailable: serving from the local cache and the handlers (next warning in {:?} at the earliest)",
                self.log_interval
            );
            health.last_warning = Some(now);
            health.unreported = 0;
        }
        CacheError::Unavailable(format!("{what}: {error}"))
    }
}
