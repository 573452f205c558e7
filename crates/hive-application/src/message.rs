//! Messages (commands and queries), their context and their handlers.

use std::fmt::Debug;
use std::future::Future;

use hive_domain::Metadata;
use uuid::Uuid;

use crate::ApplicationError;

/// Anything sent on a bus. `Output` is what its handler returns.
pub trait Message: Debug + Send + Sync + 'static {
    /// The handler's success value.
    type Output: Clone + Send + Sync + 'static;

    /// A stable name for logs, metrics and errors (defaults to the Rust type name).
    fn name() -> &'static str
    where
        Self: Sized,
    {
        std::any::type_name::<Self>()
    }

    /// Checks the message's own fields before any handler runs.
    fn validate(&self) -> Result<(), ApplicationError> {
        Ok(())
    }
}

/// A request to change state; sent on the [`crate::CommandBus`].
pub trait Command: Message {}

/// A request to read state; sent on the [`crate::QueryBus`].
pub trait Query: Message {}

/// Who sends a message and why: ids for tracing, idempotency and the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageContext {
    /// The id of this message (the command id: the causation id of the events it produces, and
    /// the idempotency key when `idempotent`).
    pub message_id: Uuid,
    /// Whether the sender named `message_id` ([`MessageContext::with_message_id`]), so that a
    /// command sent again with it answers the first outcome (the idempotency layer remembers
    /// it). False for the fresh id of [`MessageContext::new`]: sending a copy of that context
    /// again runs the command again.
    pub idempotent: bool,
    /// Shared by everything one request caused.
    pub correlation_id: String,
    /// Who is asking, for which organization, from where.
    pub metadata: Metadata,
}

impl MessageContext {
    /// A context with a fresh message id and the message id as correlation id.
    pub fn new() -> Self {
        let message_id = Uuid::now_v7();
        Self {
            message_id,
            idempotent: false,
            correlation_id: message_id.to_string(),
            metadata: Metadata::default(),
        }
    }

    /// Names the message id: the command is idempotent under it (sent again with the same id
    /// and type, it answers the first outcome and runs once).
    #[must_use]
    pub fn with_message_id(mut self, message_id: Uuid) -> Self {
        self.message_id = message_id;
        self.idempotent = true;
        self
    }

    /// Sets the correlation id.
    #[must_use]
    pub fn with_correlation_id(mut self, correlation_id: impl Into<String>) -> Self {
        self.correlation_id = correlation_id.into();
        self
    }

    /// Sets the metadata (user, organization, source).
    #[must_use]
    pub fn with_metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = metadata;
        self
    }

    /// The organization of the caller, or a validation error when there is none.
    pub fn organization(&self) -> Result<&str, ApplicationError> {
        self.metadata
            .organization_id
            .as_deref()
            .ok_or_else(|| ApplicationError::Forbidden("no organization in the message context".into()))
    }
}

impl Default for MessageContext {
    fn default() -> Self {
        Self::new()
    }
}

/// Handles one message type. Registered once per type on a bus.
///
/// Implement it with a plain `async fn handle(...)`; the future must be `Send`.
pub trait Handler<M: Message>: Send + Sync + 'static {
    /// Runs the message.
    fn handle(
        &self,
        message: &M,
        context: &MessageContext,
    ) -> impl Future<Output = Result<M::Output, ApplicationError>> + Send;
}
