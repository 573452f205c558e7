//! The port a message broker adapter implements.

use async_trait::async_trait;
use hive_domain::EventEnvelope;

/// Why a broker did not store a page of events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The broker could not be reached or did not answer in time: try again later.
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    /// The broker answered and refused the events (bad subject, stream missing, limits…).
    #[error("broker refused the events: {0}")]
    Refused(String),
}

/// A message broker the global log is published to (a driven port).
///
/// Hive's conformance suite for it is `hive_testkit::event_sink_conformance!`.
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Publishes `events` in order and returns once the broker stored every one. Publishing an
    /// event again (same event id) must not give the broker's consumers a second message.
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), SinkError>;
}
