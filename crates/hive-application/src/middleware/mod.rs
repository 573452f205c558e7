//! Bus middleware: plain tower layers over the [`BusService`](crate::BusService).
//!
//! The default command stack, outermost first: [`TracingLayer`] (a span carrying the
//! correlation id), [`ValidationLayer`], [`IdempotencyLayer`] (same command id → first
//! answer, no second append), [`TimeoutLayer`] and [`RetryLayer`] (tower's retry with the
//! [`ConflictRetry`] policy: on concurrency conflicts only, bounded and jittered). Queries get
//! tracing, validation and timeout. Each stack is defined once, [`command_middleware`] and
//! [`query_middleware`], as one `tower::ServiceBuilder` layer.
//!
//! Every built-in service has its own typed future, so a stack of them added as one layer costs
//! one boxed future per dispatch. Your own middleware is any tower [`Layer`](tower::Layer) over
//! the [`BusService`](crate::BusService), added with the builders' `layer`.

mod idempotency;
mod retry;
mod timeout;
mod tracing_span;
mod validation;

use std::time::Duration;

use tower::layer::util::{Identity, Stack};
use tower::ServiceBuilder;

pub use idempotency::{Idempotency, IdempotencyFuture, IdempotencyLayer};
pub use retry::{ConflictRetry, Retry, RetryLayer};
pub use timeout::{Timeout, TimeoutFuture, TimeoutLayer};
pub use tracing_span::{Tracing, TracingFuture, TracingLayer};
pub use validation::{Validation, ValidationLayer};

use crate::{BusMetrics, CommandBusBuilder, QueryBusBuilder};

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

/// The default command middleware as one layer: tracing, validation, idempotency, timeout,
/// retry (outermost first).
pub type CommandMiddleware = Stack<
    RetryLayer,
    Stack<TimeoutLayer, Stack<IdempotencyLayer, Stack<ValidationLayer, Stack<TracingLayer, Identity>>>>,
>;

/// The default query middleware as one layer: tracing, validation, timeout (outermost first).
pub type QueryMiddleware = Stack<TimeoutLayer, Stack<ValidationLayer, Stack<TracingLayer, Identity>>>;

/// The default command middleware, counting its retries in `metrics`.
pub fn command_middleware(config: MiddlewareConfig, metrics: &BusMetrics) -> CommandMiddleware {
    let retry = ConflictRetry::new(config.max_retries, config.retry_base_delay, config.retry_max_delay)
        .with_metrics(metrics.clone());
    ServiceBuilder::new()
        .layer(TracingLayer::commands())
        .layer(ValidationLayer::new())
        .layer(IdempotencyLayer::new(
            config.idempotency_capacity,
            config.idempotency_ttl,
        ))
        .layer(TimeoutLayer::new(config.timeout))
        .layer(RetryLayer::new(retry))
        .into_inner()
}

/// The default query middleware.
pub fn query_middleware(config: MiddlewareConfig) -> QueryMiddleware {
    ServiceBuilder::new()
        .layer(TracingLayer::queries())
        .layer(ValidationLayer::new())
        .layer(TimeoutLayer::new(config.timeout))
        .into_inner()
}

impl CommandBusBuilder {
    /// Adds the default command middleware ([`command_middleware`]), counting its retries in
    /// the bus's [`metrics`](crate::CommandBus::metrics).
    #[must_use]
    pub fn with_default_middleware(self, config: MiddlewareConfig) -> Self {
        let middleware = command_middleware(config, self.metrics());
        self.layer(middleware)
    }
}

impl QueryBusBuilder {
    /// Adds the default query middleware ([`query_middleware`]).
    #[must_use]
    pub fn with_default_middleware(self, config: MiddlewareConfig) -> Self {
        self.layer(query_middleware(config))
    }
}
