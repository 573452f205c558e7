//! Checkpoints of a state over a real log: the round trip keeps everything, and a checkpoint
//! that is damaged yet checksum-valid is refused or decoded, never a panic.

use std::fs::File;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use hive_domain::{EventCriteria, EventEnvelope, Metadata, Page};
use serde_json::json;

use super::encode::Covered;
use super::format::{open, seal};
use super::{decode, encode};
use crate::event_store::bodies::{Bodies, LogBodies, Placed};
use crate::event_store::columns::CHUNK;
use crate::event_store::index::State;
use crate::event_store::streams::{random_key, StreamKey};
use crate::log::record;

/// `count` events over 7 streams, in batches of one to three, some without organization or
/// user, spread over hours.
fn events(count: u64) -> Vec<Vec<EventEnvelope>> {
    let start = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    let mut versions = [0u64; 7];
    let mut batches = Vec::new();
    let mut n = 0;
    while n < count {
        let stream = (n % 7) as usize;
        let size = (1 + n % 3).min(count - n);
        let batch = (0..size)
            .map(|i| {
                versions[stream] += 1;
                let at = n + i;
                let mut metadata = Metadata::default();
                if at % 5 != 0 {
                    metadata = metadata.with_organization(format!("org-{}", at % 4));
                }
                if at % 3 != 0 {
                    metadata = metadata.with_user(format!("user-{}", at % 6));
                }
                EventEnvelope::new(
                    format!("s{stream}"),
                    "Payment",
                    format!("E{}", at % 3),
                    json!({"n": at}),
                    versions[stream],
                )
                .with_timestamp(start + Duration::minutes(at as i64 * 7))
                .with_correlation_id(format!("c{}", at % 11))
                .with_metadata(metadata)
            })
            .collect();
        batches.push(batch);
        n += size;
    }
    batches
}

/// A log of `count` events written to `dir/t.log`, and the state indexing it.
fn logged(dir: &tempfile::TempDir, count: u64, key: StreamKey) -> State {
    let mut log = Vec::new();
    let mut placements = Vec::new();
    let mut position = 0;
    for batch in events(count) {
        let stored: Vec<Arc<EventEnvelope>> = batch
            .into_iter()
            .map(|mut event| {
                position += 1;
                event.global_position = Some(position);
                Arc::new(event)
            })
            .collect();
        let record = log.len() as u64;
        let starts = record::encode_json_array(&mut log, stored.iter().map(|e| &**e)).unwrap();
        let starts: Vec<u64> = starts.into_iter().map(|s| s as u64).collect();
        placements.push((stored, starts, record, log.len() as u64));
    }
    std::fs::write(dir.path().join("t.log"), &log).unwrap();
    let mut state = State::new(Bodies::Log(bodies(dir)), key);
    for (stored, starts, record, end) in &placements {
        let placed = Placed {
            starts,
            record: *record,
            end: *end,
            cache: false,
        };
        state.index_batch(stored, placed).unwrap();
    }
    state
}

fn bodies(dir: &tempfile::TempDir) -> LogBodies {
    LogBodies::new(File::open(dir.path().join("t.log")).unwrap(), "t.log", 0)
}

/// `file` (encoded, not sealed) read back into a state.
fn decoded(dir: &tempfile::TempDir, mut file: Vec<u8>, key: StreamKey) -> Result<(State, Covered), String> {
    seal(&mut file);
    let mut content = open(&file)?;
    let meta = decode::meta(&mut content)?;
    let state = decode::state(content, &meta.covered, key, bodies(dir))?;
    Ok((state, meta.covered))
}

/// The sections of a sealed or unsealed checkpoint: tag and body.
fn sections(file: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let mut at = super::format::HEADER_LEN;
    let mut out = Vec::new();
    while at < file.len() {
        let tag = file[at..at + 4].try_into().unwrap();
        let len = u64::from_le_bytes(file[at + 4..at + 12].try_into().unwrap()) as usize;
        out.push((tag, file[at + 12..at + 12 + len].to_vec()));
        at += 12 + len;
    }
    out
}

/// The sections of `file`, with the stream table (kept in table order) sorted.
fn normalized(file: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let mut sections = sections(file);
    for (tag, body) in &mut sections {
        if tag == b"STRM" {
            let mut entries: Vec<&[u8]> = body[8..].chunks(24).collect();
            entries.sort_unstable();
            *body = [&body[..8], &entries.concat()].concat();
        }
    }
    sections
}

#[test]
fn a_checkpoint_round_trips_the_whole_index() {
    let dir = tempfile::tempdir().unwrap();
    let key = random_key();
    let state = logged(&dir, CHUNK as u64 + 300, key);
    let (file, covered) = encode(&state).unwrap();
    assert_eq!(covered.events, state.head());
    assert_eq!(
        covered.log_len,
        std::fs::metadata(dir.path().join("t.log")).unwrap().len()
    );
    assert_eq!(
        sections(&file).iter().map(|(tag, _)| *tag).collect::<Vec<_>>(),
        [*b"META", *b"COLS", *b"BODY", *b"STRM", *b"NAME", *b"ROLL"]
    );
    let (copy, read) = decoded(&dir, file.clone(), key).unwrap();
    assert_eq!(read, covered);
    assert_eq!(normalized(&encode(&copy).unwrap().0), normalized(&file));
    assert_eq!(copy.footprint(), state.footprint(), "the same room as when indexed");
    for stream in 0..7 {
        let id = format!("s{stream}");
        assert_eq!(
            copy.stream_positions(&id, 1, usize::MAX),
            state.stream_positions(&id, 1, usize::MAX)
        );
    }
    let last = state.read_all(state.head() - 1, 1).unwrap().remove(0);
    assert_eq!(copy.event_by_id(&last.event_id).unwrap(), Some(last));
    let criteria = EventCriteria {
        organization_id: Some("org-1".into()),
        correlation_id: Some("c3".into()),
        ..EventCriteria::default()
    };
    let page = Page::first(20);
    assert_eq!(
        copy.search(&criteria, page).unwrap(),
        state.search(&criteria, page).unwrap()
    );
    assert_eq!(
        copy.rollups
            .statistics(&Default::default(), |_| Ok(Vec::new()))
            .unwrap()
            .total,
        state.head()
    );
}

#[test]
fn far_body_offsets_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let key = random_key();
    let honest = logged(&dir, 4, key);
    let (_, covered) = encode(&honest).unwrap();
    // The same record indexed with made-up offsets 5 GiB apart (never read here).
    let mut state = State::new(Bodies::Log(bodies(&dir)), key);
    let batch = honest
        .read_all(0, 1)
        .unwrap()
        .into_iter()
        .map(Arc::new)
        .collect::<Vec<_>>();
    let placed = Placed {
        starts: &[5 << 30],
        record: covered.last_record,
        end: covered.log_len,
        cache: false,
    };
    state.index_batch(&batch, placed).unwrap();
    let placed = Placed {
        starts: &[10 << 30],
        ..placed
    };
    let mut second = honest.read_all(1, 1).unwrap().remove(0);
    second.aggregate_id = "far".into();
    second.version = 1;
    state.index_batch(&[Arc::new(second)], placed).unwrap();
    let Bodies::Log(log) = &state.bodies else {
        unreachable!()
    };
    assert_eq!(log.far().count(), 1, "the second is 5 GiB past its chunk's first");
    let (copy, _) = decoded(&dir, encode(&state).unwrap().0, key).unwrap();
    let Bodies::Log(copied) = &copy.bodies else {
        unreachable!()
    };
    assert_eq!(copied.far().collect::<Vec<_>>(), log.far().collect::<Vec<_>>());
    assert_eq!(copied.bases(), log.bases());
}

#[test]
fn an_in_memory_or_empty_state_is_not_checkpointed() {
    assert!(encode(&State::default()).unwrap_err().contains("in-memory"));
    let dir = tempfile::tempdir().unwrap();
    let empty = logged(&dir, 0, random_key());
    assert!(encode(&empty).is_err());
}

#[test]
fn a_damaged_but_resealed_checkpoint_is_refused_or_read_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let key = random_key();
    let state = logged(&dir, 60, key);
    let (file, _) = encode(&state).unwrap();
    let mut refused = 0;
    for at in super::format::HEADER_LEN..file.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut damaged = file.clone();
            damaged[at] ^= flip;
            if decoded(&dir, damaged, key).is_err() {
                refused += 1;
            }
        }
    }
    assert!(refused > 0);
    let mut short = file.clone();
    short.truncate(file.len() - 3);
    assert!(decoded(&dir, short, key).unwrap_err().contains("torn"));
}
