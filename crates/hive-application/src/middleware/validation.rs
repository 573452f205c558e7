//! Runs [`crate::Message::validate`] before the handler.

use futures::future::BoxFuture;
use futures::FutureExt;
use tower::ServiceExt;

use super::{Middleware, MiddlewareLayer, Next};
use crate::bus::{BusRequest, BusResponse};
use crate::ApplicationError;

/// Refuses a message whose `validate` fails, without calling the handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct Validation;

/// The [`Validation`] layer.
pub type ValidationLayer = MiddlewareLayer<Validation>;

impl ValidationLayer {
    /// The validation layer.
    pub fn new() -> Self {
        MiddlewareLayer::wrap(Validation)
    }
}

impl Default for ValidationLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl Middleware for Validation {
    fn call(&self, request: BusRequest, next: Next) -> BoxFuture<'static, Result<BusResponse, ApplicationError>> {
        match request.message.validate() {
            Ok(()) => next.oneshot(request).boxed(),
            Err(error) => futures::future::ready(Err(error)).boxed(),
        }
    }
}
