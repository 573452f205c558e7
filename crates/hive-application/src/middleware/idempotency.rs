//! Idempotency: a command id already handled returns the first answer and appends nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::OnceCell;
use tower::ServiceExt;
use uuid::Uuid;

use super::{Middleware, MiddlewareLayer, Next};
use crate::bus::{BusRequest, BusResponse};
use crate::ApplicationError;

type Outcome = Result<BusResponse, ApplicationError>;
type Slot = Arc<OnceCell<Outcome>>;
/// A command id is only the same command for the same message type.
type Key = (&'static str, Uuid);

/// Remembers the outcome of each command id, per message type (bounded by count and age).
///
/// Concurrent sends of one id run the handler once: the others wait for its outcome.
/// Transient failures (timeouts, unavailable backends, conflicts left after retries) are
/// forgotten, so the same command may be sent again; successes and refusals are remembered.
#[derive(Clone)]
pub struct Idempotency {
    state: Arc<Mutex<Entries>>,
    capacity: usize,
    ttl: Duration,
}

/// The [`Idempotency`] layer.
pub type IdempotencyLayer = MiddlewareLayer<Idempotency>;

impl IdempotencyLayer {
    /// Remembers up to `capacity` command ids for `ttl` each.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        MiddlewareLayer::wrap(Idempotency {
            state: Arc::default(),
            capacity: capacity.max(1),
            ttl,
        })
    }
}

impl std::fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency")
            .field("capacity", &self.capacity)
            .field("ttl", &self.ttl)
            .finish()
    }
}

#[derive(Default)]
struct Entries {
    slots: HashMap<Key, (Instant, Slot)>,
    order: VecDeque<(Instant, Key)>,
}

impl Idempotency {
    fn slot(&self, id: Key) -> Slot {
        let now = Instant::now();
        let mut entries = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(&(at, old)) = entries.order.front() {
            if entries.order.len() <= self.capacity && now.duration_since(at) < self.ttl {
                break;
            }
            entries.order.pop_front();
            if entries.slots.get(&old).is_some_and(|(inserted, _)| *inserted == at) {
                entries.slots.remove(&old);
            }
        }
        if let Some((_, slot)) = entries.slots.get(&id) {
            return Arc::clone(slot);
        }
        let slot = Slot::default();
        entries.slots.insert(id, (now, Arc::clone(&slot)));
        entries.order.push_back((now, id));
        slot
    }

    fn forget(&self, id: Key, slot: &Slot) {
        let mut entries = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.slots.get(&id).is_some_and(|(_, s)| Arc::ptr_eq(s, slot)) {
            entries.slots.remove(&id);
        }
    }
}

impl Middleware for Idempotency {
    fn call(&self, request: BusRequest, next: Next) -> BoxFuture<'static, Outcome> {
        let this = self.clone();
        async move {
            let id = (request.message_type, request.context.message_id);
            let slot = this.slot(id);
            let outcome = slot.get_or_init(|| next.oneshot(request)).await.clone();
            if let Err(error) = &outcome {
                if error.is_transient() {
                    this.forget(id, &slot);
                }
            }
            outcome
        }
        .boxed()
    }
}
