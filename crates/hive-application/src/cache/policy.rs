//! How a query is cached: its key material, its tags and its TTL; per-type settings.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

/// How one query is cached, returned by [`Cacheable::cache_policy`](super::Cacheable::cache_policy).
///
/// The cache key is the message type, the caller's organization (always: tenants never share an
/// answer) and the canonical serialisation of the query. Answers are stored as MessagePack
/// (with field names, through `rmp-serde`).
///
/// ```
/// use hive_application::cache::{Cacheable, CachePolicy};
/// use hive_application::{Message, MessageContext, Query};
/// use serde::Serialize;
///
/// #[derive(Debug, Serialize)]
/// struct CountOrders { status: String }
///
/// impl Message for CountOrders { type Output = u64; }
/// impl Query for CountOrders {}
/// impl Cacheable for CountOrders {
///     fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
///         let org = context.metadata.organization_id.as_deref()?;
///         Some(CachePolicy::new(self)?.with_tag(format!("org:{org}:orders")))
///     }
/// }
///
/// let context = MessageContext::new().with_metadata(hive_domain::Metadata::default().with_organization("o1"));
/// let policy = CountOrders { status: "open".into() }.cache_policy(&context).unwrap();
/// assert_eq!(policy.tags(), ["org:o1:orders"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachePolicy {
    material: Arc<str>,
    tags: Vec<String>,
    ttl: Option<Duration>,
}

impl CachePolicy {
    /// A policy keyed by the canonical serialisation of `query` (its fields in declaration
    /// order, as JSON), with no tag yet and the configured TTL. `None` when `query` does not
    /// serialise (the query then goes uncached). The query must serialise the same way every
    /// time: no `HashMap` field (use a `BTreeMap`).
    pub fn new(query: &impl Serialize) -> Option<Self> {
        let material = serde_json::to_string(query).ok()?;
        Some(Self {
            material: material.into(),
            tags: Vec::new(),
            ttl: None,
        })
    }

    /// Adds a tag: invalidating it makes the cached answer stale.
    #[must_use]
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Sets the TTL of this answer (the [`CacheConfig`] of the message type still wins).
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// The canonical serialisation of the query.
    pub fn material(&self) -> &str {
        &self.material
    }

    /// The tags.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// The TTL asked for by the query, if any.
    pub fn ttl(&self) -> Option<Duration> {
        self.ttl
    }
}

/// Settings of the query cache: TTLs per message type, some types uncached.
///
/// ```
/// use std::time::Duration;
/// use hive_application::cache::CacheConfig;
///
/// let config = CacheConfig::default()
///     .with_ttl("GetPaymentStatistics", Duration::from_secs(60))
///     .uncached("SearchPayments");
/// assert_eq!(config.ttl_of("GetPaymentStatistics", None), Some(Duration::from_secs(60)));
/// assert_eq!(config.ttl_of("SearchPayments", Some(Duration::from_secs(5))), None);
/// assert_eq!(config.ttl_of("GetPaymentById", None), Some(Duration::from_secs(300)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// TTL of a type with no setting of its own (default 300 s).
    pub default_ttl: Duration,
    /// While a shared level's invalidation feed is lost, the levels above it keep new entries
    /// at most this long (default 5 s): they cannot hear other processes' invalidations.
    pub degraded_ttl: Duration,
    per_type: HashMap<String, Option<Duration>>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            default_ttl: Duration::from_secs(300),
            degraded_ttl: Duration::from_secs(5),
            per_type: HashMap::new(),
        }
    }
}

impl CacheConfig {
    /// Sets the default TTL.
    #[must_use]
    pub fn with_default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = ttl;
        self
    }

    /// Caches answers to `message_type` (its [`Message::name`](crate::Message::name)) for `ttl`.
    #[must_use]
    pub fn with_ttl(mut self, message_type: impl Into<String>, ttl: Duration) -> Self {
        self.per_type.insert(message_type.into(), Some(ttl));
        self
    }

    /// Never caches `message_type`.
    #[must_use]
    pub fn uncached(mut self, message_type: impl Into<String>) -> Self {
        self.per_type.insert(message_type.into(), None);
        self
    }

    /// The TTL of an answer to `message_type` whose policy asks for `asked`; `None`: uncached.
    pub fn ttl_of(&self, message_type: &str, asked: Option<Duration>) -> Option<Duration> {
        match self.per_type.get(message_type) {
            Some(setting) => *setting,
            None => Some(asked.unwrap_or(self.default_ttl)),
        }
        .filter(|ttl| !ttl.is_zero())
    }
}
