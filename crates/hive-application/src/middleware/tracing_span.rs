//! A tracing span per message, carrying its type, id and correlation id.

use std::future::Future;

use tower::Layer;
use tracing::Instrument;

use super::step::{single, Call, Step};
use crate::bus::{BusRequest, BusService, Outcome};

/// Opens a `tracing` span around the rest of the stack and logs the outcome at debug level.
///
/// When no subscriber wants the span (none installed, or filtered out), nothing is formatted
/// and the rest of the stack runs without the span's wrapper; the debug events are still
/// offered to the subscriber.
#[derive(Debug, Clone, Copy)]
pub struct TracingSpan {
    kind: &'static str,
}

/// The [`TracingSpan`] layer.
#[derive(Debug, Clone, Copy)]
pub struct TracingLayer {
    span: TracingSpan,
}

impl TracingLayer {
    /// Spans named `command`.
    pub fn commands() -> Self {
        Self {
            span: TracingSpan::commands(),
        }
    }

    /// Spans named `query`.
    pub fn queries() -> Self {
        Self {
            span: TracingSpan::queries(),
        }
    }
}

impl TracingSpan {
    /// Spans of kind `command`.
    pub(crate) fn commands() -> Self {
        Self { kind: "command" }
    }

    /// Spans of kind `query`.
    pub(crate) fn queries() -> Self {
        Self { kind: "query" }
    }
}

impl Layer<BusService> for TracingLayer {
    type Service = BusService;

    fn layer(&self, inner: BusService) -> BusService {
        single(self.span, inner)
    }
}

fn log_outcome(result: &Outcome) {
    match result {
        Ok(_) => tracing::debug!("handled"),
        Err(error) => tracing::debug!(%error, "refused"),
    }
}

impl Step for TracingSpan {
    fn run<'a, N: Call>(&'a self, request: BusRequest, next: &'a N) -> impl Future<Output = Outcome> + Send + 'a {
        let span = tracing::info_span!(
            "bus",
            kind = self.kind,
            message = request.message_type,
            message_id = %request.context.message_id,
            correlation_id = %request.context.correlation_id,
        );
        async move {
            if span.is_disabled() {
                let result = next.call(request).await;
                log_outcome(&result);
                return result;
            }
            async move {
                let result = next.call(request).await;
                log_outcome(&result);
                result
            }
            .instrument(span)
            .await
        }
    }
}
