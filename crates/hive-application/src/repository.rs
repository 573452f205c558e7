//! Loading and saving aggregates: hot aggregates, snapshot + tail, expected version, snapshot
//! policy, publish.

mod hot;

use std::marker::PhantomData;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use hive_domain::{encode_event, Aggregate, EventEnvelope, EventStore, Snapshot, SnapshotStore, UpcasterChain};
use uuid::Uuid;

use hot::HotAggregates;
pub use hot::DEFAULT_HOT_AGGREGATES;

use crate::{ApplicationError, EventBus, MessageContext};

/// An aggregate as loaded from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<A> {
    /// Its state.
    pub state: A,
    /// The version of its last event (0: never written).
    pub version: u64,
}

/// What a command did.
#[derive(Debug, Clone, PartialEq)]
pub struct Executed<A> {
    /// The state after the new events.
    pub state: A,
    /// The version after the new events.
    pub version: u64,
    /// The stored events (with global positions where the store has them).
    pub events: Vec<EventEnvelope>,
}

/// Takes a snapshot every `every` events (0: never).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SnapshotPolicy {
    /// The interval in events.
    pub every: u64,
}

impl SnapshotPolicy {
    /// Whether crossing from `before` to `after` passes a snapshot point.
    pub fn due(&self, before: u64, after: u64) -> bool {
        self.every > 0 && after / self.every > before / self.every
    }
}

/// Where the repository reads the time it stamps on new events.
pub type TimeSource = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Loads aggregates (latest snapshot + the events after it) and saves their new events with
/// the expected version, then publishes them on the event bus.
///
/// It keeps up to [`DEFAULT_HOT_AGGREGATES`] recently used aggregates hot: in process, as typed
/// values, by stream id (see [`AggregateRepository::with_hot_aggregates`]). A command on a hot
/// aggregate decides on the kept state and appends at the kept version: no stream read, no
/// snapshot read. Clones share the hot aggregates; two repositories (two service instances on
/// one store) each keep their own, and stay correct because every append names its expected
/// version.
pub struct AggregateRepository<A: Aggregate> {
    store: Arc<dyn EventStore>,
    now: TimeSource,
    snapshots: Option<(Arc<dyn SnapshotStore>, SnapshotPolicy)>,
    bus: Option<EventBus>,
    upcasters: Arc<UpcasterChain>,
    hot: Option<Arc<HotAggregates<A>>>,
    _aggregate: PhantomData<fn() -> A>,
}

impl<A: Aggregate> Clone for AggregateRepository<A> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            now: Arc::clone(&self.now),
            snapshots: self.snapshots.clone(),
            bus: self.bus.clone(),
            upcasters: Arc::clone(&self.upcasters),
            hot: self.hot.clone(),
            _aggregate: PhantomData,
        }
    }
}

impl<A: Aggregate> std::fmt::Debug for AggregateRepository<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AggregateRepository")
            .field("aggregate", &A::TYPE)
            .field("hot", &self.hot)
            .finish_non_exhaustive()
    }
}

/// What a command decided on a hot aggregate came to.
enum HotOutcome<A> {
    /// Done: saved, or refused (or a no-op) on a state the store confirmed current.
    Done(Executed<A>),
    /// The kept state was stale: decide again on this one, caught up with the store.
    Stale(Arc<Loaded<A>>),
}

impl<A: Aggregate> AggregateRepository<A>
where
    ApplicationError: From<A::Error>,
{
    /// A repository over an event store, with no snapshots and no event bus, keeping up to
    /// [`DEFAULT_HOT_AGGREGATES`] aggregates hot.
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self {
            store,
            now: Arc::new(Utc::now),
            snapshots: None,
            bus: None,
            upcasters: Arc::default(),
            hot: Some(Arc::new(HotAggregates::new(DEFAULT_HOT_AGGREGATES))),
            _aggregate: PhantomData,
        }
    }

    /// Keeps up to `capacity` recently used aggregates hot (0: none; every command then loads
    /// its aggregate from the snapshot and the stream). The least recently used go first.
    ///
    /// Safe with several instances on one store: a command decided on a stale hot aggregate
    /// is refused by the append's expected-version check, and the repository catches the
    /// aggregate up with the store and decides once more (a refusal or a no-op decided on a
    /// hot aggregate is checked against the store the same way before it is answered). Only
    /// when that second attempt meets a concurrent writer too does the command fail with
    /// [`ApplicationError::Conflict`], for the retry middleware.
    #[must_use]
    pub fn with_hot_aggregates(mut self, capacity: usize) -> Self {
        self.hot = (capacity > 0).then(|| Arc::new(HotAggregates::new(capacity)));
        self
    }

    /// How many aggregates this repository (and its clones) keeps hot now.
    pub fn hot_aggregates(&self) -> usize {
        self.hot.as_ref().map_or(0, |hot| hot.len())
    }

    /// Stamps new events with the time `now` returns instead of the system clock (tests,
    /// imports of historical data).
    #[must_use]
    pub fn with_time_source(mut self, now: TimeSource) -> Self {
        self.now = now;
        self
    }

    /// Uses snapshots per `policy` (read by loads of aggregates that are not hot).
    #[must_use]
    pub fn with_snapshots(mut self, snapshots: Arc<dyn SnapshotStore>, policy: SnapshotPolicy) -> Self {
        self.snapshots = Some((snapshots, policy));
        self
    }

    /// Publishes saved events on `bus`.
    #[must_use]
    pub fn with_event_bus(mut self, bus: EventBus) -> Self {
        self.bus = Some(bus);
        self
    }

    /// Upcasts stored events with `chain` before applying them.
    #[must_use]
    pub fn with_upcasters(mut self, chain: Arc<UpcasterChain>) -> Self {
        self.upcasters = chain;
        self
    }

    /// The aggregate's current state: the hot one (or else the latest snapshot), then every
    /// later event in the store applied. It never returns a version older than the store's.
    pub async fn load(&self, aggregate_id: &str) -> Result<Loaded<A>, ApplicationError> {
        Ok(Loaded::clone(&*self.current(aggregate_id).await?))
    }

    /// The hot aggregate or the latest snapshot, caught up with the store, and kept hot.
    async fn current(&self, aggregate_id: &str) -> Result<Arc<Loaded<A>>, ApplicationError> {
        if let Some(hot) = self.hot_get(aggregate_id) {
            return self.catch_up(aggregate_id, hot).await;
        }
        let start = Arc::new(self.latest_snapshot(aggregate_id).await?);
        let loaded = self.catch_up(aggregate_id, Arc::clone(&start)).await?;
        if Arc::ptr_eq(&loaded, &start) {
            self.keep(aggregate_id, &loaded);
        }
        Ok(loaded)
    }

    fn hot_get(&self, aggregate_id: &str) -> Option<Arc<Loaded<A>>> {
        self.hot.as_ref()?.get(aggregate_id)
    }

    fn keep(&self, aggregate_id: &str, loaded: &Arc<Loaded<A>>) {
        if let Some(hot) = self.hot.as_ref().filter(|_| loaded.version > 0) {
            hot.keep(aggregate_id, Arc::clone(loaded));
        }
    }

    /// The latest readable snapshot, or the initial state.
    async fn latest_snapshot(&self, aggregate_id: &str) -> Result<Loaded<A>, ApplicationError> {
        let initial = Loaded {
            state: A::default(),
            version: 0,
        };
        let Some((snapshots, _)) = &self.snapshots else {
            return Ok(initial);
        };
        let Some(snapshot) = snapshots.load(aggregate_id).await? else {
            return Ok(initial);
        };
        match serde_json::from_value::<A>(snapshot.state) {
            Ok(state) => Ok(Loaded {
                state,
                version: snapshot.version,
            }),
            Err(error) => {
                tracing::warn!(aggregate_id, %error, "unreadable snapshot ignored; replaying");
                Ok(initial)
            }
        }
    }

    /// `base` with the store's later events applied (`base` itself when there are none); a
    /// newer state is kept hot.
    async fn catch_up(&self, aggregate_id: &str, base: Arc<Loaded<A>>) -> Result<Arc<Loaded<A>>, ApplicationError> {
        // Shared envelopes, decoded in place: no copy of the stored events.
        let mut stream = self.store.read_stream_shared(aggregate_id, base.version + 1);
        let Some(first) = stream.try_next().await? else {
            return Ok(base);
        };
        let mut loaded = Arc::unwrap_or_clone(base);
        let mut next = Some(first);
        while let Some(envelope) = next {
            let event: A::Event = self.upcasters.decode(&envelope)?;
            loaded.state.apply(&event);
            loaded.version = envelope.version;
            next = stream.try_next().await?;
        }
        let loaded = Arc::new(loaded);
        self.keep(aggregate_id, &loaded);
        Ok(loaded)
    }

    /// Decides on `command` against the aggregate (hot: as kept; else loaded), appends the
    /// events at that version, snapshots per policy, keeps the new state hot and publishes.
    ///
    /// A decision on a stale hot aggregate is refused by the store; the repository then
    /// catches up and decides once more. A concurrent writer during that second attempt (or
    /// during a cold one) makes this fail with [`ApplicationError::Conflict`] (the retry
    /// middleware runs it again).
    pub async fn execute(
        &self,
        aggregate_id: &str,
        command: &A::Command,
        context: &MessageContext,
    ) -> Result<Executed<A>, ApplicationError> {
        let current = match self.hot_get(aggregate_id) {
            Some(hot) => match self.execute_hot(aggregate_id, hot, command, context).await? {
                HotOutcome::Done(executed) => return Ok(executed),
                HotOutcome::Stale(current) => current,
            },
            None => self.current(aggregate_id).await?,
        };
        let events = current.state.handle(command)?;
        self.save(aggregate_id, &current, events, context).await
    }

    async fn execute_hot(
        &self,
        aggregate_id: &str,
        hot: Arc<Loaded<A>>,
        command: &A::Command,
        context: &MessageContext,
    ) -> Result<HotOutcome<A>, ApplicationError> {
        match hot.state.handle(command) {
            Ok(events) if !events.is_empty() => match self.save(aggregate_id, &hot, events, context).await {
                Err(ApplicationError::Conflict { .. }) => {
                    tracing::debug!(
                        aggregate_id,
                        version = hot.version,
                        "hot aggregate was stale; catching up"
                    );
                    Ok(HotOutcome::Stale(self.catch_up(aggregate_id, hot).await?))
                }
                saved => saved.map(HotOutcome::Done),
            },
            // A refusal or a no-op stands only if the store holds nothing newer.
            decided => {
                let current = self.catch_up(aggregate_id, Arc::clone(&hot)).await?;
                if !Arc::ptr_eq(&current, &hot) {
                    return Ok(HotOutcome::Stale(current));
                }
                decided?;
                Ok(HotOutcome::Done(Executed {
                    state: hot.state.clone(),
                    version: hot.version,
                    events: Vec::new(),
                }))
            }
        }
    }

    /// Appends `events` decided on `base` at its version; then snapshot, keep hot, publish.
    /// A failed append forgets the hot aggregate (it may be stale, or the write's outcome
    /// unknown).
    async fn save(
        &self,
        aggregate_id: &str,
        base: &Loaded<A>,
        events: Vec<A::Event>,
        context: &MessageContext,
    ) -> Result<Executed<A>, ApplicationError> {
        if events.is_empty() {
            return Ok(Executed {
                state: base.state.clone(),
                version: base.version,
                events: Vec::new(),
            });
        }
        let envelopes = self.envelopes(aggregate_id, base.version, &events, context)?;
        let stored = match self.store.append(aggregate_id, base.version, envelopes).await {
            Ok(stored) => stored,
            Err(error) => {
                if let Some(hot) = &self.hot {
                    hot.evict(aggregate_id, base.version);
                }
                return Err(error.into());
            }
        };
        let mut state = base.state.clone();
        state.apply_all(&events);
        let version = base.version + events.len() as u64;
        self.snapshot_if_due(aggregate_id, base.version, version, &state).await;
        if self.hot.is_some() {
            let kept = Arc::new(Loaded { state, version });
            self.keep(aggregate_id, &kept);
            state = kept.state.clone();
        }
        if let Some(bus) = &self.bus {
            bus.publish(&stored).await;
        }
        Ok(Executed {
            state,
            version,
            events: stored,
        })
    }

    fn envelopes(
        &self,
        aggregate_id: &str,
        version: u64,
        events: &[A::Event],
        context: &MessageContext,
    ) -> Result<Vec<EventEnvelope>, ApplicationError> {
        let causation = context.message_id.to_string();
        let now = (self.now)();
        events
            .iter()
            .zip(version + 1..)
            .map(|(event, event_version)| {
                let (event_type, data) = encode_event(event)?;
                Ok(EventEnvelope {
                    event_id: Uuid::now_v7(),
                    aggregate_id: aggregate_id.to_owned(),
                    aggregate_type: A::TYPE.to_owned(),
                    event_type,
                    schema_version: hive_domain::DomainEvent::schema_version(event),
                    event_data: data,
                    version: event_version,
                    timestamp: now,
                    correlation_id: context.correlation_id.clone(),
                    causation_id: causation.clone(),
                    metadata: context.metadata.clone(),
                    global_position: None,
                })
            })
            .collect()
    }

    async fn snapshot_if_due(&self, aggregate_id: &str, before: u64, after: u64, state: &A) {
        let Some((snapshots, policy)) = &self.snapshots else {
            return;
        };
        if !policy.due(before, after) {
            return;
        }
        let snapshot = match serde_json::to_value(state) {
            Ok(value) => Snapshot {
                aggregate_id: aggregate_id.to_owned(),
                aggregate_type: A::TYPE.to_owned(),
                version: after,
                state: value,
                timestamp: Utc::now(),
            },
            Err(error) => return tracing::warn!(aggregate_id, %error, "cannot serialise snapshot"),
        };
        // A snapshot is an optimisation: failing to take one never fails the command.
        if let Err(error) = snapshots.save(snapshot).await {
            tracing::warn!(aggregate_id, %error, "snapshot not saved");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SnapshotPolicy;

    #[test]
    fn snapshot_policy_fires_when_crossing_a_multiple() {
        let p = SnapshotPolicy { every: 10 };
        assert!(!p.due(0, 9));
        assert!(p.due(9, 10));
        assert!(p.due(8, 12));
        assert!(!p.due(10, 19));
        assert!(!SnapshotPolicy::default().due(0, 1000));
    }
}
