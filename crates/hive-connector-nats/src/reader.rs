//! Reads a stream back: what the broker holds, in stream order.

use std::time::Duration;

use async_nats::jetstream::consumer::pull::OrderedConfig;
use futures::StreamExt;
use hive_application::SinkError;
use hive_domain::EventEnvelope;

use crate::sink::unavailable;
use crate::NatsSink;

/// A message of the stream, as JetStream holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    /// Its stream sequence (1-based).
    pub sequence: u64,
    /// The subject it was published on.
    pub subject: String,
    /// Its `Nats-Msg-Id` header (the event id), if it has one.
    pub message_id: Option<String>,
    /// The event it carries (its JSON body, decoded).
    pub event: EventEnvelope,
}

impl NatsSink {
    /// Every message of the stream, in stream order, read with an ordered JetStream consumer
    /// (for tests, audits and replays: it holds the whole stream in memory).
    pub async fn stored_messages(&self) -> Result<Vec<StoredMessage>, SinkError> {
        let stream = self
            .jetstream()
            .get_stream(&self.options().stream)
            .await
            .map_err(unavailable)?;
        let last = stream.get_info().await.map_err(unavailable)?.state.last_sequence;
        let mut stored = Vec::new();
        if last == 0 {
            return Ok(stored);
        }
        let consumer = stream
            .create_consumer(OrderedConfig::default())
            .await
            .map_err(unavailable)?;
        let mut messages = consumer.messages().await.map_err(unavailable)?;
        loop {
            let next = tokio::time::timeout(Duration::from_secs(10), messages.next())
                .await
                .map_err(|_| SinkError::Unavailable("timed out reading the stream".into()))?;
            let Some(message) = next else { break };
            let message = message.map_err(unavailable)?;
            let sequence = message.info().map_err(unavailable)?.stream_sequence;
            let event = serde_json::from_slice(&message.payload)
                .map_err(|e| SinkError::Refused(format!("message {sequence} is not an event: {e}")))?;
            stored.push(StoredMessage {
                sequence,
                subject: message.subject.to_string(),
                message_id: message
                    .headers
                    .as_ref()
                    .and_then(|h| h.get("Nats-Msg-Id"))
                    .map(|v| v.as_str().to_owned()),
                event,
            });
            if sequence >= last {
                break;
            }
        }
        Ok(stored)
    }
}
