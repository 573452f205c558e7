//! The [`CheckpointStore`] conformance cases.
//!
//! Each function takes a fresh handle on the store under test and panics with a message saying
//! what the store did wrong. [`checkpoint_store_conformance!`](crate::checkpoint_store_conformance)
//! generates one test per function. Every case uses projection names of its own, so the cases
//! can run in parallel against one shared backend.

use std::sync::Arc;

use chrono::Duration;
use hive_domain::{Checkpoint, CheckpointStore, DeadLetter};
use uuid::Uuid;

use crate::support::{now_ms, ok, unique};

/// A checkpoint of `projection` at `position`, with millisecond timestamps, the timestamp of its
/// last event and a projection version (seed 003's `lastProcessedTimestamp` and `version`).
fn checkpoint(projection: &str, position: u64) -> Checkpoint {
    Checkpoint {
        updated_at: now_ms(),
        ..Checkpoint::new(projection, position, Some(Uuid::now_v7()))
            .with_last_processed_timestamp(Some(now_ms() - Duration::seconds(1)))
            .with_version(3)
    }
}

/// Loads the checkpoint of `projection`, checked.
async fn load<S: CheckpointStore + ?Sized>(store: &S, projection: &str) -> Option<Checkpoint> {
    ok(store.load(projection).await, format_args!("load(`{projection}`)"))
}

/// Saves, checked.
async fn save<S: CheckpointStore + ?Sized>(store: &S, checkpoint: Checkpoint) {
    let what = format!("save(`{}` at {})", checkpoint.projection, checkpoint.position);
    ok(store.save(checkpoint).await, what);
}

/// Loading the checkpoint of a projection that never saved one is `None`.
pub async fn unknown_is_none<S: CheckpointStore + ?Sized + 'static>(store: Arc<S>) {
    let projection = unique("projection-unknown");
    assert_eq!(
        load(&*store, &projection).await,
        None,
        "load of a projection without checkpoint"
    );
}

/// A saved checkpoint loads back unchanged (every field), and only for its own projection.
pub async fn round_trips<S: CheckpointStore + ?Sized + 'static>(store: Arc<S>) {
    let (a, b) = (unique("projection-a"), unique("projection-b"));
    let (at_a, at_b) = (
        checkpoint(&a, 42),
        Checkpoint {
            last_event_id: None,
            last_processed_timestamp: None,
            version: 0,
            ..checkpoint(&b, 0)
        },
    );
    save(&*store, at_a.clone()).await;
    save(&*store, at_b.clone()).await;
    assert_eq!(
        load(&*store, &a).await,
        Some(at_a),
        "load must return the saved checkpoint"
    );
    assert_eq!(
        load(&*store, &b).await,
        Some(at_b),
        "checkpoints of two projections got mixed up"
    );
}

/// Saving replaces the stored checkpoint, forwards and backwards (a projection being rebuilt
/// starts again at 0).
pub async fn save_overwrites<S: CheckpointStore + ?Sized + 'static>(store: Arc<S>) {
    let projection = unique("projection-overwrite");
    for position in [5, 9, 0] {
        let at = checkpoint(&projection, position);
        save(&*store, at.clone()).await;
        assert_eq!(
            load(&*store, &projection).await,
            Some(at),
            "load after saving position {position}"
        );
    }
}

/// `list` returns every saved checkpoint (latest value, once each), ordered by projection name.
pub async fn list_contains_saved<S: CheckpointStore + ?Sized + 'static>(store: Arc<S>) {
    let prefix = unique("projection-list");
    let (b, a) = (format!("{prefix}-b"), format!("{prefix}-a"));
    save(&*store, checkpoint(&b, 1)).await;
    save(&*store, checkpoint(&a, 2)).await;
    let latest_b = checkpoint(&b, 3);
    save(&*store, latest_b.clone()).await;
    let list = ok(store.list().await, "list()");
    let ours: Vec<&Checkpoint> = list.iter().filter(|c| c.projection.starts_with(&prefix)).collect();
    assert_eq!(ours.len(), 2, "list must hold each saved projection once, got {ours:?}");
    assert_eq!(ours[0].projection, a, "list must be ordered by projection name");
    assert_eq!(ours[0].position, 2, "list returned a wrong position for `{a}`");
    assert_eq!(*ours[1], latest_b, "list must return the latest checkpoint of `{b}`");
    let names: Vec<&str> = list.iter().map(|c| c.projection.as_str()).collect();
    assert!(
        names.windows(2).all(|w| w[0] < w[1]),
        "list must be ordered by projection name, without duplicates: {names:?}"
    );
}

/// Dead letters are recorded and listed per projection, oldest first, unchanged.
pub async fn dead_letters_per_projection<S: CheckpointStore + ?Sized + 'static>(store: Arc<S>) {
    let (a, b) = (unique("projection-dead-a"), unique("projection-dead-b"));
    let base = now_ms();
    let letter = |projection: &str, position: u64| DeadLetter {
        projection: projection.to_owned(),
        position,
        event_id: Uuid::now_v7(),
        event_type: "Probed".to_owned(),
        error: format!("cannot apply event at {position}: missing read model"),
        recorded_at: base + Duration::milliseconds(i64::try_from(position).unwrap_or_default()),
    };
    let letters = [letter(&a, 3), letter(&b, 4), letter(&a, 8), letter(&a, 11)];
    for dead in &letters {
        let what = format!("record_dead_letter(`{}` at {})", dead.projection, dead.position);
        ok(store.record_dead_letter(dead.clone()).await, what);
    }
    let of_a = ok(store.dead_letters(&a).await, "dead_letters(a)");
    let want_a = [letters[0].clone(), letters[2].clone(), letters[3].clone()];
    assert_eq!(of_a, want_a, "dead letters of a projection, oldest first");
    let of_b = ok(store.dead_letters(&b).await, "dead_letters(b)");
    assert_eq!(of_b, [letters[1].clone()], "dead letters of another projection");
    let none = ok(
        store.dead_letters(&unique("projection-dead-none")).await,
        "dead_letters(unknown)",
    );
    assert!(
        none.is_empty(),
        "a projection without failures has dead letters: {none:?}"
    );
}
