//! A store holding one long account stream, and the repositories that load it.

use std::sync::Arc;

use chrono::Utc;
use hive_application::{AggregateRepository, SnapshotPolicy};
use hive_domain::{decode_event, Aggregate, EventStore, Snapshot, SnapshotStore};
use hive_store_memory::{MemoryEventStore, MemorySnapshotStore};

use crate::{deposits, Account, AccountEvent, FixtureError};

/// The id of the stream a [`LoadFixture`] holds.
pub const LOADED_STREAM: &str = "account-1";

/// How many events one set-up append writes.
const SETUP_BATCH: usize = 1_000;

/// One account stream of a given length in an in-memory store, and a snapshot store holding
/// the snapshot a repository snapshotting every `every` events would have taken last.
///
/// ```
/// use hive_benches::{LoadFixture, LOADED_STREAM};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let fixture = LoadFixture::populate(250, 100).await.unwrap();
/// let plain = fixture.repository().load(LOADED_STREAM).await.unwrap();
/// let snapshotted = fixture.repository_with_snapshots().load(LOADED_STREAM).await.unwrap();
/// assert_eq!((plain.version, plain.state.balance), (250, 249));
/// assert_eq!(plain, snapshotted);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct LoadFixture {
    store: MemoryEventStore,
    snapshots: MemorySnapshotStore,
    every: u64,
}

impl LoadFixture {
    /// Appends `events` events to [`LOADED_STREAM`] (in batches of 1 000) and saves the
    /// snapshot of the latest multiple of `every` (none below `every`).
    pub async fn populate(events: u64, every: u64) -> Result<Self, FixtureError> {
        let store = MemoryEventStore::new();
        let snapshots = MemorySnapshotStore::new();
        let snapshot_at = events.checked_div(every).map_or(0, |n| n * every);
        let mut state = Account::default();
        let mut version = 0;
        while version < events {
            let count = usize::try_from(events - version).map_or(SETUP_BATCH, |left| left.min(SETUP_BATCH));
            let batch = deposits(LOADED_STREAM, version + 1, count)?;
            for envelope in &batch {
                if envelope.version <= snapshot_at {
                    let event: AccountEvent = decode_event(&envelope.event_type, envelope.event_data.clone())?;
                    state.apply(&event);
                }
            }
            store.append(LOADED_STREAM, version, batch).await?;
            version += count as u64;
        }
        if snapshot_at > 0 {
            snapshots
                .save(Snapshot {
                    aggregate_id: LOADED_STREAM.to_owned(),
                    aggregate_type: Account::TYPE.to_owned(),
                    version: snapshot_at,
                    state: serde_json::to_value(&state)?,
                    timestamp: Utc::now(),
                })
                .await?;
        }
        Ok(Self {
            store,
            snapshots,
            every,
        })
    }

    /// A repository without snapshots: a load replays the whole stream.
    pub fn repository(&self) -> AggregateRepository<Account> {
        AggregateRepository::new(Arc::new(self.store.clone()))
    }

    /// A repository with snapshots every `every` events: a load reads the snapshot, then
    /// replays the events after it.
    pub fn repository_with_snapshots(&self) -> AggregateRepository<Account> {
        self.repository()
            .with_snapshots(Arc::new(self.snapshots.clone()), SnapshotPolicy { every: self.every })
    }
}
