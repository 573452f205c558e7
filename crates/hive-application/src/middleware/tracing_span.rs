//! A tracing span per message, carrying its type, id and correlation id.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tower::{Layer, Service};
use tracing::Span;

use crate::bus::{BusRequest, BusResponse, Outcome};
use crate::ApplicationError;

/// Opens a `tracing` span around the rest of the stack and logs the outcome at debug level.
///
/// When no subscriber wants the span (none installed, or filtered out), nothing is formatted
/// and the rest of the stack runs without entering it; the debug events are still offered to
/// the subscriber.
#[derive(Debug, Clone, Copy)]
pub struct TracingLayer {
    kind: &'static str,
}

impl TracingLayer {
    /// Spans of kind `command`.
    pub fn commands() -> Self {
        Self { kind: "command" }
    }

    /// Spans of kind `query`.
    pub fn queries() -> Self {
        Self { kind: "query" }
    }
}

impl<S> Layer<S> for TracingLayer {
    type Service = Tracing<S>;

    fn layer(&self, inner: S) -> Tracing<S> {
        Tracing { kind: self.kind, inner }
    }
}

/// The service of a [`TracingLayer`].
#[derive(Debug, Clone)]
pub struct Tracing<S> {
    kind: &'static str,
    inner: S,
}

impl<S> Service<BusRequest> for Tracing<S>
where
    S: Service<BusRequest, Response = BusResponse, Error = ApplicationError>,
{
    type Response = BusResponse;
    type Error = ApplicationError;
    type Future = TracingFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: BusRequest) -> Self::Future {
        let span = tracing::info_span!(
            "bus",
            kind = self.kind,
            message = request.message_type,
            message_id = %request.context.message_id,
            correlation_id = %request.context.correlation_id,
        );
        let span = (!span.is_disabled()).then_some(span);
        let inner = match &span {
            Some(span) => span.in_scope(|| self.inner.call(request)),
            None => self.inner.call(request),
        };
        TracingFuture { inner, span }
    }
}

pin_project! {
    /// The future of a [`Tracing`] service: polls the rest of the stack inside the span.
    #[derive(Debug)]
    pub struct TracingFuture<F> {
        #[pin]
        inner: F,
        span: Option<Span>,
    }
}

impl<F: Future<Output = Outcome>> Future for TracingFuture<F> {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        let this = self.project();
        let _entered = this.span.as_ref().map(Span::enter);
        let outcome = std::task::ready!(this.inner.poll(cx));
        match &outcome {
            Ok(_) => tracing::debug!("handled"),
            Err(error) => tracing::debug!(%error, "refused"),
        }
        Poll::Ready(outcome)
    }
}
