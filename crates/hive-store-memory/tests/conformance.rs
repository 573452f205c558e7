//! The `hive-testkit` conformance suites, run in memory mode and in durable mode: the event
//! store's core and each of its optional capabilities (look-up, search, analytics), the
//! snapshot and checkpoint stores.

// Helpers outside `#[test]` functions panic on failure too, like the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod memory {
    use hive_store_memory::{MemoryCheckpointStore, MemoryEventStore, MemorySnapshotStore};

    mod events {
        use super::*;
        hive_testkit::event_store_conformance!(async { MemoryEventStore::new() });
        hive_testkit::event_lookup_conformance!(async { MemoryEventStore::new() });
        hive_testkit::event_search_conformance!(async { MemoryEventStore::new() });
        hive_testkit::event_analytics_conformance!(async { MemoryEventStore::new() });
    }

    /// The core suite on the store seen through its core port alone.
    mod core_only {
        use super::*;
        hive_testkit::event_store_conformance!(async { hive_testkit::CoreOnly::new(MemoryEventStore::new()) });
    }

    mod snapshots {
        use super::*;
        hive_testkit::snapshot_store_conformance!(async { MemorySnapshotStore::new() });
    }

    mod checkpoints {
        use super::*;
        hive_testkit::checkpoint_store_conformance!(async { MemoryCheckpointStore::new() });
    }
}

mod durable {
    use hive_store_memory::{DurableOptions, MemoryCheckpointStore, MemoryEventStore, MemorySnapshotStore};
    use hive_testkit::Held;

    mod events {
        use super::*;

        /// A durable store in a temporary directory, deleted after the test.
        async fn durable() -> Held<MemoryEventStore> {
            let dir = tempfile::tempdir().unwrap();
            let store = MemoryEventStore::open(dir.path(), DurableOptions::default())
                .await
                .unwrap();
            Held::with_guard(store, dir)
        }

        hive_testkit::event_store_conformance!(durable());
        hive_testkit::event_lookup_conformance!(durable());
        hive_testkit::event_search_conformance!(durable());
        hive_testkit::event_analytics_conformance!(durable());
    }

    mod snapshots {
        use super::*;
        hive_testkit::snapshot_store_conformance!(async {
            let dir = tempfile::tempdir().unwrap();
            let store = MemorySnapshotStore::open(dir.path(), DurableOptions::default())
                .await
                .unwrap();
            Held::with_guard(store, dir)
        });
    }

    mod checkpoints {
        use super::*;
        hive_testkit::checkpoint_store_conformance!(async {
            let dir = tempfile::tempdir().unwrap();
            let store = MemoryCheckpointStore::open(dir.path(), DurableOptions::default())
                .await
                .unwrap();
            Held::with_guard(store, dir)
        });
    }
}
