//! A tiny way to write a middleware as one `call(request, next)` function.

use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tower::{Layer, Service};

use crate::bus::{BusRequest, BusResponse, BusService};
use crate::ApplicationError;

/// The rest of the stack, to call from a [`Middleware`].
pub type Next = BusService;

/// A middleware written as one function of the request and the rest of the stack.
pub trait Middleware: Clone + Send + Sync + 'static {
    /// Handles `request`, usually by calling `next` before and/or after doing its own work.
    fn call(&self, request: BusRequest, next: Next) -> BoxFuture<'static, Result<BusResponse, ApplicationError>>;
}

/// Turns a [`Middleware`] into a tower [`Layer`].
#[derive(Debug, Clone)]
pub struct MiddlewareLayer<M> {
    middleware: M,
}

impl<M> MiddlewareLayer<M> {
    /// Wraps a middleware.
    pub fn wrap(middleware: M) -> Self {
        Self { middleware }
    }
}

impl<M: Middleware> Layer<BusService> for MiddlewareLayer<M> {
    type Service = MiddlewareService<M>;

    fn layer(&self, inner: BusService) -> Self::Service {
        MiddlewareService {
            middleware: self.middleware.clone(),
            inner,
        }
    }
}

/// The service a [`MiddlewareLayer`] makes.
#[derive(Clone)]
pub struct MiddlewareService<M> {
    middleware: M,
    inner: BusService,
}

impl<M: Middleware> Service<BusRequest> for MiddlewareService<M> {
    type Response = BusResponse;
    type Error = ApplicationError;
    type Future = BoxFuture<'static, Result<BusResponse, ApplicationError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: BusRequest) -> Self::Future {
        self.middleware.call(request, self.inner.clone())
    }
}
