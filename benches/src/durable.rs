//! A durable store with concurrent writers, each appending to its own stream.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hive_domain::{EventEnvelope, EventStore};
use hive_store_memory::{DurableOptions, FsyncPolicy, MemoryEventStore};
use tempfile::TempDir;

use crate::{deposits, FixtureError};

/// Once a store holds this many events it is closed and replaced by a fresh one (between
/// two timed rounds), to bound memory and disk use.
const ROTATE_AFTER_EVENTS: usize = 200_000;

/// A durable [`MemoryEventStore`] in a temporary directory and `writers` streams, one per
/// writer task.
///
/// The directory is created under `$HIVE_BENCH_DIR`, else the system temporary directory:
/// on a tmpfs `fsync` is free and [`FsyncPolicy::Always`] measures nothing.
///
/// ```
/// use hive_benches::DurableFixture;
/// use hive_store_memory::FsyncPolicy;
///
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// let mut fixture = DurableFixture::open(FsyncPolicy::Never, 4).await.unwrap();
/// fixture.round(2, 10).await.unwrap(); // 4 writers × 2 appends × 10 events
/// assert_eq!(fixture.store().len(), 80);
/// fixture.close().await.unwrap();
/// # });
/// ```
#[derive(Debug)]
pub struct DurableFixture {
    fsync: FsyncPolicy,
    dir: TempDir,
    store: MemoryEventStore,
    /// The version of each writer's stream.
    versions: Vec<u64>,
}

impl DurableFixture {
    /// Opens a fresh durable store with `fsync` for `writers` writers.
    pub async fn open(fsync: FsyncPolicy, writers: usize) -> Result<Self, FixtureError> {
        let (dir, store) = Self::fresh_store(fsync).await?;
        Ok(Self {
            fsync,
            dir,
            store,
            versions: vec![0; writers],
        })
    }

    async fn fresh_store(fsync: FsyncPolicy) -> Result<(TempDir, MemoryEventStore), FixtureError> {
        let parent = std::env::var_os("HIVE_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
        let dir = tempfile::Builder::new().prefix("hive-bench-").tempdir_in(parent)?;
        let store = MemoryEventStore::open(dir.path(), DurableOptions::default().with_fsync(fsync)).await?;
        Ok((dir, store))
    }

    /// The store under test.
    pub fn store(&self) -> &MemoryEventStore {
        &self.store
    }

    /// One timed round: every writer, as its own tokio task, appends `appends` batches of
    /// `events` events to its stream, one after the other; the writers run concurrently, so
    /// the store commits their batches in groups. Returns the time from the first spawn to the
    /// last acknowledgement. Preparing the envelopes (and replacing a full store) is not timed.
    pub async fn round(&mut self, appends: usize, events: usize) -> Result<Duration, FixtureError> {
        if self.store.len() >= ROTATE_AFTER_EVENTS {
            self.store.close().await?;
            let (dir, store) = Self::fresh_store(self.fsync).await?;
            self.store = store;
            // The old directory is removed here, outside the timed part.
            self.dir = dir;
            self.versions.iter_mut().for_each(|v| *v = 0);
        }
        let mut work = Vec::with_capacity(self.versions.len());
        for (writer, &version) in self.versions.iter().enumerate() {
            let stream = format!("writer-{writer}");
            let batches = (0..appends)
                .map(|i| deposits(&stream, version + (i * events) as u64 + 1, events))
                .collect::<Result<Vec<Vec<EventEnvelope>>, _>>()?;
            work.push((stream, version, batches));
        }

        let start = Instant::now();
        let tasks: Vec<_> = work
            .into_iter()
            .map(|(stream, mut version, batches)| {
                let store = self.store.clone();
                tokio::spawn(async move {
                    for batch in batches {
                        let len = batch.len() as u64;
                        store.append(&stream, version, batch).await?;
                        version += len;
                    }
                    Ok::<u64, FixtureError>(version)
                })
            })
            .collect();
        let mut versions = Vec::with_capacity(tasks.len());
        for task in tasks {
            versions.push(task.await??);
        }
        let elapsed = start.elapsed();
        self.versions = versions;
        Ok(elapsed)
    }

    /// Closes the store (syncing it) and removes its directory.
    pub async fn close(self) -> Result<(), FixtureError> {
        self.store.close().await?;
        drop(self.store);
        self.dir.close()?;
        Ok(())
    }
}
