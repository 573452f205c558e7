//! The event bus: inline handlers (synchronous projections) and asynchronous subscribers.

use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use hive_domain::EventEnvelope;
use tokio::sync::broadcast;

use crate::ApplicationError;

/// Reacts to stored events. Inline handlers run before the command's answer is returned, so
/// the caller reads its own writes from what they maintain.
#[async_trait]
pub trait EventHandler: Send + Sync {
    /// A name for logs.
    fn name(&self) -> &str;
    /// Handles one stored event (it has its global position when the store keeps one).
    async fn handle(&self, event: &EventEnvelope) -> Result<(), ApplicationError>;
}

/// Publishes stored events to inline handlers (in registration order, awaited) and to
/// asynchronous subscribers (a broadcast channel; a slow subscriber that lags is told so and
/// should catch up from the store's global log).
#[derive(Clone)]
pub struct EventBus {
    inline: Arc<RwLock<Vec<Arc<dyn EventHandler>>>>,
    subscribers: broadcast::Sender<Arc<EventEnvelope>>,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus")
            .field("subscribers", &self.subscribers.receiver_count())
            .finish()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(4096)
    }
}

impl EventBus {
    /// A bus whose subscribers may lag `capacity` events before they are told they missed some.
    pub fn new(capacity: usize) -> Self {
        let (subscribers, _) = broadcast::channel(capacity.max(1));
        Self {
            inline: Arc::default(),
            subscribers,
        }
    }

    /// Adds an inline handler.
    pub fn register(&self, handler: Arc<dyn EventHandler>) {
        self.inline
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(handler);
    }

    /// A new asynchronous subscription to every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventEnvelope>> {
        self.subscribers.subscribe()
    }

    /// Publishes stored events: every inline handler handles each event in order, then the
    /// events go to subscribers. Returns the failures of inline handlers (each also logged);
    /// the events are stored whatever happens here.
    pub async fn publish(&self, events: &[EventEnvelope]) -> Vec<(String, ApplicationError)> {
        let handlers = self.inline.read().unwrap_or_else(PoisonError::into_inner).clone();
        let mut failures = Vec::new();
        for event in events {
            for handler in &handlers {
                if let Err(error) = handler.handle(event).await {
                    tracing::error!(handler = handler.name(), event_id = %event.event_id, %error, "inline event handler failed");
                    failures.push((handler.name().to_owned(), error));
                }
            }
        }
        if self.subscribers.receiver_count() > 0 {
            for event in events {
                // An error only means nobody is listening any more.
                let _ = self.subscribers.send(Arc::new(event.clone()));
            }
        }
        failures
    }
}
