//! Options of the durable mode.

use std::time::Duration;

/// When the durable stores force written data to stable storage (`fdatasync`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Sync every group commit before acknowledging any append of the group (the default).
    /// An acknowledged append survives a process crash and a power loss.
    #[default]
    Always,
    /// Sync at most every `n` milliseconds (and on close). An acknowledged append survives a
    /// process crash (the data is in the OS page cache), but a power loss may lose the
    /// appends of the last `n` milliseconds.
    EveryMillis(u64),
    /// Never sync explicitly (except on close, and before an index checkpoint): leave it to
    /// the OS. Survives a process crash, not a power loss.
    Never,
}

impl FsyncPolicy {
    /// True when every write must be synced before it is acknowledged.
    pub(crate) fn sync_each_write(self) -> bool {
        matches!(self, Self::Always)
    }

    /// The period of the background sync, for [`FsyncPolicy::EveryMillis`].
    pub(crate) fn period(self) -> Option<Duration> {
        match self {
            Self::EveryMillis(ms) => Some(Duration::from_millis(ms.max(1))),
            Self::Always | Self::Never => None,
        }
    }
}

/// How a durable store behaves.
///
/// ```
/// use hive_store_memory::{DurableOptions, FsyncPolicy};
///
/// let options = DurableOptions::default()
///     .with_fsync(FsyncPolicy::EveryMillis(5))
///     .with_index_checkpoint_every(50_000);
/// assert_eq!(options.fsync, FsyncPolicy::EveryMillis(5));
/// assert_eq!(options.index_checkpoint_every, 50_000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DurableOptions {
    /// When written records are synced to stable storage.
    pub fsync: FsyncPolicy,
    /// How many append requests may wait for the writer before `append` waits for room.
    pub queue_capacity: usize,
    /// The most append requests the writer commits as one group (one write, one sync).
    pub max_group_requests: usize,
    /// The bound of the cache of event bodies read from (or just appended to) the log, in bytes
    /// of their JSON in the log; 0 turns the cache off. Parsed, a cached body takes about 2.7
    /// times its JSON length in memory (measured; see the crate README).
    pub body_cache_bytes: u64,
    /// How many new events make the event store write an index checkpoint (in the background;
    /// also on close when events came since the last one); 0 writes none. Opening replays
    /// only the log after the checkpoint.
    pub index_checkpoint_every: u64,
}

impl DurableOptions {
    /// The default bound of the body cache: 64 MiB of JSON.
    pub const DEFAULT_BODY_CACHE_BYTES: u64 = 64 << 20;
    /// The default number of new events between index checkpoints.
    pub const DEFAULT_INDEX_CHECKPOINT_EVERY: u64 = 100_000;
}

impl Default for DurableOptions {
    fn default() -> Self {
        Self {
            fsync: FsyncPolicy::Always,
            queue_capacity: 4_096,
            max_group_requests: 1_024,
            body_cache_bytes: Self::DEFAULT_BODY_CACHE_BYTES,
            index_checkpoint_every: Self::DEFAULT_INDEX_CHECKPOINT_EVERY,
        }
    }
}

impl DurableOptions {
    /// Sets the fsync policy.
    #[must_use]
    pub fn with_fsync(mut self, fsync: FsyncPolicy) -> Self {
        self.fsync = fsync;
        self
    }

    /// Sets how many append requests may queue for the writer (at least 1).
    #[must_use]
    pub fn with_queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// Sets the most append requests committed as one group (at least 1).
    #[must_use]
    pub fn with_max_group_requests(mut self, max: usize) -> Self {
        self.max_group_requests = max.max(1);
        self
    }

    /// Sets the bound of the body cache, in bytes of JSON (0: no cache).
    #[must_use]
    pub fn with_body_cache_bytes(mut self, bytes: u64) -> Self {
        self.body_cache_bytes = bytes;
        self
    }

    /// Sets how many new events make an index checkpoint (0: none).
    #[must_use]
    pub fn with_index_checkpoint_every(mut self, events: u64) -> Self {
        self.index_checkpoint_every = events;
        self
    }
}
