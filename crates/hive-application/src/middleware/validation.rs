//! Runs [`crate::Message::validate`] before the handler.

use std::task::{Context, Poll};

use futures::future::{Either, Ready};
use tower::{Layer, Service};

use crate::bus::{BusRequest, BusResponse, Outcome};
use crate::ApplicationError;

/// Refuses a message whose `validate` fails, without calling the rest of the stack.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidationLayer;

impl ValidationLayer {
    /// The validation layer.
    pub fn new() -> Self {
        Self
    }
}

impl<S> Layer<S> for ValidationLayer {
    type Service = Validation<S>;

    fn layer(&self, inner: S) -> Validation<S> {
        Validation { inner }
    }
}

/// The service of a [`ValidationLayer`].
#[derive(Debug, Clone)]
pub struct Validation<S> {
    inner: S,
}

impl<S> Service<BusRequest> for Validation<S>
where
    S: Service<BusRequest, Response = BusResponse, Error = ApplicationError>,
{
    type Response = BusResponse;
    type Error = ApplicationError;
    type Future = Either<Ready<Outcome>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: BusRequest) -> Self::Future {
        match request.message.validate() {
            Ok(()) => Either::Right(self.inner.call(request)),
            Err(error) => Either::Left(futures::future::ready(Err(error))),
        }
    }
}
