//! The type-erased request and response that flow through bus middleware.

use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

use crate::cache::CachePolicy;
use crate::{ApplicationError, Message, MessageContext};

/// A message whose concrete type is hidden behind the bus.
pub trait ErasedMessage: Any + Debug + Send + Sync {
    /// The message's own validation.
    fn validate(&self) -> Result<(), ApplicationError>;
    /// The message as `Any`, for the handler to downcast.
    fn as_any(&self) -> &dyn Any;
    /// The message's [`Message::cache_policy`].
    fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy>;
}

impl<M: Message> ErasedMessage for M {
    fn validate(&self) -> Result<(), ApplicationError> {
        Message::validate(self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
        Message::cache_policy(self, context)
    }
}

/// What middleware sees: the message type name, its context and the (shared) message.
/// Cloning is cheap, so retry can resend it.
#[derive(Debug, Clone)]
pub struct BusRequest {
    /// [`Message::name`] of the message.
    pub message_type: &'static str,
    /// Ids and tenant.
    pub context: MessageContext,
    /// The message itself.
    pub message: Arc<dyn ErasedMessage>,
}

/// A handler's success value, type-erased and shared (so idempotency can hand it out again).
pub type BusResponse = Arc<dyn Any + Send + Sync>;

/// The service every route of a bus is: middleware layers wrap it.
pub type BusService = tower::util::BoxCloneSyncService<BusRequest, BusResponse, ApplicationError>;
