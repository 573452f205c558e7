//! Settings of the Redis level.

use std::time::Duration;

/// Settings of a [`RedisCache`](crate::RedisCache).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisCacheConfig {
    /// `redis://host:port[/db]`.
    pub url: String,
    /// Prefix of every key and of the invalidation channel (default `hive:cache:`); give each
    /// deployment (and each test) its own.
    pub prefix: String,
    /// Longest time one Redis call may take before it counts as a failure (default 250 ms).
    pub op_timeout: Duration,
    /// After a failure, calls fail at once for this long before Redis is tried again
    /// (default 1 s): an outage costs no time per query.
    pub retry_after: Duration,
    /// At most one warning per this period while Redis fails (default 10 s).
    pub log_interval: Duration,
    /// Longest TTL an entry gets (default 1 hour); tag generations are kept a little longer.
    pub max_ttl: Duration,
    /// Invalidations that could not reach Redis are kept (up to this many tags) and sent when
    /// it is back; past that, the whole cache is cleared when it is back (default 10 000).
    pub max_pending_tags: usize,
}

impl RedisCacheConfig {
    /// The defaults, on `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: "hive:cache:".to_owned(),
            op_timeout: Duration::from_millis(250),
            retry_after: Duration::from_secs(1),
            log_interval: Duration::from_secs(10),
            max_ttl: Duration::from_secs(3600),
            max_pending_tags: 10_000,
        }
    }

    /// Sets the key prefix.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets the per-call timeout.
    #[must_use]
    pub fn with_op_timeout(mut self, timeout: Duration) -> Self {
        self.op_timeout = timeout;
        self
    }

    /// Sets how long calls fail at once after a failure.
    #[must_use]
    pub fn with_retry_after(mut self, pause: Duration) -> Self {
        self.retry_after = pause;
        self
    }
}
