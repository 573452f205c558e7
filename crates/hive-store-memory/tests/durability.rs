//! Durable mode: reopen, torn tails, corruption, garbage files.

// Helpers outside `#[test]` functions panic on failure too, like the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::Path;

use common::{assert_gap_free, batch, ev, read_everything};
use futures::StreamExt;
use hive_domain::{EventEnvelope, EventLookup, EventSearch, EventStore, EventStoreError};
use hive_store_memory::{DurableOptions, FsyncPolicy, MemoryEventStore, EVENT_LOG_FILE, INDEX_CHECKPOINT_FILE};
use proptest::prelude::*;

async fn open(dir: &Path) -> Result<MemoryEventStore, EventStoreError> {
    MemoryEventStore::open(dir, DurableOptions::default()).await
}

/// Three streams, three appends each (9 records), closed; returns what was stored.
async fn seeded(dir: &Path) -> Vec<EventEnvelope> {
    let store = open(dir).await.unwrap();
    for round in 0..3u64 {
        for stream in ["a", "b", "c"] {
            store
                .append(stream, round * 2, batch(stream, round * 2, 2))
                .await
                .unwrap();
        }
    }
    store.close().await.unwrap();
    read_everything(&store).await
}

fn log_path(dir: &Path) -> std::path::PathBuf {
    dir.join(EVENT_LOG_FILE)
}

/// Byte offsets at which the records of the log start.
fn record_offsets(dir: &Path) -> Vec<usize> {
    let bytes = std::fs::read(log_path(dir)).unwrap();
    let mut offsets = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        offsets.push(at);
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        at += 12 + len;
    }
    offsets
}

#[tokio::test]
async fn a_closed_store_releases_its_directory_while_handles_remain() {
    for fsync in [FsyncPolicy::Always, FsyncPolicy::EveryMillis(2), FsyncPolicy::Never] {
        let dir = tempfile::tempdir().unwrap();
        let options = DurableOptions::default().with_fsync(fsync);
        let store = MemoryEventStore::open(dir.path(), options.clone()).await.unwrap();
        let kept = store.clone();
        store.append("s", 0, vec![ev("s", 1)]).await.unwrap();
        store.close().await.unwrap();
        // `kept` still holds the store, yet the file lock is gone once `close` answered.
        let reopened = MemoryEventStore::open(dir.path(), options).await.unwrap();
        assert_eq!(reopened.stream_version("s").await.unwrap(), 1, "{fsync:?}");
        assert!(kept.append("s", 1, vec![ev("s", 2)]).await.is_err(), "{fsync:?}");
    }
}

#[tokio::test]
async fn everything_comes_back_after_reopen_at_the_same_positions() {
    for fsync in [FsyncPolicy::Always, FsyncPolicy::EveryMillis(2), FsyncPolicy::Never] {
        let dir = tempfile::tempdir().unwrap();
        let options = DurableOptions::default().with_fsync(fsync);
        let store = MemoryEventStore::open(dir.path(), options.clone()).await.unwrap();
        for i in 0..20u64 {
            let stream = format!("s{}", i % 4);
            let version = store.stream_version(&stream).await.unwrap();
            store
                .append(&stream, version, batch(&stream, version, 3))
                .await
                .unwrap();
        }
        let before = read_everything(&store).await;
        store.close().await.unwrap();
        drop(store);
        let store = MemoryEventStore::open(dir.path(), options.clone()).await.unwrap();
        assert_eq!(read_everything(&store).await, before, "{fsync:?}");
        assert_eq!(store.stream_version("s1").await.unwrap(), 15);
        // Without close: dropping the store flushes too.
        store.append("s1", 15, vec![ev("s1", 16)]).await.unwrap();
        drop(store);
        let store = MemoryEventStore::open(dir.path(), options).await.unwrap();
        assert_eq!(store.head_position().await.unwrap(), 61);
        assert_gap_free(&read_everything(&store).await);
    }
}

#[tokio::test]
async fn a_torn_tail_is_dropped_and_the_store_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let stored = seeded(dir.path()).await;
    let offsets = record_offsets(dir.path());
    let full = std::fs::read(log_path(dir.path())).unwrap();
    let last = *offsets.last().unwrap();
    for cut in [last + 1, last + 8, last + 12, last + 20, full.len() - 1] {
        std::fs::write(log_path(dir.path()), &full[..cut]).unwrap();
        let store = open(dir.path()).await.unwrap();
        let events = read_everything(&store).await;
        assert_eq!(events, stored[..stored.len() - 2], "cut at {cut}");
        assert_eq!(std::fs::metadata(log_path(dir.path())).unwrap().len(), last as u64);
        let appended = store.append("c", 4, batch("c", 4, 2)).await.unwrap();
        assert_eq!(appended[0].global_position, Some(17));
        drop(store);
        let store = open(dir.path()).await.unwrap();
        assert_eq!(read_everything(&store).await.len(), 18);
        drop(store);
    }
}

#[tokio::test]
async fn garbage_after_the_last_record_is_dropped() {
    for garbage in [
        &b"x"[..],
        b"HIVE",
        b"HIVE\xff\xff\xff\x7f",
        &[0u8; 4096],
        b"{\"not\": \"a record\"}",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let stored = seeded(dir.path()).await;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(log_path(dir.path()))
            .unwrap();
        file.write_all(garbage).unwrap();
        drop(file);
        let store = open(dir.path()).await.unwrap();
        assert_eq!(read_everything(&store).await, stored);
        store.append("a", 6, vec![ev("a", 7)]).await.unwrap();
        drop(store);
        assert_eq!(read_everything(&open(dir.path()).await.unwrap()).await.len(), 19);
    }
}

#[tokio::test]
async fn damage_in_the_middle_is_a_typed_corruption() {
    let dir = tempfile::tempdir().unwrap();
    seeded(dir.path()).await;
    let offsets = record_offsets(dir.path());
    let pristine = std::fs::read(log_path(dir.path())).unwrap();
    // A flipped payload byte (checksum), a wrong magic, a huge declared length.
    type Damage = fn(&mut [u8]);
    let damages: [(usize, Damage); 3] = [
        (offsets[2] + 30, |b| b[0] ^= 0x20),
        (offsets[3], |b| b[0] = b'X'),
        (offsets[4] + 4, |b| b[..4].copy_from_slice(&u32::MAX.to_le_bytes())),
    ];
    for (i, (at, damage)) in damages.into_iter().enumerate() {
        let mut bytes = pristine.clone();
        damage(&mut bytes[at..]);
        std::fs::write(log_path(dir.path()), &bytes).unwrap();
        // Replayed whole: with its index checkpoint, the store would open and find the damage
        // in the background (tests/index_checkpoint.rs).
        let _ = std::fs::remove_file(dir.path().join(INDEX_CHECKPOINT_FILE));
        match open(dir.path()).await {
            Err(EventStoreError::Corrupt { record, reason }) => {
                assert_eq!(record, format!("events.log@{}", offsets[2 + i]), "{reason}");
            }
            other => panic!("damage {i}: expected Corrupt, got {other:?}"),
        }
        assert_eq!(
            std::fs::read(log_path(dir.path())).unwrap(),
            bytes,
            "nothing is truncated"
        );
    }
}

#[tokio::test]
async fn a_record_contradicting_the_log_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    seeded(dir.path()).await;
    let mut bytes = std::fs::read(log_path(dir.path())).unwrap();
    // Append a well-framed record that repeats the first event (position and version clash).
    let first: Vec<EventEnvelope> = {
        let len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        serde_json::from_slice(&bytes[12..12 + len]).unwrap()
    };
    let payload = serde_json::to_vec(&first).unwrap();
    let at = bytes.len();
    bytes.extend_from_slice(b"HIVE");
    bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    std::fs::write(log_path(dir.path()), &bytes).unwrap();
    match open(dir.path()).await {
        Err(EventStoreError::Corrupt { record, .. }) => assert_eq!(record, format!("events.log@{at}")),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// Bodies are read from the log on demand: one damaged under a running store is a typed error
/// on every read path, never a panic, and the other events still read.
#[tokio::test]
async fn a_body_damaged_under_a_running_store_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let options = DurableOptions::default().with_body_cache_bytes(0);
    let store = MemoryEventStore::open(dir.path(), options).await.unwrap();
    let first = store.append("a", 0, batch("a", 0, 2)).await.unwrap();
    store.append("b", 0, batch("b", 0, 1)).await.unwrap();
    let mut bytes = std::fs::read(log_path(dir.path())).unwrap();
    // The first event of the log starts after the header and the array's `[`.
    let at = 12 + 1;
    bytes[at + 1] = b'#';
    std::fs::write(log_path(dir.path()), &bytes).unwrap();
    let corrupt = |e: EventStoreError| matches!(e, EventStoreError::Corrupt { ref record, .. } if *record == format!("{EVENT_LOG_FILE}@{at}"));
    assert!(corrupt(store.read_all(0, 10).await.unwrap_err()));
    let mut stream = store.read_stream("a", 1);
    assert!(corrupt(stream.next().await.unwrap().unwrap_err()));
    assert!(stream.next().await.is_none(), "the error ends the stream");
    assert!(corrupt(store.event_by_id(first[0].event_id).await.unwrap_err()));
    let all = hive_domain::EventCriteria::default();
    assert!(corrupt(
        store.search(&all, hive_domain::Page::first(10)).await.unwrap_err()
    ));
    assert_eq!(store.read_all(1, 10).await.unwrap().len(), 2, "the others still read");
    assert_eq!(store.read_stream("a", 2).count().await, 1);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_as_a_log_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), magic in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let mut content = if magic { b"HIVE".to_vec() } else { Vec::new() };
        content.extend_from_slice(&bytes);
        std::fs::write(log_path(dir.path()), &content).unwrap();
        let opened = hive_testkit::runtime().block_on(open(dir.path()));
        match opened {
            Ok(store) => {
                prop_assert!(store.is_empty());
                let appended = hive_testkit::runtime().block_on(store.append("a", 0, vec![ev("a", 1)]));
                prop_assert!(appended.is_ok());
            }
            Err(e) => prop_assert!(matches!(e, EventStoreError::Corrupt { .. }), "{e:?}"),
        }
    }

    #[test]
    fn a_log_cut_anywhere_reopens_with_a_prefix(cut_permille in 0usize..=1000, garbage in proptest::collection::vec(any::<u8>(), 0..64)) {
        let (stored, events) = cut_and_reopen(cut_permille, &garbage);
        prop_assert_eq!(&events[..], &stored[..events.len()]);
        prop_assert_eq!(events.len() % 2, 0, "batches are atomic");
    }
}

/// Seeds a log (closed with its index checkpoint), cuts it at `cut_permille` of its length,
/// appends `garbage` and reopens it: what was stored, and what the reopened store reads.
fn cut_and_reopen(cut_permille: usize, garbage: &[u8]) -> (Vec<EventEnvelope>, Vec<EventEnvelope>) {
    let dir = tempfile::tempdir().unwrap();
    let stored = hive_testkit::runtime().block_on(seeded(dir.path()));
    let full = std::fs::read(log_path(dir.path())).unwrap();
    let cut = full.len() * cut_permille / 1000;
    let mut content = full[..cut].to_vec();
    content.extend_from_slice(garbage);
    std::fs::write(log_path(dir.path()), &content).unwrap();
    let store = hive_testkit::runtime().block_on(open(dir.path())).unwrap();
    let events = hive_testkit::runtime().block_on(read_everything(&store));
    (stored, events)
}

/// A case the property found: the log cut inside the last record its index checkpoint covers
/// and padded back past the covered length keeps that record's header. The checkpoint must
/// not be used (its last record is damaged): the whole log is replayed and the torn tail cut.
#[test]
fn a_torn_last_covered_record_padded_back_is_cut_off() {
    let mut garbage = vec![0_u8; 40];
    garbage.extend_from_slice(&[21, 23, 123]);
    let (stored, events) = cut_and_reopen(994, &garbage);
    assert_eq!(events[..], stored[..events.len()]);
    assert_eq!(
        events.len(),
        stored.len() - 2,
        "the last batch (the torn record) is cut off"
    );
}
