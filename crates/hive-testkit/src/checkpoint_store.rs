//! The [`CheckpointStore`] conformance cases.
//!
//! Each function takes a fresh handle on the store under test and panics with a message saying
//! what the store did wrong. [`checkpoint_store_conformance!`](crate::checkpoint_store_conformance)
//! generates one test per function. Every case uses projection names of its own, so the cases
//! can run in parallel against one shared backend.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
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

/// A dead letter of `projection` at `position`, recorded `after_ms` milliseconds after `base`.
fn dead_letter(projection: &str, position: u64, base: DateTime<Utc>, after_ms: i64) -> DeadLetter {
    DeadLetter {
        projection: projection.to_owned(),
        position,
        event_id: Uuid::now_v7(),
        event_type: "Probed".to_owned(),
        error: format!("cannot apply event at {position}: missing read model"),
        recorded_at: base + Duration::milliseconds(after_ms),
    }
}

/// Records `letters`, checked.
async fn record<S: CheckpointStore + ?Sized>(store: &S, letters: &[DeadLetter]) {
    for dead in letters {
        let what = format!("record_dead_letter(`{}` at {})", dead.projection, dead.position);
        ok(store.record_dead_letter(dead.clone()).await, what);
    }
}

/// The dead letters of `projection`, checked.
async fn dead_letters<S: CheckpointStore + ?Sized>(store: &S, projection: &str) -> Vec<DeadLetter> {
    ok(
        store.dead_letters(projection).await,
        format_args!("dead_letters(`{projection}`)"),
    )
}

/// Removes dead letters, checked; answers the count the store reported.
async fn remove<S: CheckpointStore + ?Sized>(store: &S, projection: &str, positions: &[u64]) -> u64 {
    ok(
        store.remove_dead_letters(projection, positions).await,
        format_args!("remove_dead_letters(`{projection}`, {positions:?})"),
    )
}

/// Dead letters are recorded and listed per projection, oldest first, unchanged.
pub async fn dead_letters_per_projection<S: CheckpointStore + ?Sized + 'static>(store: Arc<S>) {
    let (a, b) = (unique("projection-dead-a"), unique("projection-dead-b"));
    let base = now_ms();
    let letter = |projection: &str, position: u64| {
        dead_letter(projection, position, base, i64::try_from(position).unwrap_or_default())
    };
    let letters = [letter(&a, 3), letter(&b, 4), letter(&a, 8), letter(&a, 11)];
    record(&*store, &letters).await;
    let of_a = dead_letters(&*store, &a).await;
    let want_a = [letters[0].clone(), letters[2].clone(), letters[3].clone()];
    assert_eq!(of_a, want_a, "dead letters of a projection, oldest first");
    let of_b = dead_letters(&*store, &b).await;
    assert_eq!(of_b, [letters[1].clone()], "dead letters of another projection");
    let none = dead_letters(&*store, &unique("projection-dead-none")).await;
    assert!(
        none.is_empty(),
        "a projection without failures has dead letters: {none:?}"
    );
}

/// `remove_dead_letters` with positions removes the projection's dead letters at those
/// positions (every one at a position, an event dead-lettered twice included), answers how many
/// it removed, ignores positions that hold none (the greatest `u64` too), and leaves the
/// projection's other dead letters and every other projection's alone.
pub async fn removes_dead_letters_by_position<S: CheckpointStore + ?Sized + 'static>(store: Arc<S>) {
    let (a, b) = (unique("projection-remove-a"), unique("projection-remove-b"));
    let base = now_ms();
    let letters = [
        dead_letter(&a, 3, base, 0),
        dead_letter(&a, 8, base, 1),
        dead_letter(&b, 8, base, 2),
        dead_letter(&a, 8, base, 3),
        dead_letter(&a, 11, base, 4),
        dead_letter(&b, 11, base, 5),
        dead_letter(&a, 15, base, 6),
    ];
    record(&*store, &letters).await;
    assert_eq!(
        remove(&*store, &a, &[8, 15, 99]).await,
        3,
        "removing `a`'s dead letters at 8 (two) and 15 (one), and none at 99, must answer 3"
    );
    assert_eq!(
        dead_letters(&*store, &a).await,
        [letters[0].clone(), letters[4].clone()],
        "the dead letters at the other positions must stay, oldest first"
    );
    let of_b = [letters[2].clone(), letters[5].clone()];
    assert_eq!(
        dead_letters(&*store, &b).await,
        of_b,
        "removing one projection's dead letters touched another's at the same positions"
    );
    assert_eq!(
        remove(&*store, &a, &[8, 15]).await,
        0,
        "removing dead letters that are already gone must answer 0"
    );
    assert_eq!(
        remove(&*store, &unique("projection-remove-none"), &[3, 11]).await,
        0,
        "removing the dead letters of a projection that has none must answer 0"
    );
    assert_eq!(
        remove(&*store, &a, &[u64::MAX]).await,
        0,
        "removing at a position past every stored one must answer 0 (and remove nothing)"
    );
    assert_eq!(
        remove(&*store, &a, &[3, 3]).await,
        1,
        "a position named twice must remove its dead letter once"
    );
    assert_eq!(
        dead_letters(&*store, &a).await,
        [letters[4].clone()],
        "only the dead letter at 11 must be left"
    );
    assert_eq!(
        dead_letters(&*store, &b).await,
        of_b,
        "another projection's dead letters must stay"
    );
}

/// `remove_dead_letters` with no positions removes every dead letter of the projection, answers
/// how many, and leaves every other projection's alone; dead letters recorded afterwards are
/// listed again.
pub async fn removes_all_dead_letters_of_a_projection<S: CheckpointStore + ?Sized + 'static>(store: Arc<S>) {
    let (a, b) = (unique("projection-clear-a"), unique("projection-clear-b"));
    let base = now_ms();
    let letters = [
        dead_letter(&a, 2, base, 0),
        dead_letter(&b, 5, base, 1),
        dead_letter(&a, 5, base, 2),
        dead_letter(&a, 9, base, 3),
    ];
    record(&*store, &letters).await;
    assert_eq!(
        remove(&*store, &a, &[]).await,
        3,
        "removing all of `a`'s dead letters must answer 3"
    );
    let left = dead_letters(&*store, &a).await;
    assert!(
        left.is_empty(),
        "no positions must remove every dead letter, left {left:?}"
    );
    assert_eq!(
        dead_letters(&*store, &b).await,
        [letters[1].clone()],
        "removing all of one projection's dead letters touched another's"
    );
    assert_eq!(
        remove(&*store, &a, &[]).await,
        0,
        "removing all dead letters of a projection that has none must answer 0"
    );
    let again = dead_letter(&a, 12, base, 4);
    record(&*store, std::slice::from_ref(&again)).await;
    assert_eq!(
        dead_letters(&*store, &a).await,
        [again],
        "a dead letter recorded after the removal must be listed"
    );
}
