//! Runs the conformance suites against the reference stores in `reference/`, in the ways
//! adapters use them: a plain store, a store behind a guard, a `dyn` store named with
//! `type = …`, a store seen through its core port alone, and the case functions called directly.

mod reference;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use hive_domain::{CheckpointStore, EventStore, SnapshotStore};
use hive_testkit::event_search::SearchStore;
use hive_testkit::Held;
use reference::{ReferenceCheckpointStore, ReferenceEventStore, ReferenceSnapshotStore};

mod plain {
    use super::*;

    hive_testkit::event_store_conformance!(async { ReferenceEventStore::new() });
    hive_testkit::event_lookup_conformance!(async { ReferenceEventStore::new() });
    hive_testkit::event_search_conformance!(async { ReferenceEventStore::new() });
    hive_testkit::snapshot_store_conformance!(async { ReferenceSnapshotStore::new() });
    hive_testkit::checkpoint_store_conformance!(async { ReferenceCheckpointStore::new() });
}

/// Counts live guards, to check `Held` keeps its guard for the whole test.
static LIVE_GUARDS: AtomicUsize = AtomicUsize::new(0);

/// Stands for a temporary directory the store lives in.
struct Guard;

impl Guard {
    fn new() -> Self {
        LIVE_GUARDS.fetch_add(1, Ordering::SeqCst);
        Self
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        LIVE_GUARDS.fetch_sub(1, Ordering::SeqCst);
    }
}

mod guarded {
    use super::*;

    hive_testkit::snapshot_store_conformance!(async { Held::with_guard(ReferenceSnapshotStore::new(), Guard::new()) });
    hive_testkit::checkpoint_store_conformance!(async {
        Held::with_guard(ReferenceCheckpointStore::new(), Guard::new())
    });
}

mod shared_dyn {
    use super::*;

    /// One store shared by every test of this module, as a shared database would be.
    fn shared() -> Arc<dyn EventStore> {
        static STORE: std::sync::OnceLock<Arc<dyn EventStore>> = std::sync::OnceLock::new();
        Arc::clone(STORE.get_or_init(|| Arc::new(ReferenceEventStore::new())))
    }

    hive_testkit::event_store_conformance!(type = dyn EventStore, async { Held::from_arc(shared()) });

    /// The search suite on a `dyn` store with the capability.
    fn shared_search() -> Arc<dyn SearchStore> {
        static STORE: std::sync::OnceLock<Arc<dyn SearchStore>> = std::sync::OnceLock::new();
        Arc::clone(STORE.get_or_init(|| Arc::new(ReferenceEventStore::new())))
    }

    hive_testkit::event_search_conformance!(type = dyn SearchStore, async { Held::from_arc(shared_search()) });
}

/// The core suite on a store seen through its core port alone.
mod core_only {
    use super::*;
    use hive_testkit::CoreOnly;

    hive_testkit::event_store_conformance!(async { CoreOnly::new(ReferenceEventStore::new()) });
}

#[tokio::test]
async fn held_keeps_the_guard_alive_until_dropped() {
    let before = LIVE_GUARDS.load(Ordering::SeqCst);
    let held = Held::with_guard(ReferenceSnapshotStore::new(), Guard::new());
    assert!(LIVE_GUARDS.load(Ordering::SeqCst) > before);
    let store = held.store();
    hive_testkit::snapshot_store::round_trips(Arc::clone(&store)).await;
    assert!(held.guard().and_then(|g| g.downcast_ref::<Guard>()).is_some());
    assert_eq!(Arc::strong_count(&store), 2, "the Held and this handle");
    drop(held);
    assert_eq!(Arc::strong_count(&store), 1);
}

#[tokio::test]
async fn case_functions_run_without_the_macro() {
    let events: Arc<dyn EventStore> = Arc::new(ReferenceEventStore::new());
    hive_testkit::event_store::conflict_is_typed(events).await;
    hive_testkit::event_search::search_by_criteria(Arc::new(ReferenceEventStore::new())).await;
    let snapshots: Arc<dyn SnapshotStore> = Arc::new(ReferenceSnapshotStore::new());
    hive_testkit::snapshot_store::older_does_not_replace_newer(snapshots).await;
    let checkpoints: Arc<dyn CheckpointStore> = Arc::new(ReferenceCheckpointStore::new());
    hive_testkit::checkpoint_store::dead_letters_per_projection(checkpoints).await;
}
