//! Hive's side of the command benches: [`BenchPayment`] behind the command bus (full default
//! middleware) and the aggregate repository (hot aggregates on, its default), on the in-memory
//! store, with or without snapshots.

use std::sync::Arc;

use chrono::Utc;
use hive_application::{
    AggregateRepository, ApplicationError, Command, CommandBus, Handler, Message, MessageContext, MiddlewareConfig,
    SnapshotPolicy,
};
use hive_domain::{Aggregate, EventEnvelope, EventStore, Snapshot, SnapshotStore};
use hive_store_memory::{MemoryEventStore, MemorySnapshotStore};
use uuid::Uuid;

use crate::{context, payment_envelopes, payment_history, BenchPayment, BenchPaymentCommand, FixtureError};

/// How many events one seeding append writes.
const SEED_BATCH: u64 = 1_000;

/// The command the benches time: process 1 cent of payment `payment_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessPayment {
    /// The payment (its stream id).
    pub payment_id: String,
}

impl Message for ProcessPayment {
    /// The payment's version after the command.
    type Output = u64;
}

impl Command for ProcessPayment {}

/// The handler of [`ProcessPayment`]: `AggregateRepository::execute`.
#[derive(Debug, Clone)]
struct ProcessHandler {
    repository: AggregateRepository<BenchPayment>,
}

impl Handler<ProcessPayment> for ProcessHandler {
    async fn handle(&self, command: &ProcessPayment, context: &MessageContext) -> Result<u64, ApplicationError> {
        let executed = self
            .repository
            .execute(
                &command.payment_id,
                &BenchPaymentCommand::Process { amount: 1 },
                context,
            )
            .await?;
        Ok(executed.version)
    }
}

/// One side of a command benchmark: can seed a payment stream and run the timed command on it.
pub trait CommandSide: Sized {
    /// A new, empty instance (a fresh store), configured like this one.
    fn fresh(&self) -> Self;
    /// Writes `events` events of [`payment_history`] to `stream` (untimed set-up).
    fn seed(&self, stream: &str, events: u64) -> impl std::future::Future<Output = Result<(), FixtureError>>;
    /// Runs the timed command (process 1 cent) on `stream`.
    fn process(&self, stream: &str) -> impl std::future::Future<Output = Result<(), FixtureError>>;
}

/// Hive: the command bus with the default middleware, and a repository on a memory store.
#[derive(Clone)]
pub struct HivePayments {
    store: MemoryEventStore,
    snapshots: MemorySnapshotStore,
    policy: SnapshotPolicy,
    repository: AggregateRepository<BenchPayment>,
    bus: CommandBus,
}

impl std::fmt::Debug for HivePayments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HivePayments")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl HivePayments {
    /// A fresh store and bus; the repository snapshots every `snapshot_every` events (0: no
    /// snapshots, every load replays the whole stream).
    ///
    /// ```
    /// use hive_benches::{CommandSide, HivePayments};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let hive = HivePayments::new(20);
    /// hive.seed("pay-1", 30).await.unwrap();
    /// hive.process("pay-1").await.unwrap();
    /// assert_eq!(hive.load("pay-1").await.unwrap().events, 31);
    /// # });
    /// ```
    pub fn new(snapshot_every: u64) -> Self {
        let store = MemoryEventStore::new();
        let snapshots = MemorySnapshotStore::new();
        let policy = SnapshotPolicy { every: snapshot_every };
        let mut repository = AggregateRepository::<BenchPayment>::new(Arc::new(store.clone()));
        if snapshot_every > 0 {
            repository = repository.with_snapshots(Arc::new(snapshots.clone()), policy);
        }
        let bus = CommandBus::builder()
            .with_default_middleware(MiddlewareConfig::default())
            .handler(ProcessHandler {
                repository: repository.clone(),
            })
            .build();
        Self {
            store,
            snapshots,
            policy,
            repository,
            bus,
        }
    }

    /// The event store.
    pub fn store(&self) -> &MemoryEventStore {
        &self.store
    }

    /// The payment as the repository loads it.
    pub async fn load(&self, stream: &str) -> Result<BenchPayment, FixtureError> {
        let mut repository = AggregateRepository::<BenchPayment>::new(Arc::new(self.store.clone()));
        if self.policy.every > 0 {
            repository = repository.with_snapshots(Arc::new(self.snapshots.clone()), self.policy);
        }
        Ok(repository.load(stream).await?.state)
    }
}

impl CommandSide for HivePayments {
    fn fresh(&self) -> Self {
        Self::new(self.policy.every)
    }

    /// Appends the events in batches of 1 000 (one encoded envelope per event kind, cloned
    /// with a fresh id and its version: a million events take well under a second), with
    /// snapshots saves the snapshot the repository would have taken last (at the latest
    /// multiple of the interval), then loads the payment once through the bus's repository,
    /// as its first command would: the timed commands find it hot, as a running service finds
    /// the payments it serves.
    async fn seed(&self, stream: &str, events: u64) -> Result<(), FixtureError> {
        let history = payment_history(2);
        let templates = payment_envelopes(stream, 1, &history)?;
        let (created, processed) = (&templates[0], &templates[1]);
        let mut version = 0_u64;
        while version < events {
            let count = (events - version).min(SEED_BATCH);
            let batch: Vec<EventEnvelope> = (version + 1..=version + count)
                .map(|v| {
                    let template = if v == 1 { created } else { processed };
                    let mut envelope = template.clone().with_event_id(Uuid::now_v7());
                    envelope.version = v;
                    envelope
                })
                .collect();
            self.store.append(stream, version, batch).await?;
            version += count;
        }
        let snapshot_at = events
            .checked_div(self.policy.every)
            .map_or(0, |n| n * self.policy.every);
        if snapshot_at > 0 {
            let mut state = BenchPayment::default();
            state.apply(&history[0]);
            for _ in 1..snapshot_at {
                state.apply(&history[1]);
            }
            self.snapshots
                .save(Snapshot {
                    aggregate_id: stream.to_owned(),
                    aggregate_type: BenchPayment::TYPE.to_owned(),
                    version: snapshot_at,
                    state: serde_json::to_value(&state)?,
                    timestamp: Utc::now(),
                })
                .await?;
        }
        self.repository.load(stream).await?;
        Ok(())
    }

    async fn process(&self, stream: &str) -> Result<(), FixtureError> {
        let command = ProcessPayment {
            payment_id: stream.to_owned(),
        };
        self.bus.dispatch(command, context()).await?;
        Ok(())
    }
}

/// Runs the timed command on streams of `events` events, keeping their length within 10%:
/// a stream takes at most `max(1, events / 10)` commands, then a fresh one is seeded (untimed),
/// and the side is replaced by a fresh one once it holds more than 500 000 events, so memory
/// stays bounded however many iterations criterion asks for. A stream is kept across calls of
/// [`StreamRig::run`], so a long one is seeded once, not once per sample.
#[derive(Debug)]
pub struct StreamRig<S> {
    side: S,
    events: u64,
    stream: Option<String>,
    left_on_stream: u64,
    streams: u64,
    stored: u64,
}

/// Above this many stored events, the side is replaced by a fresh one.
const ROTATE_AT: u64 = 500_000;

impl<S: CommandSide> StreamRig<S> {
    /// A rig of `side` on streams of `events` prior events.
    pub fn new(side: S, events: u64) -> Self {
        Self {
            side,
            events,
            stream: None,
            left_on_stream: 0,
            streams: 0,
            stored: 0,
        }
    }

    /// The time `iters` commands took (set-up excluded).
    ///
    /// ```
    /// use hive_benches::{HivePayments, StreamRig};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let mut rig = StreamRig::new(HivePayments::new(0), 10);
    /// let took = rig.run(25).await.unwrap();
    /// assert!(took.as_nanos() > 0);
    /// # });
    /// ```
    pub async fn run(&mut self, iters: u64) -> Result<std::time::Duration, FixtureError> {
        let mut took = std::time::Duration::ZERO;
        let mut done = 0;
        while done < iters {
            let stream = self.stream_with_room().await?;
            let count = (iters - done).min(self.left_on_stream);
            let started = std::time::Instant::now();
            for _ in 0..count {
                self.side.process(&stream).await?;
            }
            took += started.elapsed();
            self.left_on_stream -= count;
            self.stored += count;
            done += count;
        }
        Ok(took)
    }

    /// The current stream if it can take another command, else a freshly seeded one.
    async fn stream_with_room(&mut self) -> Result<String, FixtureError> {
        if let Some(stream) = self.stream.as_ref().filter(|_| self.left_on_stream > 0) {
            return Ok(stream.clone());
        }
        if self.stored + self.events > ROTATE_AT {
            self.side = self.side.fresh();
            self.stored = 0;
        }
        self.streams += 1;
        let stream = format!("pay-{}", self.streams);
        self.side.seed(&stream, self.events).await?;
        self.stored += self.events;
        self.left_on_stream = (self.events / 10).max(1);
        self.stream = Some(stream.clone());
        Ok(stream)
    }
}
