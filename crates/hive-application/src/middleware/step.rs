//! The built-in middleware as steps composed without boxing: a stack of steps is one route
//! service with one boxed future per dispatch, however many steps it has.

use std::future::Future;
use std::sync::Arc;

use crate::bus::{BusFuture, BusRequest, BusService, DynService, Outcome};

/// What a step calls next: the rest of the stack.
pub(crate) trait Call: Send + Sync + 'static {
    /// Sends `request` on.
    fn call(&self, request: BusRequest) -> impl Future<Output = Outcome> + Send + '_;
}

impl Call for BusService {
    fn call(&self, request: BusRequest) -> impl Future<Output = Outcome> + Send + '_ {
        self.handle(request)
    }
}

/// One built-in middleware: does its work around `next`.
pub(crate) trait Step: Send + Sync + 'static {
    /// Handles `request`, calling `next` zero or more times.
    fn run<'a, N: Call>(&'a self, request: BusRequest, next: &'a N) -> impl Future<Output = Outcome> + Send + 'a;
}

/// `step` in front of `next`.
pub(crate) struct Then<S, N> {
    pub(crate) step: S,
    pub(crate) next: N,
}

impl<S: Step, N: Call> Call for Then<S, N> {
    fn call(&self, request: BusRequest) -> impl Future<Output = Outcome> + Send + '_ {
        self.step.run(request, &self.next)
    }
}

/// A stack of steps as a route service.
struct Route<C>(C);

impl<C: Call> DynService for Route<C> {
    fn call_shared(self: Arc<Self>, request: BusRequest) -> BusFuture {
        Box::pin(async move { self.0.call(request).await })
    }
}

/// The route service of `stack` (steps ending in the inner [`BusService`]).
pub(crate) fn service<C: Call>(stack: C) -> BusService {
    BusService::from_dyn(Arc::new(Route(stack)))
}

/// The route service of one step in front of `next`.
pub(crate) fn single<S: Step>(step: S, next: BusService) -> BusService {
    service(Then { step, next })
}
