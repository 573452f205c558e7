//! Issue #9, stored-data deserialisers: garbage handed to the durable log readers inside
//! well-formed frames (right magic, length and checksum, so it reaches the payload decoder)
//! never panics. In the middle of the log it is a typed [`EventStoreError::Corrupt`] naming the
//! record (`file@offset`); as the last record it is a torn tail, cut off. The same for the
//! snapshot log, and raw random bytes as a snapshot log. (`durability.rs` covers raw random
//! bytes and cuts of the event log.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{batch, read_everything};
use hive_domain::{EventStore, EventStoreError, Snapshot, SnapshotStore};
use hive_store_memory::{DurableOptions, MemoryEventStore, MemorySnapshotStore, EVENT_LOG_FILE, SNAPSHOT_LOG_FILE};
use proptest::prelude::*;

/// A well-formed frame around `payload`.
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = b"HIVE".to_vec();
    out.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// A log of two appends (two records); its bytes.
fn seeded_events(dir: &Path) -> Vec<u8> {
    hive_testkit::runtime().block_on(async {
        let store = MemoryEventStore::open(dir, DurableOptions::default()).await.unwrap();
        store.append("a", 0, batch("a", 0, 2)).await.unwrap();
        store.append("b", 0, batch("b", 0, 1)).await.unwrap();
        store.close().await.unwrap();
    });
    std::fs::read(dir.join(EVENT_LOG_FILE)).unwrap()
}

fn snapshot(id: &str, version: u64) -> Snapshot {
    Snapshot {
        aggregate_id: id.to_owned(),
        aggregate_type: "Payment".to_owned(),
        version,
        state: serde_json::json!({ "v": version }),
        timestamp: chrono::Utc::now(),
    }
}

/// A snapshot log of two snapshots; its bytes.
fn seeded_snapshots(dir: &Path) -> Vec<u8> {
    hive_testkit::runtime().block_on(async {
        let store = MemorySnapshotStore::open(dir, DurableOptions::default()).await.unwrap();
        store.save(snapshot("a", 2)).await.unwrap();
        store.save(snapshot("b", 1)).await.unwrap();
    });
    std::fs::read(dir.join(SNAPSHOT_LOG_FILE)).unwrap()
}

/// Payloads a decoder must refuse or accept without panicking: random bytes, random JSON
/// values, and JSON objects with random keys and values.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    let json_leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)),
        ".{0,12}".prop_map(serde_json::Value::from),
    ];
    let json = json_leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::hash_map(
                prop_oneof![
                    Just("events".to_owned()),
                    Just("aggregateId".to_owned()),
                    Just("version".to_owned()),
                    Just("globalPosition".to_owned()),
                    ".{0,8}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    });
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        json.prop_map(|v| serde_json::to_vec(&v).unwrap()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn event_log_garbage_records_are_typed(garbage in payload()) {
        let dir = tempfile::tempdir().unwrap();
        let pristine = seeded_events(dir.path());
        let second = 12 + u32::from_le_bytes(pristine[4..8].try_into().unwrap()) as usize;
        let bad = frame(&garbage);

        // In the middle: between the first and the second record.
        let mut middle = pristine[..second].to_vec();
        middle.extend_from_slice(&bad);
        middle.extend_from_slice(&pristine[second..]);
        std::fs::write(dir.path().join(EVENT_LOG_FILE), &middle).unwrap();
        match hive_testkit::runtime().block_on(MemoryEventStore::open(dir.path(), DurableOptions::default())) {
            Err(EventStoreError::Corrupt { record, .. }) => {
                prop_assert_eq!(record, format!("{EVENT_LOG_FILE}@{second}"));
            }
            // A payload that happens to be a valid record (e.g. an empty batch) is no garbage.
            Ok(store) => prop_assert!(hive_testkit::runtime().block_on(read_everything(&store)).len() >= 3),
            Err(other) => prop_assert!(false, "expected Corrupt, got {other:?}"),
        }

        // At the end: a torn tail, cut off; the records before it are kept.
        let mut tail = pristine.clone();
        tail.extend_from_slice(&bad);
        std::fs::write(dir.path().join(EVENT_LOG_FILE), &tail).unwrap();
        match hive_testkit::runtime().block_on(MemoryEventStore::open(dir.path(), DurableOptions::default())) {
            Ok(store) => prop_assert!(hive_testkit::runtime().block_on(read_everything(&store)).len() >= 3),
            Err(EventStoreError::Corrupt { record, .. }) => {
                // Decodable but contradicting the log (a wrong version, say): named, never silent.
                prop_assert_eq!(record, format!("{EVENT_LOG_FILE}@{}", pristine.len()));
            }
            Err(other) => prop_assert!(false, "expected a cut tail or Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn snapshot_log_garbage_records_are_typed(garbage in payload()) {
        let dir = tempfile::tempdir().unwrap();
        let pristine = seeded_snapshots(dir.path());
        let second = 12 + u32::from_le_bytes(pristine[4..8].try_into().unwrap()) as usize;
        let mut middle = pristine[..second].to_vec();
        middle.extend_from_slice(&frame(&garbage));
        middle.extend_from_slice(&pristine[second..]);
        std::fs::write(dir.path().join(SNAPSHOT_LOG_FILE), &middle).unwrap();
        match hive_testkit::runtime().block_on(MemorySnapshotStore::open(dir.path(), DurableOptions::default())) {
            Err(EventStoreError::Corrupt { record, .. }) => {
                prop_assert_eq!(record, format!("{SNAPSHOT_LOG_FILE}@{second}"));
            }
            Ok(store) => {
                let a = hive_testkit::runtime().block_on(store.load("a")).unwrap();
                prop_assert!(a.is_some());
            }
            Err(other) => prop_assert!(false, "expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn random_bytes_as_a_snapshot_log_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), magic in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let mut content = if magic { b"HIVE".to_vec() } else { Vec::new() };
        content.extend_from_slice(&bytes);
        std::fs::write(dir.path().join(SNAPSHOT_LOG_FILE), &content).unwrap();
        match hive_testkit::runtime().block_on(MemorySnapshotStore::open(dir.path(), DurableOptions::default())) {
            Ok(store) => {
                let saved = hive_testkit::runtime().block_on(store.save(snapshot("x", 1)));
                prop_assert!(saved.is_ok());
            }
            Err(e) => prop_assert!(matches!(e, EventStoreError::Corrupt { ref record, .. } if record.starts_with(SNAPSHOT_LOG_FILE)), "{e:?}"),
        }
    }
}
