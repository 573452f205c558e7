//! Idempotency: a command id its sender named, already handled, returns the first answer and
//! appends nothing.

mod ids;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::bus::{BusRequest, BusResponse, Outcome};
use crate::ApplicationError;
use ids::{CommandIds, Key, Look, Slot};

/// Remembers the outcome of each command id the sender named
/// ([`MessageContext::with_message_id`](crate::MessageContext::with_message_id), e.g. from an HTTP
/// `Idempotency-Key`), per message type, bounded by count and age. A fresh id minted by
/// [`MessageContext::new`](crate::MessageContext::new) cannot come again and passes straight
/// through, remembering nothing.
///
/// Concurrent sends of one id run the rest of the stack once: the others wait for its outcome
/// (and one of them runs it if the first send is dropped before answering). Transient failures
/// (timeouts, unavailable backends, conflicts left after retries) are forgotten, so the same
/// command may be sent again; successes and refusals are remembered.
///
/// An id is remembered at least until `capacity` newer ids have been sent and never longer than
/// `ttl`; at most `2 × capacity` ids are held. One map is shared by every route of the bus.
#[derive(Debug, Clone)]
pub struct IdempotencyLayer {
    ids: CommandIds,
}

impl IdempotencyLayer {
    /// Remembers at least the last `capacity` command ids, each for at most `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            ids: CommandIds::new(capacity, ttl),
        }
    }
}

impl<S> Layer<S> for IdempotencyLayer {
    type Service = Idempotency<S>;

    fn layer(&self, inner: S) -> Idempotency<S> {
        Idempotency {
            ids: self.ids.clone(),
            inner,
        }
    }
}

/// The service of an [`IdempotencyLayer`].
#[derive(Debug, Clone)]
pub struct Idempotency<S> {
    ids: CommandIds,
    inner: S,
}

impl<S> Service<BusRequest> for Idempotency<S>
where
    S: Service<BusRequest, Response = BusResponse, Error = ApplicationError> + Clone,
{
    type Response = BusResponse;
    type Error = ApplicationError;
    type Future = IdempotencyFuture<S>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: BusRequest) -> Self::Future {
        if !request.context.idempotent {
            // A fresh id the sender did not name cannot come again: nothing to remember.
            return IdempotencyFuture {
                stage: Stage::Running {
                    future: self.inner.call(request),
                },
                slot: None,
                run: None,
                follower: None,
            };
        }
        let key = Key {
            id: request.context.message_id,
            message_type: request.message_type,
        };
        let (slot, new) = self.ids.slot(key);
        let (stage, follower) = if new {
            let future = self.inner.call(request);
            (Stage::Running { future }, None)
        } else {
            // Kept to run the command if the first send gives up.
            let follower = Follower {
                service: self.inner.clone(),
                request,
                ids: self.ids.clone(),
                key,
            };
            (Stage::Following, Some(follower))
        };
        let run = new.then(|| Run::new(self.ids.clone(), key, Arc::clone(&slot)));
        IdempotencyFuture {
            stage,
            slot: Some(slot),
            run,
            follower,
        }
    }
}

struct Run {
    ids: CommandIds,
    key: Key,
    slot: Arc<Slot>,
    settled: bool,
}

impl Run {
    fn new(ids: CommandIds, key: Key, slot: Arc<Slot>) -> Self {
        Self {
            ids,
            key,
            slot,
            settled: false,
        }
    }

    fn finish(mut self, outcome: &Outcome) {
        if outcome.as_ref().is_err_and(ApplicationError::is_transient) {
            self.ids.forget(self.key, &self.slot);
        }
        self.slot.finish(outcome.clone());
        self.settled = true;
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if !self.settled {
            self.slot.abandon();
        }
    }
}

/// What a send that found its id remembered keeps, to run the command if the first send gives
/// up.
struct Follower<S> {
    service: S,
    request: BusRequest,
    ids: CommandIds,
    key: Key,
}

pin_project! {
    #[project = StageProjection]
    enum Stage<F> {
        Running { #[pin] future: F },
        Following,
        Starting,
    }
}

pin_project! {
    /// The future of an [`Idempotency`] service.
    pub struct IdempotencyFuture<S>
    where
        S: Service<BusRequest>,
    {
        #[pin]
        stage: Stage<S::Future>,
        // None when the request's id is not remembered (it passes straight through).
        slot: Option<Arc<Slot>>,
        run: Option<Run>,
        follower: Option<Follower<S>>,
    }
}

impl<S> Future for IdempotencyFuture<S>
where
    S: Service<BusRequest, Response = BusResponse, Error = ApplicationError>,
{
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        let mut this = self.project();
        loop {
            match this.stage.as_mut().project() {
                StageProjection::Running { future } => {
                    let outcome = ready!(future.poll(cx));
                    if let Some(run) = this.run.take() {
                        run.finish(&outcome);
                    }
                    return Poll::Ready(outcome);
                }
                StageProjection::Following => {
                    let Some(slot) = this.slot.as_ref() else {
                        return Poll::Ready(Err(ApplicationError::Internal(
                            "idempotency follows a send it did not remember".into(),
                        )));
                    };
                    match ready!(slot.poll_look(cx)) {
                        Look::Done(outcome) => return Poll::Ready(outcome),
                        Look::Run => {
                            // The slot is running again, on this send now.
                            *this.run = this
                                .follower
                                .as_ref()
                                .map(|follower| Run::new(follower.ids.clone(), follower.key, Arc::clone(slot)));
                            this.stage.set(Stage::Starting);
                        }
                    }
                }
                StageProjection::Starting => {
                    let Some(mut follower) = this.follower.take() else {
                        return Poll::Ready(Err(ApplicationError::Internal(
                            "idempotency lost the request it was to run".into(),
                        )));
                    };
                    match follower.service.poll_ready(cx) {
                        Poll::Pending => {
                            *this.follower = Some(follower);
                            return Poll::Pending;
                        }
                        Poll::Ready(Err(error)) => {
                            let outcome = Err(error);
                            if let Some(run) = this.run.take() {
                                run.finish(&outcome);
                            }
                            return Poll::Ready(outcome);
                        }
                        Poll::Ready(Ok(())) => {
                            let future = follower.service.call(follower.request);
                            this.stage.set(Stage::Running { future });
                        }
                    }
                }
            }
        }
    }
}
