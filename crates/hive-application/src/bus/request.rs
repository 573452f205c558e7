//! The type-erased request and response that flow through bus middleware, and the shared
//! service every route of a bus is.

use std::any::Any;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tower::{Service, ServiceExt};

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

/// A route as the bus holds it: called through a shared pointer, one boxed future per call.
pub(crate) trait DynService: Send + Sync + 'static {
    /// Handles `request`.
    fn call_shared(self: Arc<Self>, request: BusRequest) -> BusFuture;
}

/// The service every route of a bus is; middleware layers wrap it.
///
/// Cloning is cheap (a shared pointer) and it is always ready, so calling it costs one boxed
/// future.
#[derive(Clone)]
pub struct BusService(Arc<dyn DynService>);

impl BusService {
    /// Erases any tower service of bus requests (a `BusService` is kept as it is).
    pub fn new<S>(service: S) -> Self
    where
        S: Service<BusRequest, Response = BusResponse, Error = ApplicationError> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
    {
        let mut slot = Some(service);
        if let Some(already) = (&mut slot as &mut dyn Any).downcast_mut::<Option<BusService>>() {
            if let Some(bus_service) = already.take() {
                return bus_service;
            }
        }
        match slot {
            Some(service) => Self(Arc::new(Tower(service))),
            None => unreachable_service(),
        }
    }

    /// Wraps a route.
    pub(crate) fn from_dyn(service: Arc<dyn DynService>) -> Self {
        Self(service)
    }

    /// Handles `request` (no readiness to wait for).
    pub fn handle(&self, request: BusRequest) -> BusFuture {
        Arc::clone(&self.0).call_shared(request)
    }
}

/// Only reached if the `Option` taken above was emptied, which it never is.
fn unreachable_service() -> BusService {
    struct Broken;
    impl DynService for Broken {
        fn call_shared(self: Arc<Self>, _: BusRequest) -> BusFuture {
            Box::pin(std::future::ready(Err(ApplicationError::Internal(
                "bus service lost while being built".into(),
            ))))
        }
    }
    BusService(Arc::new(Broken))
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

/// Any other tower service, cloned per call (tower's `&mut self` contract) and driven to
/// readiness first.
struct Tower<S>(S);

impl<S> DynService for Tower<S>
where
    S: Service<BusRequest, Response = BusResponse, Error = ApplicationError> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    fn call_shared(self: Arc<Self>, request: BusRequest) -> BusFuture {
        let mut service = self.0.clone();
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        match service.poll_ready(&mut cx) {
            Poll::Ready(Ok(())) => boxed(service.call(request)),
            Poll::Ready(Err(error)) => Box::pin(std::future::ready(Err(error))),
            Poll::Pending => Box::pin(service.oneshot(request)),
        }
    }
}

/// Boxes a future, unless it already is a [`BusFuture`] (as a [`crate::middleware::Middleware`]'s is).
fn boxed<F>(future: F) -> BusFuture
where
    F: Future<Output = Outcome> + Send + 'static,
{
    let mut slot = Some(future);
    if let Some(already) = (&mut slot as &mut dyn Any).downcast_mut::<Option<BusFuture>>() {
        if let Some(future) = already.take() {
            return future;
        }
    }
    match slot {
        Some(future) => Box::pin(future),
        None => Box::pin(std::future::ready(Err(ApplicationError::Internal(
            "bus future lost while being boxed".into(),
        )))),
    }
}
