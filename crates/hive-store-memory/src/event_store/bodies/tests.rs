use serde_json::json;

use super::*;
use crate::log::record;

/// Three events (global positions 1 to 3) written as one record to `t.log`; the file, the
/// events, their offsets and the record's end.
fn logged() -> (tempfile::TempDir, Vec<Arc<EventEnvelope>>, Vec<u64>, u64) {
    let events: Vec<Arc<EventEnvelope>> = (1..=3u64)
        .map(|v| {
            let mut event = EventEnvelope::new("s", "T", "E", json!({"n": v, "text": "x".repeat(40)}), v);
            event.global_position = Some(v);
            Arc::new(event)
        })
        .collect();
    let mut buf = b"leading bytes".to_vec();
    let starts = record::encode_json_array(&mut buf, events.iter().map(|e| &**e)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.log"), &buf).unwrap();
    let starts = starts.into_iter().map(|s| s as u64).collect();
    (dir, events, starts, buf.len() as u64)
}

fn bodies(dir: &tempfile::TempDir, cache: u64, events: &[Arc<EventEnvelope>], starts: &[u64], end: u64) -> Bodies {
    let file = File::open(dir.path().join("t.log")).unwrap();
    let mut bodies = Bodies::Log(LogBodies::new(file, "t.log", cache));
    let placed = Placed {
        starts,
        record: 0,
        end,
        cache: false,
    };
    bodies.push_batch(events, placed).unwrap();
    bodies
}

#[test]
fn bodies_are_read_back_from_their_offsets() {
    let (dir, events, starts, end) = logged();
    for cache in [0, 1 << 20] {
        let bodies = bodies(&dir, cache, &events, &starts, end);
        assert_eq!(bodies.get(1).unwrap(), events[1]);
        assert_eq!(bodies.cached_bytes() > 0, cache > 0, "cache of {cache}");
        assert_eq!(bodies.range(0, 3).unwrap(), events, "cache of {cache}");
        assert_eq!(bodies.range(2, 3).unwrap(), events[2..]);
        assert!(bodies.range(1, 1).unwrap().is_empty());
    }
}

#[test]
fn fresh_appends_are_cached_and_weighed_by_their_json() {
    let (dir, events, starts, end) = logged();
    let file = File::open(dir.path().join("t.log")).unwrap();
    let mut bodies = Bodies::Log(LogBodies::new(file, "t.log", 1 << 20));
    let placed = Placed {
        starts: &starts,
        record: 0,
        end,
        cache: true,
    };
    bodies.push_batch(&events, placed).unwrap();
    assert_eq!(bodies.cached_bytes(), end - starts[0]);
    std::fs::write(dir.path().join("t.log"), b"").unwrap();
    assert_eq!(bodies.range(0, 3).unwrap(), events, "served from the cache");
    let wrong = Placed {
        starts: &starts[..1],
        record: 0,
        end,
        cache: true,
    };
    assert!(matches!(
        bodies.push_batch(&events, wrong),
        Err(EventStoreError::Backend(_))
    ));
}

#[test]
fn a_damaged_body_is_corrupt_and_names_its_offset() {
    let (dir, events, starts, end) = logged();
    let path = dir.path().join("t.log");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[starts[1] as usize + 1] = b'#';
    std::fs::write(&path, &bytes).unwrap();
    let bodies = bodies(&dir, 0, &events, &starts, end);
    let expected = format!("t.log@{}", starts[1]);
    assert!(matches!(bodies.get(1), Err(EventStoreError::Corrupt { record, .. }) if record == expected));
    assert!(matches!(bodies.range(0, 3), Err(EventStoreError::Corrupt { .. })));
    assert_eq!(bodies.get(0).unwrap(), events[0]);
}

#[test]
fn a_body_at_the_wrong_place_is_corrupt() {
    let (dir, events, mut starts, end) = logged();
    starts[1] = starts[2];
    starts[2] = end - 1;
    let bodies = bodies(&dir, 0, &events, &starts, end);
    let Err(EventStoreError::Corrupt { reason, .. }) = bodies.get(1) else {
        panic!("the event at position 3 read where position 2 was expected")
    };
    assert!(reason.contains("global position"), "{reason}");
    let Err(EventStoreError::Corrupt { reason, .. }) = bodies.get(2) else {
        panic!("a `]` read as an event")
    };
    assert!(reason.contains("undecodable"), "{reason}");
}

#[test]
fn a_short_log_is_a_backend_error() {
    let (dir, events, starts, end) = logged();
    let bodies = bodies(&dir, 0, &events, &starts, end);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("t.log"))
        .unwrap();
    file.set_len(starts[2]).unwrap();
    let Err(EventStoreError::Backend(why)) = bodies.get(2) else {
        panic!("a read past the end of the file")
    };
    assert!(why.contains(&format!("t.log@{}", starts[2])), "{why}");
}

#[test]
fn offsets_far_from_their_chunk_are_kept_whole() {
    let dir = tempfile::tempdir().unwrap();
    let file = File::create(dir.path().join("far.log")).unwrap();
    let mut log = LogBodies::new(file, "far.log", 0);
    let offsets = [10, 20, 10 + u64::from(u32::MAX) - 1, 10 + u64::from(u32::MAX), 1 << 40];
    for offset in offsets {
        log.push(offset);
    }
    log.end = (1 << 40) + 100;
    for (at, offset) in offsets.iter().enumerate() {
        assert_eq!(log.start(at), *offset);
    }
    assert_eq!(log.far.len(), 2, "two offsets 4 GiB or more past the chunk's first");
    assert_eq!(log.span(4), (1 << 40, (1 << 40) + 100));
}
