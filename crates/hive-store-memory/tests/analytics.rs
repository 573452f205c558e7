//! `EventAnalytics` of the memory event store, checked by the hive-testkit suite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use hive_store_memory::MemoryEventStore;

mod memory {
    use super::*;
    hive_testkit::event_analytics_conformance!(async { MemoryEventStore::new() });
}
