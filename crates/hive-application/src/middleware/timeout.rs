//! A deadline per message, mapped to [`ApplicationError::Timeout`].

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::Duration;

use tokio::time::{Instant, Sleep};
use tower::Layer;

use super::step::{single, Call, Step};
use crate::bus::{BusRequest, BusService, Outcome};
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

/// A layer that fails a message with [`ApplicationError::Timeout`] once it has run for `after`.
pub fn timeout_layer(after: Duration) -> TimeoutLayer {
    TimeoutLayer { after }
}

impl TimeoutLayer {
    /// The longest time a message may run.
    pub fn after(&self) -> Duration {
        self.after
    }
}

impl Layer<BusService> for TimeoutLayer {
    type Service = BusService;

    fn layer(&self, inner: BusService) -> BusService {
        single(*self, inner)
    }
}

impl Step for TimeoutLayer {
    fn run<'a, N: Call>(&'a self, request: BusRequest, next: &'a N) -> impl Future<Output = Outcome> + Send + 'a {
        let after = self.after;
        async move {
            let deadline = Instant::now() + after;
            let mut call = pin!(next.call(request));
            let mut timer: Option<Pin<Box<Sleep>>> = None;
            poll_fn(|cx| {
                if let Poll::Ready(outcome) = call.as_mut().poll(cx) {
                    return Poll::Ready(outcome);
                }
                let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                timer.as_mut().poll(cx).map(|()| Err(ApplicationError::Timeout(after)))
            })
            .await
        }
    }
}
