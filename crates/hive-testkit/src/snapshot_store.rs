//! The [`SnapshotStore`] conformance cases.
//!
//! Each function takes a fresh handle on the store under test and panics with a message saying
//! what the store did wrong. [`snapshot_store_conformance!`](crate::snapshot_store_conformance)
//! generates one test per function. Every case uses aggregate ids of its own, so the cases can
//! run in parallel against one shared backend.

use std::sync::Arc;

use hive_domain::{Snapshot, SnapshotStore};
use serde_json::json;

use crate::support::{now_ms, ok, unique};

/// A snapshot of `aggregate_id` at `version`, its state naming the version.
fn snapshot(aggregate_id: &str, version: u64) -> Snapshot {
    Snapshot {
        aggregate_id: aggregate_id.to_owned(),
        aggregate_type: "ConformanceProbe".to_owned(),
        version,
        state: json!({ "version": version, "balance": "12.50", "items": [1, 2, 3], "open": true }),
        timestamp: now_ms(),
    }
}

/// Loads the snapshot of `aggregate_id`, checked.
async fn load<S: SnapshotStore + ?Sized>(store: &S, aggregate_id: &str) -> Option<Snapshot> {
    ok(store.load(aggregate_id).await, format_args!("load(`{aggregate_id}`)"))
}

/// Saves, checked.
async fn save<S: SnapshotStore + ?Sized>(store: &S, snapshot: Snapshot) {
    let what = format!("save(`{}` v{})", snapshot.aggregate_id, snapshot.version);
    ok(store.save(snapshot).await, what);
}

/// Loading the snapshot of an aggregate that never saved one is `None`.
pub async fn unknown_is_none<S: SnapshotStore + ?Sized + 'static>(store: Arc<S>) {
    let id = unique("snapshot-unknown");
    assert_eq!(load(&*store, &id).await, None, "load of an aggregate without snapshot");
}

/// A saved snapshot loads back unchanged (every field), and only for its own aggregate.
pub async fn round_trips<S: SnapshotStore + ?Sized + 'static>(store: Arc<S>) {
    let (a, b) = (unique("snapshot-a"), unique("snapshot-b"));
    let (snap_a, snap_b) = (snapshot(&a, 4), snapshot(&b, 9));
    save(&*store, snap_a.clone()).await;
    save(&*store, snap_b.clone()).await;
    assert_eq!(
        load(&*store, &a).await,
        Some(snap_a),
        "load must return the saved snapshot"
    );
    assert_eq!(
        load(&*store, &b).await,
        Some(snap_b),
        "snapshots of two aggregates got mixed up"
    );
}

/// A snapshot with a higher version replaces the stored one.
pub async fn newer_replaces_older<S: SnapshotStore + ?Sized + 'static>(store: Arc<S>) {
    let id = unique("snapshot-newer");
    save(&*store, snapshot(&id, 3)).await;
    let newer = snapshot(&id, 7);
    save(&*store, newer.clone()).await;
    assert_eq!(
        load(&*store, &id).await,
        Some(newer),
        "a newer snapshot (v7 over v3) must replace the older"
    );
}

/// A snapshot with a lower version than the stored one is ignored (no error, no change).
pub async fn older_does_not_replace_newer<S: SnapshotStore + ?Sized + 'static>(store: Arc<S>) {
    let id = unique("snapshot-older");
    let newer = snapshot(&id, 7);
    save(&*store, newer.clone()).await;
    save(&*store, snapshot(&id, 3)).await;
    assert_eq!(
        load(&*store, &id).await,
        Some(newer),
        "an older snapshot (v3 after v7) must be ignored"
    );
}
