//! Bus middleware, each a small tower layer.
//!
//! The default command stack, outermost first: [`TracingLayer`] (a span carrying the
//! correlation id), [`ValidationLayer`], [`IdempotencyLayer`] (same command id → first
//! answer, no second append), [`timeout_layer`] and [`RetryLayer`] (on concurrency conflicts
//! only, bounded and jittered). Queries get tracing, validation and timeout.
//!
//! The built-in layers are composed without boxing: a default stack costs one boxed future
//! per dispatch, and each built-in layer added on its own one more. Your own middleware
//! ([`Middleware`], or any tower layer) sits among them as a [`BusService`].

mod around;
mod idempotency;
mod retry;
mod step;
mod timeout;
mod tracing_span;
mod validation;

use std::time::Duration;

use tower::Layer;

pub use around::{Middleware, MiddlewareLayer, MiddlewareService, Next};
pub use idempotency::{Idempotency, IdempotencyLayer};
pub use retry::{conflict_retries_total, ConflictRetry, RetryLayer};
pub use timeout::{timeout_layer, TimeoutLayer};
pub use tracing_span::{TracingLayer, TracingSpan};
pub use validation::{Validation, ValidationLayer};

use crate::{BusService, CommandBusBuilder, QueryBusBuilder};
use step::{service, Then};

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
        self.layer(DefaultCommandStack {
            idempotency: Idempotency::new(config.idempotency_capacity, config.idempotency_ttl),
            timeout: timeout_layer(config.timeout),
            retry: ConflictRetry::new(config.max_retries, config.retry_base_delay, config.retry_max_delay),
        })
    }
}

impl QueryBusBuilder {
    /// Adds the default query middleware: tracing, validation, timeout.
    #[must_use]
    pub fn with_default_middleware(self, config: MiddlewareConfig) -> Self {
        self.layer(DefaultQueryStack {
            timeout: timeout_layer(config.timeout),
        })
    }
}

/// The default command layers as one layer: tracing, validation, idempotency, timeout, retry.
#[derive(Debug, Clone)]
struct DefaultCommandStack {
    idempotency: Idempotency,
    timeout: TimeoutLayer,
    retry: ConflictRetry,
}

impl Layer<BusService> for DefaultCommandStack {
    type Service = BusService;

    fn layer(&self, inner: BusService) -> BusService {
        let retry = Then {
            step: self.retry,
            next: inner,
        };
        let timeout = Then {
            step: self.timeout,
            next: retry,
        };
        let idempotency = Then {
            step: self.idempotency.clone(),
            next: timeout,
        };
        let validation = Then {
            step: Validation,
            next: idempotency,
        };
        service(Then {
            step: TracingSpan::commands(),
            next: validation,
        })
    }
}

/// The default query layers as one layer: tracing, validation, timeout.
#[derive(Debug, Clone, Copy)]
struct DefaultQueryStack {
    timeout: TimeoutLayer,
}

impl Layer<BusService> for DefaultQueryStack {
    type Service = BusService;

    fn layer(&self, inner: BusService) -> BusService {
        let timeout = Then {
            step: self.timeout,
            next: inner,
        };
        let validation = Then {
            step: Validation,
            next: timeout,
        };
        service(Then {
            step: TracingSpan::queries(),
            next: validation,
        })
    }
}
