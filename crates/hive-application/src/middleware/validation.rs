//! Runs [`crate::Message::validate`] before the handler.

use tower::Layer;

use super::step::{single, Call, Step};
use crate::bus::{BusRequest, BusService, Outcome};

/// Refuses a message whose `validate` fails, without calling the handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct Validation;

/// The [`Validation`] layer.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidationLayer;

impl ValidationLayer {
    /// The validation layer.
    pub fn new() -> Self {
        Self
    }
}

impl Layer<BusService> for ValidationLayer {
    type Service = BusService;

    fn layer(&self, inner: BusService) -> BusService {
        single(Validation, inner)
    }
}

impl Step for Validation {
    async fn run<N: Call>(&self, request: BusRequest, next: &N) -> Outcome {
        request.message.validate()?;
        next.call(request).await
    }
}
