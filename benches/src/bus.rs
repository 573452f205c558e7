//! The trivial command of the bus benches, its handler, and the buses under test.

use hive_application::middleware::{
    ConflictRetry, IdempotencyLayer, RetryLayer, TimeoutLayer, TracingLayer, ValidationLayer,
};
use hive_application::{ApplicationError, Command, CommandBus, Handler, Message, MessageContext, MiddlewareConfig};
use hive_domain::Metadata;

/// A command whose handler does nothing but answer a constant: what is measured is the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ping;

impl Message for Ping {
    type Output = u64;
}

impl Command for Ping {}

/// The handler of [`Ping`]: answers 42.
#[derive(Debug, Clone, Copy, Default)]
pub struct Constant;

impl Handler<Ping> for Constant {
    async fn handle(&self, _: &Ping, _: &MessageContext) -> Result<u64, ApplicationError> {
        Ok(42)
    }
}

/// Which middleware the bus under test has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    /// No layer: routing only.
    Bare,
    /// [`TracingLayer::commands`] only.
    Tracing,
    /// [`ValidationLayer`] only.
    Validation,
    /// [`IdempotencyLayer`] only, with the default capacity and age.
    Idempotency,
    /// [`TimeoutLayer`] only, with the default timeout.
    Timeout,
    /// [`RetryLayer`] with [`ConflictRetry`] only, with the default settings.
    Retry,
    /// The whole default stack, `with_default_middleware(MiddlewareConfig::default())`.
    Default,
}

impl Stack {
    /// A command bus with this middleware and the [`Constant`] handler of [`Ping`].
    ///
    /// ```
    /// use hive_benches::{context, Ping, Stack};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let bus = Stack::Default.bus();
    /// assert_eq!(bus.dispatch(Ping, context()).await.unwrap(), 42);
    /// # });
    /// ```
    pub fn bus(self) -> CommandBus {
        let config = MiddlewareConfig::default();
        let builder = CommandBus::builder();
        let builder = match self {
            Self::Bare => builder,
            Self::Tracing => builder.layer(TracingLayer::commands()),
            Self::Validation => builder.layer(ValidationLayer::new()),
            Self::Idempotency => builder.layer(IdempotencyLayer::new(
                config.idempotency_capacity,
                config.idempotency_ttl,
            )),
            Self::Timeout => builder.layer(TimeoutLayer::new(config.timeout)),
            Self::Retry => builder.layer(RetryLayer::new(ConflictRetry::new(
                config.max_retries,
                config.retry_base_delay,
                config.retry_max_delay,
            ))),
            Self::Default => builder.with_default_middleware(config),
        };
        builder.handler(Constant).build()
    }
}

/// The context of a command as a driving adapter builds it without an idempotency key: a
/// fresh command id (which idempotency lets through, remembering nothing), a correlation id, a
/// user and an organization.
pub fn context() -> MessageContext {
    MessageContext::new().with_metadata(
        Metadata::default()
            .with_organization("org-bench")
            .with_user("user-bench"),
    )
}

/// [`context`] with a command id the sender named (as an HTTP `Idempotency-Key` does): a new
/// one every time, which idempotency remembers.
pub fn named_context() -> MessageContext {
    context().with_message_id(uuid::Uuid::now_v7())
}
