//! A tracing span per message, carrying its type, id and correlation id.

use futures::future::BoxFuture;
use futures::FutureExt;
use tower::ServiceExt;
use tracing::Instrument;

use super::{Middleware, MiddlewareLayer, Next};
use crate::bus::{BusRequest, BusResponse};
use crate::ApplicationError;

/// Opens a `tracing` span around the rest of the stack and logs the outcome at debug level.
#[derive(Debug, Clone, Copy)]
pub struct TracingSpan {
    kind: &'static str,
}

/// The [`TracingSpan`] layer.
pub type TracingLayer = MiddlewareLayer<TracingSpan>;

impl TracingLayer {
    /// Spans named `command`.
    pub fn commands() -> Self {
        MiddlewareLayer::wrap(TracingSpan { kind: "command" })
    }

    /// Spans named `query`.
    pub fn queries() -> Self {
        MiddlewareLayer::wrap(TracingSpan { kind: "query" })
    }
}

impl Middleware for TracingSpan {
    fn call(&self, request: BusRequest, next: Next) -> BoxFuture<'static, Result<BusResponse, ApplicationError>> {
        let span = tracing::info_span!(
            "bus",
            kind = self.kind,
            message = request.message_type,
            message_id = %request.context.message_id,
            correlation_id = %request.context.correlation_id,
        );
        async move {
            let result = next.oneshot(request).await;
            match &result {
                Ok(_) => tracing::debug!("handled"),
                Err(error) => tracing::debug!(%error, "refused"),
            }
            result
        }
        .instrument(span)
        .boxed()
    }
}
