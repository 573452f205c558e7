//! # hive-domain
//!
//! The innermost crate of Hive: the vocabulary every other crate speaks.
//!
//! * [`EventEnvelope`] — a stored event with its identity, position, correlation and metadata.
//! * [`Aggregate`] and [`DomainEvent`] — pure decide (`handle`) / evolve (`apply`) logic.
//! * [`EventStore`], [`SnapshotStore`], [`CheckpointStore`] — the persistence ports adapters implement.
//! * [`EventLookup`], [`EventSearch`], [`EventAnalytics`] — optional capabilities of an event
//!   store, gathered with its core in [`StoreCapabilities`].
//! * [`UpcasterChain`] — typed upgrades of stored older event versions into the current shape.
//!
//! This crate does no I/O and depends on no runtime or driver.
//!
//! ```
//! use hive_domain::{EventEnvelope, Metadata};
//! use serde_json::json;
//!
//! let envelope = EventEnvelope::new("payment-1", "Payment", "PaymentCreated", json!({"amount": "10.00"}), 1)
//!     .with_correlation_id("req-42")
//!     .with_metadata(Metadata::default().with_organization("org-1").with_user("user-7"));
//! assert_eq!(envelope.version, 1);
//! assert_eq!(envelope.correlation_id, "req-42");
//! assert_eq!(envelope.metadata.organization_id.as_deref(), Some("org-1"));
//! ```

mod aggregate;
mod analytics;
mod capabilities;
mod checkpoint;
mod envelope;
mod error;
mod event;
mod query;
mod snapshot;
mod store;
mod upcast;

pub use aggregate::Aggregate;
pub use analytics::{
    day_key, hour_key, AnalyticsFilter, EventAnalytics, EventAnalyticsReport, EventStatistics, Heatmap, HeatmapCell,
    Interval, TrendBucket,
};
pub use capabilities::{Capability, StoreCapabilities};
pub use checkpoint::{Checkpoint, CheckpointStore, DeadLetter};
pub use envelope::{EventEnvelope, Metadata};
pub use error::{CodecError, EventStoreError};
pub use event::{decode_event, decode_event_ref, encode_event, DomainEvent};
pub use query::{
    event_order, inclusive_end, searchable_text, words, EventCriteria, EventPage, Page, SortOrder, TimeRange,
};
pub use snapshot::{Snapshot, SnapshotStore};
pub use store::{
    resolve_stale_append, validate_append, EventLookup, EventSearch, EventStore, EventStream, SharedEventStream,
};
pub use upcast::{UpcastError, UpcasterChain};

/// Compiles the examples of `README.md` as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// A `Result` whose error is an [`EventStoreError`].
pub type StoreResult<T> = Result<T, EventStoreError>;
