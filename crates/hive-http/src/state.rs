//! What the handlers share, and the HTTP limits.

use std::sync::Arc;
use std::time::Duration;

use hive_application::{CommandBus, QueryBus};

use crate::{Metrics, ReadinessCheck, TokenRegistry};

/// Everything the routes need: the two buses (the API never touches a store), the bearer
/// tokens, the readiness checks of `/readyz` and the metrics of `/metrics`.
#[derive(Clone)]
pub struct ApiState {
    /// Where the payment commands go.
    pub commands: CommandBus,
    /// Where every query goes.
    pub queries: QueryBus,
    /// The accepted bearer tokens.
    pub tokens: TokenRegistry,
    /// Run by `GET /readyz`.
    pub readiness: Vec<Arc<dyn ReadinessCheck>>,
    /// Request, command and cache metrics, rendered by `GET /metrics`.
    pub metrics: Metrics,
    /// The query cache whose counters `/metrics` shows, when there is one.
    pub query_cache: Option<hive_application::cache::QueryCache>,
    /// The global log and group checkpoints behind `/subscriptions/…` (without them those
    /// routes answer `501 subscriptions_unsupported`). The one place the API reads a store
    /// directly: a feed is the log itself, not a query's answer.
    pub subscriptions: Option<crate::Subscriptions>,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let checks: Vec<&str> = self.readiness.iter().map(|c| c.name()).collect();
        f.debug_struct("ApiState")
            .field("commands", &self.commands)
            .field("queries", &self.queries)
            .field("tokens", &self.tokens)
            .field("readiness", &checks)
            .field("subscriptions", &self.subscriptions)
            .finish_non_exhaustive()
    }
}

/// Limits of the HTTP layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpConfig {
    /// Largest accepted request body in bytes (default 64 KiB); larger is `413`.
    pub body_limit: usize,
    /// Longest time a request may take (default 30 s); longer is `503` with code `timeout`.
    pub request_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit: 64 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}
