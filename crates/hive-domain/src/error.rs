//! Typed errors of the domain ports.

use thiserror::Error;

/// Everything an [`crate::EventStore`], [`crate::SnapshotStore`] or [`crate::CheckpointStore`]
/// can fail with.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EventStoreError {
    /// Optimistic concurrency: the stream is not at the version the writer expected.
    #[error("concurrency conflict on stream `{aggregate_id}`: expected version {expected}, actual {actual}")]
    Conflict {
        /// The stream written to.
        aggregate_id: String,
        /// The version the writer based its decision on.
        expected: u64,
        /// The version the stream is really at.
        actual: u64,
    },
    /// The batch handed to `append` is malformed (mixed streams, versions not consecutive, …).
    #[error("invalid append batch: {0}")]
    InvalidBatch(String),
    /// Stored data could not be read back (checksum mismatch, bad JSON, unknown type).
    #[error("corrupt record {record}: {reason}")]
    Corrupt {
        /// Which record (offset, id, key) is bad.
        record: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The backend cannot be reached right now; nothing was written.
    #[error("event store unavailable: {0}")]
    Unavailable(String),
    /// Any other backend failure.
    #[error("event store backend error: {0}")]
    Backend(String),
}

impl EventStoreError {
    /// True for [`EventStoreError::Conflict`].
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }
}

/// Turning a payload into a typed event, or back, failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    /// No variant of the event type matches the stored `eventType`.
    #[error("unknown event type `{0}`")]
    UnknownEventType(String),
    /// The payload does not have the shape of the event type.
    #[error("cannot decode `{event_type}`: {reason}")]
    Payload {
        /// The stored event type.
        event_type: String,
        /// The serde message.
        reason: String,
    },
    /// An event must serialise as `{"eventType": …, "eventData": …}` (adjacently tagged enum).
    #[error("event does not serialise as an adjacently tagged enum: {0}")]
    Shape(String),
    /// An upcaster failed.
    #[error(transparent)]
    Upcast(#[from] crate::UpcastError),
}
