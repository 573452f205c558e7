//! The worked example of `docs/adapters.md`: the `hive-store-tiny` adapter in
//! `worked_example/tiny_store.rs` runs every conformance suite of its ports, and the guide
//! quotes both files exactly (`adapters_guide.rs` checks it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

// In its own crate the adapter is `src/lib.rs`, and its `pub` items are the crate's API.
#[allow(unreachable_pub)]
#[path = "worked_example/tiny_store.rs"]
mod tiny_store;

// --- quoted in docs/adapters.md as tests/conformance.rs ---
use tiny_store::{TinyCheckpointStore, TinyEventStore, TinySnapshotStore};

hive_testkit::event_store_conformance!(async { TinyEventStore::new() });
hive_testkit::event_analytics_conformance!(async { TinyEventStore::new() });
hive_testkit::snapshot_store_conformance!(async { TinySnapshotStore::new() });
hive_testkit::checkpoint_store_conformance!(async { TinyCheckpointStore::new() });
