//! [`NatsSink`]: the [`EventSink`] port on NATS JetStream.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::jetstream::context::{Context, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{Config, StorageType};
use async_nats::HeaderMap;
use async_trait::async_trait;
use bytes::Bytes;
use hive_application::{EventSink, SinkError};
use hive_domain::EventEnvelope;

use crate::subject_for;

/// The stream's default name.
pub const DEFAULT_STREAM: &str = "HIVE_EVENTS";
/// The default subject prefix: events go to `hive.events.{organization}.{eventType}`.
pub const DEFAULT_SUBJECT_PREFIX: &str = "hive.events";
/// The stream's default duplicate window: an event published again within it is dropped.
pub const DEFAULT_DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Where and how [`NatsSink`] publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsOptions {
    /// The server, `nats://host:port` (several, comma-separated, for a cluster).
    pub url: String,
    /// The JetStream stream, created when missing ([`DEFAULT_STREAM`]).
    pub stream: String,
    /// The subject prefix; the stream holds `{prefix}.>` ([`DEFAULT_SUBJECT_PREFIX`]).
    pub subject_prefix: String,
    /// The stream's duplicate window, set when the sink creates it ([`DEFAULT_DUPLICATE_WINDOW`]).
    pub duplicate_window: Duration,
    /// How long a publish waits for the broker's acknowledgement (default 10 s).
    pub ack_timeout: Duration,
}

impl NatsOptions {
    /// The defaults, on the server at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            stream: DEFAULT_STREAM.to_owned(),
            subject_prefix: DEFAULT_SUBJECT_PREFIX.to_owned(),
            duplicate_window: DEFAULT_DUPLICATE_WINDOW,
            ack_timeout: Duration::from_secs(10),
        }
    }

    /// Sets the stream name.
    #[must_use]
    pub fn with_stream(mut self, stream: impl Into<String>) -> Self {
        self.stream = stream.into();
        self
    }

    /// Sets the subject prefix (dot-separated tokens, no wildcard).
    #[must_use]
    pub fn with_subject_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.subject_prefix = prefix.into();
        self
    }

    /// Sets the duplicate window the stream is created with.
    #[must_use]
    pub fn with_duplicate_window(mut self, window: Duration) -> Self {
        self.duplicate_window = window;
        self
    }

    /// Sets how long a publish waits for each acknowledgement.
    #[must_use]
    pub fn with_ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = timeout;
        self
    }
}

/// Publishes events to a JetStream stream: subject `{prefix}.{organization}.{eventType}`
/// ([`subject_for`]), header `Nats-Msg-Id` = the event id (the stream's duplicate window drops
/// a second copy), body = the event's JSON.
///
/// A page is pipelined (every message sent, then the acknowledgements awaited in order), each
/// message after the first carrying `Nats-Expected-Last-Msg-Id` = the previous event's id, so a
/// message lost on a broken connection cannot let the next ones be stored before it. After a
/// failure, and for the first page after connecting, the page goes one message at a time (each
/// acknowledged before the next is sent). The stream must be written by this sink alone.
pub struct NatsSink {
    client: async_nats::Client,
    jetstream: Context,
    options: NatsOptions,
    stream_ready: AtomicBool,
    careful: AtomicBool,
    publishing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for NatsSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsSink")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl NatsSink {
    /// A sink on `options.url`. It connects in the background and reconnects for ever: an
    /// unreachable broker is not an error here (publishing fails `Unavailable` until it is
    /// back); a malformed URL is. The stream is ensured before the first publish.
    pub async fn connect(options: NatsOptions) -> Result<Self, SinkError> {
        let client = async_nats::ConnectOptions::new()
            .name("hive-connector-nats")
            .retry_on_initial_connect()
            .max_reconnects(None)
            .reconnect_delay_callback(|attempts| Duration::from_millis((100 * attempts as u64).min(2_000)))
            .connect(options.url.as_str())
            .await
            .map_err(|e| SinkError::Refused(format!("cannot connect to {}: {e}", options.url)))?;
        let jetstream = async_nats::jetstream::ContextBuilder::new()
            .timeout(options.ack_timeout)
            .build(client.clone());
        Ok(Self {
            client,
            jetstream,
            options,
            stream_ready: AtomicBool::new(false),
            careful: AtomicBool::new(true),
            publishing: tokio::sync::Mutex::new(()),
        })
    }

    /// The options it was made with.
    pub fn options(&self) -> &NatsOptions {
        &self.options
    }

    /// The NATS client (for readiness checks, or to read the stream).
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// Whether the client is connected to a server right now (it reconnects by itself).
    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// The version of the server it is (or was last) connected to; `None` before the first
    /// connection.
    pub fn server_version(&self) -> Option<String> {
        let version = self.client.server_info().version;
        (!version.is_empty()).then_some(version)
    }

    /// The JetStream context it publishes with.
    pub fn jetstream(&self) -> &Context {
        &self.jetstream
    }

    /// The subject `event` is published on.
    pub fn subject_for(&self, event: &EventEnvelope) -> String {
        subject_for(&self.options.subject_prefix, event)
    }

    /// Creates the stream (subjects `{prefix}.>`, file storage, the duplicate window) unless
    /// it exists; an existing stream is used as it is (a different duplicate window is logged).
    pub async fn ensure_stream(&self) -> Result<(), SinkError> {
        let config = Config {
            name: self.options.stream.clone(),
            subjects: vec![format!("{}.>", self.options.subject_prefix)],
            duplicate_window: self.options.duplicate_window,
            storage: StorageType::File,
            description: Some("Hive's global log (hive-connector-nats)".to_owned()),
            ..Config::default()
        };
        let mut stream = self.jetstream.get_or_create_stream(config).await.map_err(unavailable)?;
        let info = stream.info().await.map_err(unavailable)?;
        if info.config.duplicate_window != self.options.duplicate_window {
            tracing::warn!(stream = %self.options.stream, existing = ?info.config.duplicate_window,
                configured = ?self.options.duplicate_window, "the stream exists with another duplicate window");
        }
        self.stream_ready.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn message(&self, event: &EventEnvelope, previous: Option<&EventEnvelope>) -> Result<PublishMessage, SinkError> {
        let body =
            serde_json::to_vec(event).map_err(|e| SinkError::Refused(format!("event {}: {e}", event.event_id)))?;
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", event.event_id.to_string());
        if let Some(previous) = previous {
            headers.insert("Nats-Expected-Last-Msg-Id", previous.event_id.to_string());
        }
        if let Some(position) = event.global_position {
            headers.insert("Hive-Position", position.to_string());
        }
        headers.insert("Hive-Stream-Version", event.version.to_string());
        for (name, value) in [
            ("Hive-Stream-Id", Some(&event.aggregate_id)),
            ("Hive-Event-Type", Some(&event.event_type)),
            ("Hive-Correlation-Id", Some(&event.correlation_id)),
            ("Hive-Organization-Id", event.metadata.organization_id.as_ref()),
        ] {
            // Header values are one line of printable ASCII; other values stay in the body only.
            if let Some(value) = value.filter(|v| !v.is_empty() && v.bytes().all(|b| (b' '..=b'~').contains(&b))) {
                headers.insert(name, value.as_str());
            }
        }
        Ok(PublishMessage::build().payload(Bytes::from(body)).headers(headers))
    }

    async fn publish_pipelined(&self, events: &[EventEnvelope]) -> Result<(), SinkError> {
        let mut acks = Vec::with_capacity(events.len());
        let mut previous = None;
        for event in events {
            let message = self.message(event, previous)?;
            acks.push(
                self.jetstream
                    .send_publish(self.subject_for(event), message)
                    .await
                    .map_err(|e| self.publish_error(e))?,
            );
            previous = Some(event);
        }
        for ack in acks {
            ack.await.map_err(|e| self.publish_error(e))?;
        }
        Ok(())
    }

    async fn publish_one_by_one(&self, events: &[EventEnvelope]) -> Result<(), SinkError> {
        for event in events {
            let message = self.message(event, None)?;
            self.jetstream
                .send_publish(self.subject_for(event), message)
                .await
                .map_err(|e| self.publish_error(e))?
                .await
                .map_err(|e| self.publish_error(e))?;
        }
        Ok(())
    }

    fn publish_error(&self, error: async_nats::jetstream::context::PublishError) -> SinkError {
        match error.kind() {
            PublishErrorKind::StreamNotFound => {
                self.stream_ready.store(false, Ordering::SeqCst);
                SinkError::Unavailable(error.to_string())
            }
            PublishErrorKind::MaxPayloadExceeded | PublishErrorKind::Other => SinkError::Refused(error.to_string()),
            _ => SinkError::Unavailable(error.to_string()),
        }
    }
}

#[async_trait]
impl EventSink for NatsSink {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), SinkError> {
        if events.is_empty() {
            return Ok(());
        }
        let _one_page_at_a_time = self.publishing.lock().await;
        if !self.stream_ready.load(Ordering::SeqCst) {
            self.ensure_stream().await?;
        }
        let result = if self.careful.load(Ordering::SeqCst) {
            self.publish_one_by_one(events).await
        } else {
            self.publish_pipelined(events).await
        };
        self.careful.store(result.is_err(), Ordering::SeqCst);
        result
    }
}

/// A failure to reach the broker or to get its answer.
pub(crate) fn unavailable(error: impl std::fmt::Display) -> SinkError {
    SinkError::Unavailable(error.to_string())
}
