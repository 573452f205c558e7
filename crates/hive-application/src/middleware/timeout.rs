//! A deadline per message, mapped to [`ApplicationError::Timeout`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

use crate::bus::{BusRequest, BusResponse, Outcome};
use crate::ApplicationError;

/// Fails a message with [`ApplicationError::Timeout`] once it has run for `after`.
///
/// The deadline is taken when the message enters the layer; the timer itself is only armed
/// if the rest of the stack has to wait, so a handler that answers at once never touches the
/// runtime's timer.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    after: Duration,
}

impl TimeoutLayer {
    /// Fails a message once it has run for `after`.
    pub fn new(after: Duration) -> Self {
        Self { after }
    }

    /// The longest time a message may run.
    pub fn after(&self) -> Duration {
        self.after
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            after: self.after,
            inner,
        }
    }
}

/// The service of a [`TimeoutLayer`].
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    after: Duration,
    inner: S,
}

impl<S> Service<BusRequest> for Timeout<S>
where
    S: Service<BusRequest, Response = BusResponse, Error = ApplicationError>,
{
    type Response = BusResponse;
    type Error = ApplicationError;
    type Future = TimeoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: BusRequest) -> Self::Future {
        TimeoutFuture {
            deadline: Instant::now() + self.after,
            after: self.after,
            inner: self.inner.call(request),
            timer: None,
        }
    }
}

pin_project! {
    /// The future of a [`Timeout`] service.
    #[derive(Debug)]
    pub struct TimeoutFuture<F> {
        #[pin]
        inner: F,
        deadline: Instant,
        after: Duration,
        // Boxed when armed: most calls never arm it.
        timer: Option<Pin<Box<Sleep>>>,
    }
}

impl<F: Future<Output = Outcome>> Future for TimeoutFuture<F> {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        let this = self.project();
        if let Poll::Ready(outcome) = this.inner.poll(cx) {
            return Poll::Ready(outcome);
        }
        let deadline = *this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        let after = *this.after;
        timer.as_mut().poll(cx).map(|()| Err(ApplicationError::Timeout(after)))
    }
}
