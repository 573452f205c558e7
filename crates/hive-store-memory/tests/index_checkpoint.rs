//! Index checkpoints: reopening from one answers as a full replay of the log does; the log
//! after it is replayed; a missing, damaged or stale one is not used (a warning says why) and
//! the whole log is replayed; a directory without one (the previous version's) gets one.

// Helpers outside `#[test]` functions panic on failure too, like the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::assert_answers_as_a_full_replay;
use hive_domain::{EventStore, EventStoreError};
use hive_store_memory::{DurableOptions, FsyncPolicy, MemoryEventStore, EVENT_LOG_FILE, INDEX_CHECKPOINT_FILE};
use hive_testkit::synthetic::payment_like;
use hive_testkit::CapturedLog;

/// What this test binary logs (its tests run in parallel: filter by directory).
fn log() -> &'static CapturedLog {
    static LOG: OnceLock<CapturedLog> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = CapturedLog::default();
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .init();
        log
    })
}

/// The lines logged about `dir` that contain `what`.
fn logged(dir: &Path, what: &str) -> Vec<String> {
    let dir = dir.display().to_string();
    log()
        .text()
        .lines()
        .filter(|line| line.contains(&dir) && line.contains(what))
        .map(str::to_owned)
        .collect()
}

/// How the store in `dir` was last opened: events from the checkpoint, records replayed.
fn last_open(dir: &Path) -> (u64, u64) {
    let lines = logged(dir, "event store opened");
    let line = lines.last().expect("an open logged");
    let field = |name: &str| -> u64 {
        let at = line.find(&format!("{name}=")).expect(name) + name.len() + 1;
        line[at..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (field("from_checkpoint"), field("records_replayed"))
}

async fn open(dir: &Path, options: DurableOptions) -> MemoryEventStore {
    log();
    MemoryEventStore::open(dir, options).await.unwrap()
}

/// Appends payments `from..to` (`hive_testkit::synthetic`): the even ones as one batch of
/// three events, the odd ones one event per append.
async fn append_payments(store: &MemoryEventStore, from: usize, to: usize) {
    for n in from..to {
        let (stream, events) = payment_like(n);
        if n % 2 == 0 {
            store.append(&stream, 0, events).await.unwrap();
        } else {
            for (expected, event) in (0u64..).zip(events) {
                store.append(&stream, expected, vec![event]).await.unwrap();
            }
        }
    }
}

/// A store in `dir` holding `payments` payments, closed (which writes a checkpoint unless
/// `options` say none).
async fn seeded(dir: &Path, options: DurableOptions, payments: usize) {
    let store = open(dir, options).await;
    append_payments(&store, 0, payments).await;
    store.close().await.unwrap();
}

/// Waits until `dir` holds a checkpoint.
async fn checkpoint_written(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !dir.join(INDEX_CHECKPOINT_FILE).exists() {
        assert!(Instant::now() < deadline, "no checkpoint written");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn reopening_from_a_checkpoint_answers_as_a_full_replay() {
    let dir = tempfile::tempdir().unwrap();
    seeded(dir.path(), DurableOptions::default(), 200).await;
    let store = open(dir.path(), DurableOptions::default()).await;
    assert_eq!(last_open(dir.path()), (600, 0), "all from the checkpoint");
    assert_answers_as_a_full_replay(&store, dir.path()).await;
    // Dropping the last handle, like closing, writes a checkpoint of what came since.
    append_payments(&store, 200, 210).await;
    drop(store);
    drop(open(dir.path(), DurableOptions::default()).await);
    assert_eq!(last_open(dir.path()), (630, 0));
}

#[tokio::test]
async fn the_log_after_the_checkpoint_is_replayed() {
    let dir = tempfile::tempdir().unwrap();
    seeded(dir.path(), DurableOptions::default(), 200).await;
    let checkpoint = std::fs::read(dir.path().join(INDEX_CHECKPOINT_FILE)).unwrap();
    let none = DurableOptions::default().with_index_checkpoint_every(0);
    let store = open(dir.path(), none).await;
    append_payments(&store, 200, 230).await;
    // Streams of the checkpoint go on in the tail.
    let stream = store.read_all(0, 1).await.unwrap().remove(0).aggregate_id;
    store.append(&stream, 3, vec![common::ev(&stream, 4)]).await.unwrap();
    store.close().await.unwrap();
    let unchanged = std::fs::read(dir.path().join(INDEX_CHECKPOINT_FILE)).unwrap();
    assert!(unchanged == checkpoint, "no checkpoint written when none are wanted");
    let store = open(dir.path(), DurableOptions::default()).await;
    assert_eq!(
        last_open(dir.path()),
        (600, 15 + 15 * 3 + 1),
        "records: one per even payment, three per odd one, and one"
    );
    assert_eq!(store.stream_version(&stream).await.unwrap(), 4);
    assert_answers_as_a_full_replay(&store, dir.path()).await;
}

/// Damages `dir` somehow; the reason the checkpoint is then not used.
type Damage = fn(&Path) -> &'static str;

fn rewrite(path: &Path, change: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(path).unwrap();
    change(&mut bytes);
    std::fs::write(path, bytes).unwrap();
}

/// Ways a checkpoint goes bad or stale, and the reason each is refused with.
const DAMAGES: [Damage; 7] = [
    |dir| {
        rewrite(&dir.join(INDEX_CHECKPOINT_FILE), |b| {
            let middle = b.len() / 2;
            b[middle] ^= 0x10;
        });
        "checksum mismatch"
    },
    |dir| {
        rewrite(&dir.join(INDEX_CHECKPOINT_FILE), |b| b.truncate(b.len() / 2));
        "torn"
    },
    |dir| {
        rewrite(&dir.join(INDEX_CHECKPOINT_FILE), |b| b[8] = 9);
        "format version 9"
    },
    |dir| {
        rewrite(&dir.join(INDEX_CHECKPOINT_FILE), |b| b[..4].copy_from_slice(b"JUNK"));
        "bad magic"
    },
    |dir| {
        // Cut back to its first record, as a restored backup would be.
        rewrite(&dir.join(EVENT_LOG_FILE), |b| {
            let first = 12 + u32::from_le_bytes(b[4..8].try_into().unwrap()) as usize;
            b.truncate(first);
        });
        "cut back or replaced"
    },
    |dir| {
        // Another history, longer than the covered one.
        let other = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(seeded(other.path(), DurableOptions::default(), 150));
        std::fs::copy(other.path().join(EVENT_LOG_FILE), dir.join(EVENT_LOG_FILE)).unwrap();
        "is not the one it covers"
    },
    |dir| {
        std::fs::write(dir.join("events.key"), [7u8; 16]).unwrap();
        "another stream key"
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_or_stale_checkpoint_falls_back_to_a_full_replay_and_is_replaced() {
    for damage in DAMAGES {
        let dir = tempfile::tempdir().unwrap();
        seeded(dir.path(), DurableOptions::default(), 100).await;
        let reason = tokio::task::block_in_place(|| damage(dir.path()));
        let store = open(dir.path(), DurableOptions::default()).await;
        let warned = logged(dir.path(), "index checkpoint not used");
        assert!(
            warned.iter().any(|line| line.contains(reason) && line.contains("WARN")),
            "{reason}: {warned:?}"
        );
        assert_eq!(last_open(dir.path()).0, 0, "{reason}: replayed whole");
        assert_answers_as_a_full_replay(&store, dir.path()).await;
        let head = store.head_position().await.unwrap();
        store.close().await.unwrap();
        drop(open(dir.path(), DurableOptions::default()).await);
        assert_eq!(last_open(dir.path()), (head, 0), "{reason}: a new checkpoint on close");
    }
}

#[tokio::test]
async fn damage_in_the_records_a_checkpoint_covers_is_found_in_the_background_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    seeded(dir.path(), DurableOptions::default(), 50).await;
    let log_path = dir.path().join(EVENT_LOG_FILE);
    let second = 12 + u32::from_le_bytes(std::fs::read(&log_path).unwrap()[4..8].try_into().unwrap()) as usize;
    rewrite(&log_path, |b| b[second + 40] ^= 0x20);
    // Opening from the checkpoint does not read the covered records: the store opens, and its
    // background check finds the damage.
    let store = open(dir.path(), DurableOptions::default()).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let found = loop {
        match store.health().await {
            Err(found) => break found,
            Ok(()) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(10)).await,
            Ok(()) => panic!("the damage was not found"),
        }
    };
    match &found {
        EventStoreError::Corrupt { record, .. } => assert_eq!(record, &format!("events.log@{second}")),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let (stream, events) = payment_like(1);
    let refused = store.append(&stream, 0, events).await;
    assert_eq!(
        refused.unwrap_err(),
        found,
        "appends are refused once the damage is known"
    );
    assert!(
        !dir.path().join(INDEX_CHECKPOINT_FILE).exists(),
        "the checkpoint is removed"
    );
    drop(store);
    // The next open replays the whole log, which refuses the damaged record.
    match MemoryEventStore::open(dir.path(), DurableOptions::default()).await {
        Err(EventStoreError::Corrupt { record, .. }) => assert_eq!(record, format!("events.log@{second}")),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn a_directory_of_the_previous_version_gets_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    // Written without checkpoints, as the previous version did.
    seeded(
        dir.path(),
        DurableOptions::default().with_index_checkpoint_every(0),
        100,
    )
    .await;
    assert!(!dir.path().join(INDEX_CHECKPOINT_FILE).exists());
    let store = open(dir.path(), DurableOptions::default()).await;
    assert_eq!(logged(dir.path(), "no index checkpoint").len(), 1);
    assert_eq!(last_open(dir.path()).0, 0);
    store.close().await.unwrap();
    let store = open(dir.path(), DurableOptions::default()).await;
    assert_eq!(last_open(dir.path()), (300, 0));
    assert_answers_as_a_full_replay(&store, dir.path()).await;

    // A log longer than the checkpoint interval gets one right after open.
    let old = tempfile::tempdir().unwrap();
    seeded(
        old.path(),
        DurableOptions::default().with_index_checkpoint_every(0),
        100,
    )
    .await;
    let store = open(old.path(), DurableOptions::default().with_index_checkpoint_every(100)).await;
    checkpoint_written(old.path()).await;
    let copy = tempfile::tempdir().unwrap();
    for file in [INDEX_CHECKPOINT_FILE, EVENT_LOG_FILE, "events.key"] {
        std::fs::copy(old.path().join(file), copy.path().join(file)).unwrap();
    }
    drop(open(copy.path(), DurableOptions::default()).await);
    assert_eq!(last_open(copy.path()), (300, 0));
    drop(store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_checkpoints_cover_what_was_synced_and_the_rest_is_replayed() {
    for fsync in [FsyncPolicy::Always, FsyncPolicy::EveryMillis(5), FsyncPolicy::Never] {
        let dir = tempfile::tempdir().unwrap();
        let options = DurableOptions::default()
            .with_fsync(fsync)
            .with_index_checkpoint_every(50);
        let store = open(dir.path(), options).await;
        append_payments(&store, 0, 60).await;
        checkpoint_written(dir.path()).await;
        // What a crash would leave: a checkpoint, then a log that went on after it.
        let copy = tempfile::tempdir().unwrap();
        std::fs::copy(
            dir.path().join(INDEX_CHECKPOINT_FILE),
            copy.path().join(INDEX_CHECKPOINT_FILE),
        )
        .unwrap();
        append_payments(&store, 60, 70).await;
        for file in [EVENT_LOG_FILE, "events.key"] {
            std::fs::copy(dir.path().join(file), copy.path().join(file)).unwrap();
        }
        let reopened = open(copy.path(), DurableOptions::default().with_index_checkpoint_every(0)).await;
        let (covered, replayed) = last_open(copy.path());
        assert!((50..=180).contains(&covered), "{fsync:?}: {covered} events covered");
        assert!(replayed > 0, "{fsync:?}: the appends after the checkpoint are replayed");
        assert_eq!(reopened.head_position().await.unwrap(), 210, "{fsync:?}");
        assert_answers_as_a_full_replay(&reopened, copy.path()).await;
        store.close().await.unwrap();
    }
}
