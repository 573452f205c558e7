//! The type-erased request and response that flow through bus middleware, and the shared
//! service every route of a bus is.

use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tower::{Service, ServiceExt};

use crate::{ApplicationError, Message, MessageContext};

/// A message whose concrete type is hidden behind the bus.
pub trait ErasedMessage: Any + Debug + Send + Sync {
    /// The message's own validation.
    fn validate(&self) -> Result<(), ApplicationError>;
    /// The message as `Any`, for the handler to downcast.
    fn as_any(&self) -> &dyn Any;
}

impl<M: Message> ErasedMessage for M {
    fn validate(&self) -> Result<(), ApplicationError> {
        Message::validate(self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// What middleware sees: the message type name, its context and the (shared) message.
/// Cloning is cheap (two reference counts), so retry can resend it.
#[derive(Debug, Clone)]
pub struct BusRequest {
    /// [`Message::name`] of the message.
    pub message_type: &'static str,
    /// Ids and tenant (shared).
    pub context: Arc<MessageContext>,
    /// The message itself.
    pub message: Arc<dyn ErasedMessage>,
}

/// A handler's success value, type-erased and shared (so idempotency can hand it out again).
pub type BusResponse = Arc<dyn Any + Send + Sync>;

/// What a bus service answers.
pub(crate) type Outcome = Result<BusResponse, ApplicationError>;

/// The future of a [`BusService`].
pub type BusFuture = BoxFuture<'static, Result<BusResponse, ApplicationError>>;

/// A service as the bus holds it: called through a shared pointer, one boxed future per call.
pub(crate) trait SharedService: Send + Sync + 'static {
    /// Handles `request`.
    fn call_shared(self: Arc<Self>, request: BusRequest) -> BusFuture;
}

/// The type-erased service of a route: what middleware layers wrap, and what a bus holds.
///
/// Cloning is cheap (a shared pointer) and it is always ready; calling it costs one boxed
/// future. Any tower service of bus requests becomes one with [`BusService::new`].
#[derive(Clone)]
pub struct BusService(Arc<dyn SharedService>);

impl BusService {
    /// Erases a tower service of bus requests.
    ///
    /// Each call clones `service` (tower's `&mut self` contract) and drives it to readiness,
    /// so `service` should be cheap to clone, as tower services are.
    pub fn new<S>(service: S) -> Self
    where
        S: Service<BusRequest, Response = BusResponse, Error = ApplicationError> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
    {
        Self(Arc::new(Erased(service)))
    }

    /// Wraps a shared service.
    pub(crate) fn from_shared(service: Arc<dyn SharedService>) -> Self {
        Self(service)
    }

    /// Handles `request` (no readiness to wait for).
    pub fn handle(&self, request: BusRequest) -> BusFuture {
        Arc::clone(&self.0).call_shared(request)
    }
}

impl Debug for BusService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusService").finish_non_exhaustive()
    }
}

impl Service<BusRequest> for BusService {
    type Response = BusResponse;
    type Error = ApplicationError;
    type Future = BusFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: BusRequest) -> Self::Future {
        self.handle(request)
    }
}

/// A tower service behind a [`BusService`]: cloned per call and driven to readiness first.
struct Erased<S>(S);

impl<S> SharedService for Erased<S>
where
    S: Service<BusRequest, Response = BusResponse, Error = ApplicationError> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    fn call_shared(self: Arc<Self>, request: BusRequest) -> BusFuture {
        let mut service = self.0.clone();
        // Most services are ready at once: then the call is their own future, boxed once.
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        match service.poll_ready(&mut cx) {
            Poll::Ready(Ok(())) => Box::pin(service.call(request)),
            Poll::Ready(Err(error)) => Box::pin(std::future::ready(Err(error))),
            Poll::Pending => Box::pin(service.oneshot(request)),
        }
    }
}
