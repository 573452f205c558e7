//! The worked examples of `docs/adapters.md`: the `hive-store-tiny` adapter in
//! `worked_example/tiny_store.rs` and the `hive-cache-tiny` level in `worked_example/tiny_cache.rs`
//! run every conformance suite of their ports, and the guide quotes them exactly
//! (`adapters_guide.rs` checks it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

// In its own crate the adapter is `src/lib.rs`, and its `pub` items are the crate's API.
#[allow(unreachable_pub)]
#[path = "worked_example/tiny_store.rs"]
mod tiny_store;

#[allow(unreachable_pub)]
#[path = "worked_example/tiny_cache.rs"]
mod tiny_cache;

/// `hive-cache-tiny`'s `tests/conformance.rs`.
mod cache {
    use super::tiny_cache::TinyCache;

    hive_testkit::cache_conformance!(async { TinyCache::new() });
}

// --- quoted in docs/adapters.md as tests/conformance.rs ---
use tiny_store::{TinyCheckpointStore, TinyEventStore, TinySnapshotStore};

hive_testkit::event_store_conformance!(async { TinyEventStore::new() });
hive_testkit::event_lookup_conformance!(async { TinyEventStore::new() });
hive_testkit::event_search_conformance!(async { TinyEventStore::new() });
hive_testkit::event_analytics_conformance!(async { TinyEventStore::new() });
hive_testkit::snapshot_store_conformance!(async { TinySnapshotStore::new() });
hive_testkit::checkpoint_store_conformance!(async { TinyCheckpointStore::new() });
