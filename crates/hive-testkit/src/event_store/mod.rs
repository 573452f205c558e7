//! The [`EventStore`](hive_domain::EventStore) conformance cases: the core port every adapter
//! implements. The optional capabilities have suites of their own:
//! [`event_lookup`](crate::event_lookup), [`event_search`](crate::event_search) and
//! [`event_analytics`](crate::event_analytics).
//!
//! Each function takes a fresh handle on the store under test, runs one case and panics with a
//! message saying what the store did wrong. [`event_store_conformance!`](crate::event_store_conformance)
//! generates one test per function; call them directly when the macro does not fit:
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
//! async fn conflicts_are_typed() {
//!     let store = std::sync::Arc::new(MyEventStore::connect("…").await.unwrap());
//!     hive_testkit::event_store::conflict_is_typed(store).await;
//! }
//! ```
//!
//! Every case writes to streams, aggregate types, event types, correlation and organization ids
//! of its own (random UUIDs), and only checks what it wrote, so the cases can run in parallel
//! against one shared backend. Timestamps are whole milliseconds, which every backend stores
//! exactly.
//!
//! | case | checks |
//! |---|---|
//! | [`conflict_is_typed`] | `Conflict { expected, actual }` for stale and ahead-of-stream versions |
//! | [`batch_append_is_atomic`] | a conflicting or invalid batch writes nothing |
//! | [`versions_are_gap_free_from_one`] | versions 1, 2, 3… across batches |
//! | [`envelopes_round_trip`] | every envelope field reads back unchanged |
//! | [`invalid_batches_are_rejected`] | empty, misnumbered, foreign, duplicated batches are `InvalidBatch` |
//! | [`reappend_is_idempotent`] | re-sending the same event ids is a no-op; other ids conflict |
//! | [`stream_version_and_head_position`] | the two counters follow appends |
//! | [`read_stream_from_version`] | reading a stream from a version |
//! | [`large_stream_is_read_whole`] | 100 000 events stream back in order, none dropped |
//! | [`global_log_is_ordered_and_gap_free`] | `read_all` positions run 1, 2, 3… in append order |
//! | [`concurrent_writers_on_one_stream`] | optimistic concurrency under contention |
//! | [`concurrent_writers_on_many_streams`] | the global log under parallel writers, tailed live |

mod append;
mod batches;
mod concurrency;
mod read;

pub use append::{
    batch_append_is_atomic, conflict_is_typed, stream_version_and_head_position, versions_are_gap_free_from_one,
};
pub use batches::{invalid_batches_are_rejected, reappend_is_idempotent};
pub use concurrency::{concurrent_writers_on_many_streams, concurrent_writers_on_one_stream};
pub use read::{
    envelopes_round_trip, global_log_is_ordered_and_gap_free, large_stream_is_read_whole, read_stream_from_version,
};

/// The aggregate type of the probe events most cases write.
pub(crate) const PROBE: &str = "ConformanceProbe";
