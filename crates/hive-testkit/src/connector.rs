//! The conformance suite of the [`EventSink`] port (a message broker the global log is
//! published to), run by [`event_sink_conformance!`](crate::event_sink_conformance).
//!
//! The suite publishes through the sink under test and reads back what the broker holds
//! through a [`BrokerProbe`], which each broker adapter implements for its own broker: the
//! same cases then hold for NATS JetStream, Kafka, RabbitMQ streams…
//!
//! Every case gets a fresh probe (the factory runs once per test), so a probe should publish
//! to a destination of its own (a stream, a subject prefix, a topic) and read back only that.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::stream;
use hive_application::{Connector, EventSink};
use hive_domain::{
    Checkpoint, CheckpointStore, DeadLetter, EventEnvelope, EventStore, EventStoreError, EventStream, Metadata,
    StoreResult,
};
use uuid::Uuid;

/// One message as the broker holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedMessage {
    /// The subject (topic, routing key) it was published on.
    pub subject: String,
    /// The broker's de-duplication id (`Nats-Msg-Id` on JetStream): the event id.
    pub message_id: String,
    /// The event the message carries, decoded.
    pub event: EventEnvelope,
}

/// Reads back what a broker holds for the [`EventSink`] under test: what the conformance suite
/// needs from a broker adapter besides the sink itself.
#[async_trait]
pub trait BrokerProbe: Send + Sync {
    /// The sink under test, publishing to this probe's own destination.
    fn sink(&self) -> Arc<dyn EventSink>;
    /// The subject the adapter's documented scheme gives `event` (organization + event type).
    fn subject_for(&self, event: &EventEnvelope) -> String;
    /// Every message the broker holds for this sink, in the broker's order.
    async fn received(&self) -> Vec<ReceivedMessage>;
}

fn event(stream: &str, version: u64, organization: Option<&str>, event_type: &str, position: u64) -> EventEnvelope {
    let mut metadata = Metadata::default().with_user("user-1").with_source("conformance");
    if let Some(organization) = organization {
        metadata = metadata.with_organization(organization);
    }
    let mut event = EventEnvelope::new(
        stream,
        "Conformance",
        event_type,
        serde_json::json!({ "stream": stream, "version": version, "note": "a.b *>" }),
        version,
    )
    .with_correlation_id(format!("corr-{stream}"))
    .with_metadata(metadata);
    event.global_position = Some(position);
    event
}

/// `count` events of one organization over `streams` fresh streams, interleaved, positions from 1.
fn interleaved(streams: usize, count: usize) -> Vec<EventEnvelope> {
    let organization = format!("org-{}", Uuid::new_v4().simple());
    let names: Vec<String> = (0..streams).map(|_| format!("s-{}", Uuid::new_v4().simple())).collect();
    let mut versions = vec![0_u64; streams];
    (0..count)
        .map(|i| {
            let s = (i * 7 + i / streams) % streams;
            versions[s] += 1;
            event(&names[s], versions[s], Some(&organization), "Happened", i as u64 + 1)
        })
        .collect()
}

/// The value of `result`, or a panic naming `what` failed and why.
fn done<T, E: std::fmt::Display>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("{what}: {error}"),
    }
}

fn ids(events: &[EventEnvelope]) -> Vec<String> {
    events.iter().map(|e| e.event_id.to_string()).collect()
}

fn message_ids(received: &[ReceivedMessage]) -> Vec<String> {
    received.iter().map(|m| m.message_id.clone()).collect()
}

/// The sink publishes a page's events in order, across pages, each carrying its event whole.
pub async fn publishes_in_order<P: BrokerProbe + ?Sized>(probe: Arc<P>) {
    let events = interleaved(3, 25);
    let sink = probe.sink();
    for page in events.chunks(10) {
        done(sink.publish(page).await, "publish");
    }
    let received = probe.received().await;
    assert_eq!(
        message_ids(&received),
        ids(&events),
        "every event once, in the order published"
    );
    for (message, sent) in received.iter().zip(&events) {
        assert_eq!(&message.event, sent, "the message carries the event whole");
    }
}

/// The subject is the adapter's scheme for the event's organization and type: one subject per
/// (organization, event type), different ones apart, events without organization included.
pub async fn subject_is_per_organization_and_event_type<P: BrokerProbe + ?Sized>(probe: Arc<P>) {
    let suffix = Uuid::new_v4().simple().to_string();
    let (a, b) = (format!("org-a-{suffix}"), format!("org-b-{suffix}"));
    let awkward = format!("acme.eu *> {suffix}");
    let events = vec![
        event("s-1", 1, Some(&a), "PaymentCreated", 1),
        event("s-1", 2, Some(&a), "PaymentProcessed", 2),
        event("s-2", 1, Some(&b), "PaymentCreated", 3),
        event("s-2", 2, Some(&b), "PaymentCreated", 4),
        event("s-3", 1, Some(&awkward), "Odd.Type *>", 5),
        event("s-4", 1, None, "PaymentCreated", 6),
    ];
    done(probe.sink().publish(&events).await, "publish");
    let received = probe.received().await;
    assert_eq!(message_ids(&received), ids(&events));
    let mut by_pair: BTreeMap<(Option<String>, String), String> = BTreeMap::new();
    for (message, sent) in received.iter().zip(&events) {
        assert_eq!(
            message.subject,
            probe.subject_for(sent),
            "the documented subject of {sent:?}"
        );
        let pair = (sent.metadata.organization_id.clone(), sent.event_type.clone());
        if let Some(subject) = by_pair.insert(pair.clone(), message.subject.clone()) {
            assert_eq!(
                subject, message.subject,
                "one subject per organization and event type: {pair:?}"
            );
        }
    }
    let subjects: std::collections::BTreeSet<&String> = by_pair.values().collect();
    assert_eq!(
        subjects.len(),
        by_pair.len(),
        "different organizations or types, different subjects: {by_pair:?}"
    );
}

/// The broker's message id is the event id.
pub async fn message_id_is_the_event_id<P: BrokerProbe + ?Sized>(probe: Arc<P>) {
    let events = interleaved(2, 6);
    done(probe.sink().publish(&events).await, "publish");
    let received = probe.received().await;
    assert_eq!(received.len(), events.len());
    for message in &received {
        assert_eq!(message.message_id, message.event.event_id.to_string());
    }
}

/// Publishing the same events again, whole or overlapping, gives the broker no second message.
pub async fn republishing_gives_no_second_message<P: BrokerProbe + ?Sized>(probe: Arc<P>) {
    let events = interleaved(2, 8);
    let sink = probe.sink();
    done(sink.publish(&events[..5]).await, "publish");
    done(sink.publish(&events[..5]).await, "publish again");
    done(sink.publish(&events[3..]).await, "publish an overlapping page");
    let received = probe.received().await;
    assert_eq!(message_ids(&received), ids(&events), "each event once");
}

/// A [`Connector`] over a memory log and memory checkpoints, dropped and made anew, resumes
/// after its checkpoint; a crash between a publish and its checkpoint republishes that page,
/// and the broker keeps one message per event.
pub async fn connector_resumes_from_its_checkpoint<P: BrokerProbe + ?Sized>(probe: Arc<P>) {
    let log = Arc::new(Log::default());
    let checkpoints = Arc::new(Checkpoints::default());
    let connector = |log: &Arc<Log>, checkpoints: &Arc<Checkpoints>| {
        Connector::new("conformance", log.clone(), checkpoints.clone(), probe.sink()).with_page_size(4)
    };
    let events = interleaved(3, 30);
    log.extend(&events[..10]);
    assert_eq!(done(connector(&log, &checkpoints).catch_up().await, "catch up"), 10);
    log.extend(&events[10..17]);
    // Restarted: resumes after the checkpoint (10).
    let restarted = connector(&log, &checkpoints);
    assert_eq!(done(restarted.position().await, "position"), 10);
    assert_eq!(done(restarted.catch_up().await, "catch up"), 7);
    drop(restarted);
    // Crashes after publishing a page, before saving its checkpoint.
    log.extend(&events[17..]);
    checkpoints.fail_next_save.store(true, Ordering::SeqCst);
    let crashed = connector(&log, &checkpoints).catch_up().await;
    assert!(
        crashed.is_err(),
        "the checkpoint save failed, so the catch-up did: {crashed:?}"
    );
    assert_eq!(checkpoints.position("connector:conformance"), 17);
    assert_eq!(
        done(connector(&log, &checkpoints).catch_up().await, "catch up"),
        13,
        "the page again, then the rest"
    );
    let received = probe.received().await;
    assert_eq!(message_ids(&received), ids(&events), "nothing lost, nothing twice");
}

/// Events of many streams published by a [`Connector`] keep each stream's order.
pub async fn per_stream_order_is_kept<P: BrokerProbe + ?Sized>(probe: Arc<P>) {
    let log = Arc::new(Log::default());
    let events = interleaved(20, 200);
    log.extend(&events);
    let connector = Connector::new("order", log, Arc::new(Checkpoints::default()), probe.sink()).with_page_size(32);
    assert_eq!(done(connector.catch_up().await, "catch up"), 200);
    let received = probe.received().await;
    assert_eq!(received.len(), 200);
    let mut versions: HashMap<String, u64> = HashMap::new();
    for message in &received {
        let last = versions.entry(message.event.aggregate_id.clone()).or_default();
        assert_eq!(
            message.event.version,
            *last + 1,
            "stream {} in order",
            message.event.aggregate_id
        );
        *last = message.event.version;
    }
    assert_eq!(versions.len(), 20);
    assert_eq!(versions.values().sum::<u64>(), 200);
}

/// A global log in memory: the events handed to it, positions as given.
#[derive(Default)]
struct Log {
    events: Mutex<Vec<EventEnvelope>>,
}

impl Log {
    fn extend(&self, events: &[EventEnvelope]) {
        self.events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(events);
    }

    fn all(&self) -> Vec<EventEnvelope> {
        self.events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl EventStore for Log {
    async fn append(&self, _: &str, _: u64, _: Vec<EventEnvelope>) -> StoreResult<Vec<EventEnvelope>> {
        Err(EventStoreError::Unavailable(
            "the conformance log is filled by the suite".into(),
        ))
    }

    fn read_stream<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> EventStream<'a> {
        let events: Vec<_> = self
            .all()
            .into_iter()
            .filter(|e| e.aggregate_id == aggregate_id && e.version >= from_version)
            .map(Ok)
            .collect();
        Box::pin(stream::iter(events))
    }

    async fn read_all(&self, after_position: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>> {
        Ok(self
            .all()
            .into_iter()
            .filter(|e| e.global_position.is_some_and(|p| p > after_position))
            .take(limit)
            .collect())
    }

    async fn head_position(&self) -> StoreResult<u64> {
        Ok(self.all().last().and_then(|e| e.global_position).unwrap_or(0))
    }
}

/// Checkpoints in memory; `fail_next_save` makes the next save fail (a crash before it).
#[derive(Default)]
struct Checkpoints {
    saved: Mutex<HashMap<String, Checkpoint>>,
    dead_letters: Mutex<Vec<DeadLetter>>,
    fail_next_save: AtomicBool,
}

impl Checkpoints {
    fn position(&self, name: &str) -> u64 {
        self.saved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .map_or(0, |c| c.position)
    }
}

#[async_trait]
impl CheckpointStore for Checkpoints {
    async fn load(&self, projection: &str) -> StoreResult<Option<Checkpoint>> {
        Ok(self
            .saved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(projection)
            .cloned())
    }

    async fn save(&self, checkpoint: Checkpoint) -> StoreResult<()> {
        if self.fail_next_save.swap(false, Ordering::SeqCst) {
            return Err(EventStoreError::Unavailable("crashed before the checkpoint".into()));
        }
        self.saved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(checkpoint.projection.clone(), checkpoint);
        Ok(())
    }

    async fn list(&self) -> StoreResult<Vec<Checkpoint>> {
        Ok(self
            .saved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect())
    }

    async fn record_dead_letter(&self, dead_letter: DeadLetter) -> StoreResult<()> {
        self.dead_letters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(dead_letter);
        Ok(())
    }

    async fn dead_letters(&self, projection: &str) -> StoreResult<Vec<DeadLetter>> {
        let letters = self
            .dead_letters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(letters.iter().filter(|d| d.projection == projection).cloned().collect())
    }

    async fn remove_dead_letters(&self, projection: &str, positions: &[u64]) -> StoreResult<u64> {
        let mut letters = self
            .dead_letters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = letters.len();
        letters.retain(|d| d.projection != projection || !(positions.is_empty() || positions.contains(&d.position)));
        Ok((before - letters.len()) as u64)
    }
}
