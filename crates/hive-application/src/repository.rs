//! Loading and saving aggregates: snapshot + tail, expected version, snapshot policy, publish.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use hive_domain::{encode_event, Aggregate, EventEnvelope, EventStore, Snapshot, SnapshotStore, UpcasterChain};
use uuid::Uuid;

use crate::cache::{Cache, CachedEntry, Stamp};
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
pub struct AggregateRepository<A: Aggregate> {
    store: Arc<dyn EventStore>,
    now: TimeSource,
    snapshots: Option<(Arc<dyn SnapshotStore>, SnapshotPolicy)>,
    bus: Option<EventBus>,
    upcasters: Arc<UpcasterChain>,
    cache: Option<(Arc<dyn Cache>, Duration)>,
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
            cache: self.cache.clone(),
            _aggregate: PhantomData,
        }
    }
}

impl<A: Aggregate> std::fmt::Debug for AggregateRepository<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AggregateRepository")
            .field("aggregate", &A::TYPE)
            .finish_non_exhaustive()
    }
}

impl<A: Aggregate> AggregateRepository<A>
where
    ApplicationError: From<A::Error>,
{
    /// A repository over an event store, with no snapshots and no event bus.
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self {
            store,
            now: Arc::new(Utc::now),
            snapshots: None,
            bus: None,
            upcasters: Arc::default(),
            cache: None,
            _aggregate: PhantomData,
        }
    }

    /// Keeps recently loaded and saved aggregates in `cache` (an in-process level) for `ttl`,
    /// keyed by id with their version. A load then starts from the cached state and still reads
    /// the events after its version from the store, so it never returns a version older than
    /// the store's; it only skips the snapshot and the replay of what it already had.
    #[must_use]
    pub fn with_cache(mut self, cache: Arc<dyn Cache>, ttl: Duration) -> Self {
        self.cache = Some((cache, ttl));
        self
    }

    /// Stamps new events with the time `now` returns instead of the system clock (tests,
    /// imports of historical data).
    #[must_use]
    pub fn with_time_source(mut self, now: TimeSource) -> Self {
        self.now = now;
        self
    }

    /// Uses snapshots per `policy`.
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

    /// The aggregate's current state: the latest snapshot, then every later event applied.
    pub async fn load(&self, aggregate_id: &str) -> Result<Loaded<A>, ApplicationError> {
        let (cached, stamp) = self.cached(aggregate_id).await;
        let from_cache = cached.as_ref().map(|c| c.version);
        let mut loaded = cached.unwrap_or(Loaded {
            state: A::default(),
            version: 0,
        });
        if let (None, Some((snapshots, _))) = (from_cache, &self.snapshots) {
            if let Some(snapshot) = snapshots.load(aggregate_id).await? {
                match serde_json::from_value::<A>(snapshot.state) {
                    Ok(state) => {
                        loaded = Loaded {
                            state,
                            version: snapshot.version,
                        }
                    }
                    Err(error) => tracing::warn!(aggregate_id, %error, "unreadable snapshot ignored; replaying"),
                }
            }
        }
        // Shared envelopes, decoded in place: no copy of the stored events.
        let mut stream = self.store.read_stream_shared(aggregate_id, loaded.version + 1);
        while let Some(envelope) = stream.try_next().await? {
            let event: A::Event = self.upcasters.decode(&envelope)?;
            loaded.state.apply(&event);
            loaded.version = envelope.version;
        }
        if from_cache != Some(loaded.version) {
            self.remember(aggregate_id, &loaded.state, loaded.version, stamp).await;
        }
        Ok(loaded)
    }

    fn cache_key(aggregate_id: &str) -> String {
        format!("aggregate:{}:{}:{aggregate_id}", A::TYPE.len(), A::TYPE)
    }

    /// The cached state of `aggregate_id` (if any) and a stamp to store a newer one with.
    async fn cached(&self, aggregate_id: &str) -> (Option<Loaded<A>>, Option<Stamp>) {
        let Some((cache, _)) = &self.cache else {
            return (None, None);
        };
        let stamp = cache.stamp(&[]).await.ok();
        let entry = cache.get(&Self::cache_key(aggregate_id)).await.ok().flatten();
        let loaded = entry.and_then(|e| rmp_serde::from_slice::<(u64, A)>(&e.bytes).ok());
        (loaded.map(|(version, state)| Loaded { state, version }), stamp)
    }

    /// Caches `state` at `version` (a failure only costs the next load a replay).
    async fn remember(&self, aggregate_id: &str, state: &A, version: u64, stamp: Option<Stamp>) {
        let (Some((cache, ttl)), Some(stamp)) = (&self.cache, stamp) else {
            return;
        };
        let Ok(bytes) = rmp_serde::to_vec_named(&(version, state)) else {
            return;
        };
        let entry = CachedEntry::new(bytes, Vec::new());
        if let Err(error) = cache.set(&Self::cache_key(aggregate_id), entry, &stamp, *ttl).await {
            tracing::debug!(aggregate_id, %error, "aggregate not cached");
        }
    }

    /// Loads the aggregate, decides on `command`, appends the events at the loaded version,
    /// snapshots per policy and publishes. A concurrent writer makes this fail with
    /// [`ApplicationError::Conflict`] (the retry middleware runs it again).
    pub async fn execute(
        &self,
        aggregate_id: &str,
        command: &A::Command,
        context: &MessageContext,
    ) -> Result<Executed<A>, ApplicationError> {
        let Loaded { mut state, version } = self.load(aggregate_id).await?;
        let stamp = match &self.cache {
            Some((cache, _)) => cache.stamp(&[]).await.ok(),
            None => None,
        };
        let events = state.handle(command)?;
        if events.is_empty() {
            return Ok(Executed {
                state,
                version,
                events: Vec::new(),
            });
        }
        let envelopes = self.envelopes(aggregate_id, version, &events, context)?;
        let stored = self.store.append(aggregate_id, version, envelopes).await?;
        state.apply_all(&events);
        let new_version = version + events.len() as u64;
        self.snapshot_if_due(aggregate_id, version, new_version, &state).await;
        self.remember(aggregate_id, &state, new_version, stamp).await;
        if let Some(bus) = &self.bus {
            bus.publish(&stored).await;
        }
        Ok(Executed {
            state,
            version: new_version,
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
