//! Bus middleware, each a small tower layer.
//!
//! The default command stack, outermost first: [`TracingLayer`] (a span carrying the
//! correlation id), [`ValidationLayer`], [`IdempotencyLayer`] (same command id → first
//! answer, no second append), [`timeout_layer`] (tower's timeout) and [`RetryLayer`] (tower's
//! retry, on concurrency conflicts only, bounded and jittered). Queries get tracing, validation
//! and timeout.

mod around;
mod idempotency;
mod retry;
mod timeout;
mod tracing_span;
mod validation;

use std::time::Duration;

pub use around::{Middleware, MiddlewareLayer, MiddlewareService, Next};
pub use idempotency::{Idempotency, IdempotencyLayer};
pub use retry::{conflict_retries_total, ConflictRetry, RetryLayer};
pub use timeout::{timeout_layer, TimeoutLayer};
pub use tracing_span::{TracingLayer, TracingSpan};
pub use validation::{Validation, ValidationLayer};

use crate::{CommandBusBuilder, QueryBusBuilder};

/// Settings of the default middleware stacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MiddlewareConfig {
    /// Longest time a handler may run (retries included).
    pub timeout: Duration,
    /// How many times a command is re-run after a concurrency conflict.
    pub max_retries: u32,
    /// First backoff before a retry; doubles each time, with full jitter.
    pub retry_base_delay: Duration,
    /// Cap of the backoff.
    pub retry_max_delay: Duration,
    /// How many command ids idempotency remembers.
    pub idempotency_capacity: usize,
    /// How long idempotency remembers a command id.
    pub idempotency_ttl: Duration,
}

impl Default for MiddlewareConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_retries: 10,
            retry_base_delay: Duration::from_millis(1),
            retry_max_delay: Duration::from_millis(100),
            idempotency_capacity: 100_000,
            idempotency_ttl: Duration::from_secs(24 * 3600),
        }
    }
}

impl CommandBusBuilder {
    /// Adds the default command middleware: tracing, validation, idempotency, timeout, retry.
    #[must_use]
    pub fn with_default_middleware(self, config: MiddlewareConfig) -> Self {
        self.layer(TracingLayer::commands())
            .layer(ValidationLayer::new())
            .layer(IdempotencyLayer::new(
                config.idempotency_capacity,
                config.idempotency_ttl,
            ))
            .layer(timeout_layer(config.timeout))
            .layer(RetryLayer::new(ConflictRetry::new(
                config.max_retries,
                config.retry_base_delay,
                config.retry_max_delay,
            )))
    }
}

impl QueryBusBuilder {
    /// Adds the default query middleware: tracing, validation, timeout.
    #[must_use]
    pub fn with_default_middleware(self, config: MiddlewareConfig) -> Self {
        self.layer(TracingLayer::queries())
            .layer(ValidationLayer::new())
            .layer(timeout_layer(config.timeout))
    }
}
