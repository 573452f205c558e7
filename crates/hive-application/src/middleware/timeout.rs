//! tower's timeout, with its error mapped back to [`ApplicationError::Timeout`].

use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use tower::{BoxError, Layer, Service};

use crate::ApplicationError;

/// tower's [`tower::timeout::TimeoutLayer`], its boxed error mapped back to [`ApplicationError`].
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    after: Duration,
}

/// A layer that fails a message with [`ApplicationError::Timeout`] once it has run for `after`.
pub fn timeout_layer(after: Duration) -> TimeoutLayer {
    TimeoutLayer { after }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = TimeoutService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TimeoutService {
            inner: tower::timeout::Timeout::new(inner, self.after),
            after: self.after,
        }
    }
}

/// The service a [`TimeoutLayer`] makes.
#[derive(Debug, Clone)]
pub struct TimeoutService<S> {
    inner: tower::timeout::Timeout<S>,
    after: Duration,
}

impl<S, R> Service<R> for TimeoutService<S>
where
    S: Service<R, Error = ApplicationError>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    type Error = ApplicationError;
    type Future = BoxFuture<'static, Result<S::Response, ApplicationError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let after = self.after;
        self.inner.poll_ready(cx).map_err(|e| map_error(e, after))
    }

    fn call(&mut self, request: R) -> Self::Future {
        let after = self.after;
        self.inner
            .call(request)
            .map(move |result| result.map_err(|e| map_error(e, after)))
            .boxed()
    }
}

fn map_error(error: BoxError, after: Duration) -> ApplicationError {
    match error.downcast::<ApplicationError>() {
        Ok(app) => *app,
        Err(other) if other.is::<tower::timeout::error::Elapsed>() => ApplicationError::Timeout(after),
        Err(other) => ApplicationError::Internal(other.to_string()),
    }
}
