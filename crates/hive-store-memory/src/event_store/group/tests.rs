//! Group commit on a fake log: decisions within a group, failed writes and syncs, pipelining.

use serde_json::json;

use super::*;
use crate::event_store::bodies::{Bodies, LogBodies};
use crate::event_store::index_checkpoint;
use crate::event_store::streams::{random_key, StreamKey};
use crate::log::writer::tests::FlakySink;

fn ev(stream: &str, version: u64) -> EventEnvelope {
    EventEnvelope::new(stream, "T", "E", json!({"n": version}), version)
}

fn request(
    expected_version: u64,
    events: Vec<EventEnvelope>,
) -> (AppendRequest, oneshot::Receiver<StoreResult<Appended>>) {
    let (reply, answer) = oneshot::channel();
    (
        AppendRequest {
            expected_version,
            events,
            reply,
        },
        answer,
    )
}

fn writer(sink: &FlakySink) -> GroupWriter<FlakySink> {
    let log = LogWriter::new(sink.clone(), "t.log", 0);
    GroupWriter::new(Arc::default(), log, FsyncPolicy::Always, 16)
}

#[test]
fn a_group_decides_each_request_against_the_ones_before() {
    let sink = FlakySink::default();
    let mut writer = writer(&sink);
    let batch = vec![ev("a", 1)];
    let (first, first_answer) = request(0, batch.clone());
    let (again, again_answer) = request(0, batch);
    let (late, late_answer) = request(0, vec![ev("a", 1)]);
    let (other, other_answer) = request(0, vec![ev("b", 1), ev("b", 2)]);
    writer.commit(vec![first, again, late, other]);
    let Ok(Ok(Appended::Fresh(stored))) = first_answer.blocking_recv() else {
        panic!("first append refused")
    };
    assert_eq!(stored[0].global_position, Some(1));
    let Ok(Ok(Appended::Existing(same))) = again_answer.blocking_recv() else {
        panic!("idempotent re-append refused")
    };
    assert_eq!(same[0], *stored[0]);
    assert!(late_answer.blocking_recv().unwrap().unwrap_err().is_conflict());
    let Ok(Ok(Appended::Fresh(b))) = other_answer.blocking_recv() else {
        panic!("second stream refused")
    };
    assert_eq!(b[1].global_position, Some(3));
    assert_eq!(writer.state.read().head(), 3);
    let bytes = sink.bytes.lock().unwrap().len();
    assert!(bytes > 0);
}

#[test]
fn a_failed_write_applies_nothing_and_fails_every_request() {
    let sink = FlakySink::default();
    let mut writer = writer(&sink);
    let (ok, _) = request(0, vec![ev("a", 1)]);
    writer.commit(vec![ok]);
    let written = sink.bytes.lock().unwrap().clone();
    *sink.fail_sync.lock().unwrap() = true;
    let (next, next_answer) = request(1, vec![ev("a", 2)]);
    let (conflict, conflict_answer) = request(0, vec![ev("a", 1)]);
    writer.commit(vec![next, conflict]);
    assert!(matches!(
        next_answer.blocking_recv().unwrap(),
        Err(EventStoreError::Unavailable(_))
    ));
    assert!(matches!(
        conflict_answer.blocking_recv().unwrap(),
        Err(EventStoreError::Unavailable(_))
    ));
    assert_eq!(*sink.bytes.lock().unwrap(), written, "file rolled back");
    assert_eq!(writer.state.read().head(), 1, "nothing applied");
    *sink.fail_sync.lock().unwrap() = false;
    let (retry, retry_answer) = request(1, vec![ev("a", 2)]);
    writer.commit(vec![retry]);
    assert!(retry_answer.blocking_recv().unwrap().is_ok());
    assert_eq!(writer.state.read().head(), 2);
}

#[test]
fn the_next_group_is_decided_while_one_syncs_and_answered_after_it() {
    let sink = FlakySink::default();
    let mut writer = writer(&sink);
    let batch = vec![ev("a", 1)];
    let (first, first_answer) = request(0, batch.clone());
    let prepared = writer.prepare(vec![first]);
    let mut in_flight = writer.write(prepared);
    assert!(in_flight.is_some(), "written, waiting for its sync");
    let (again, mut again_answer) = request(0, batch);
    let (next, mut next_answer) = request(1, vec![ev("a", 2)]);
    let second = writer.prepare(vec![again, next]);
    assert_eq!(second.batches, 1, "decided against the group in flight");
    assert_eq!(writer.state.read().head(), 0, "nothing applied before the sync");
    assert!(writer.finish_in_flight(&mut in_flight, Ok(())));
    assert!(matches!(first_answer.blocking_recv(), Ok(Ok(Appended::Fresh(_)))));
    assert_eq!(writer.state.read().head(), 1);
    assert!(
        again_answer.try_recv().is_err(),
        "no answer before its own group is synced"
    );
    assert!(next_answer.try_recv().is_err());
    let mut in_flight = writer.write(second);
    assert!(writer.finish_in_flight(&mut in_flight, Ok(())));
    assert!(matches!(again_answer.blocking_recv(), Ok(Ok(Appended::Existing(_)))));
    let Ok(Ok(Appended::Fresh(stored))) = next_answer.blocking_recv() else {
        panic!("second group refused")
    };
    assert_eq!(stored[0].global_position, Some(2));
    assert_eq!(writer.state.read().head(), 2);
}

#[test]
fn a_failed_sync_fails_its_group_and_the_one_decided_after_it() {
    let sink = FlakySink::default();
    let mut writer = writer(&sink);
    let (first, first_answer) = request(0, vec![ev("a", 1)]);
    let prepared = writer.prepare(vec![first]);
    let mut in_flight = writer.write(prepared);
    let (next, next_answer) = request(1, vec![ev("a", 2)]);
    let second = writer.prepare(vec![next]);
    let failed = writer.finish_in_flight(&mut in_flight, Err(std::io::Error::other("disk gone")));
    assert!(!failed);
    writer.fail(second, &retry_later());
    assert!(matches!(
        first_answer.blocking_recv().unwrap(),
        Err(EventStoreError::Unavailable(_))
    ));
    assert!(matches!(
        next_answer.blocking_recv().unwrap(),
        Err(EventStoreError::Unavailable(_))
    ));
    assert!(sink.bytes.lock().unwrap().is_empty(), "log rolled back");
    assert_eq!(writer.state.read().head(), 0);
    let (retry, retry_answer) = request(0, vec![ev("a", 1)]);
    writer.commit(vec![retry]);
    let Ok(Ok(Appended::Fresh(stored))) = retry_answer.blocking_recv() else {
        panic!("retry refused")
    };
    assert_eq!(
        stored[0].global_position,
        Some(1),
        "positions start again where the log is"
    );
}

#[test]
fn the_writer_thread_pipelines_and_acknowledges_every_append() {
    let sink = FlakySink::default();
    let state: Arc<RwLock<State>> = Arc::default();
    let log = LogWriter::new(sink.clone(), "t.log", 0);
    let writer = GroupWriter::new(Arc::clone(&state), log, FsyncPolicy::Always, 4);
    let (tx, rx) = mpsc::channel(64);
    let wake = tx.downgrade();
    let thread = std::thread::spawn(move || writer.run(rx, wake));
    let answers: Vec<_> = (0..40)
        .map(|n| {
            let (request, answer) = request(0, vec![ev(&format!("s{n}"), 1)]);
            tx.blocking_send(WriterRequest::Append(request)).unwrap();
            answer
        })
        .collect();
    for answer in answers {
        assert!(matches!(answer.blocking_recv(), Ok(Ok(Appended::Fresh(_)))));
    }
    drop(tx);
    thread.join().unwrap();
    assert_eq!(state.read().head(), 40);
}

/// A writer over a real log in `dir`, its state reading bodies from it, with checkpoints every
/// `every` events; and the stream key.
fn durable_writer(dir: &std::path::Path, fsync: FsyncPolicy, every: u64) -> (GroupWriter<std::fs::File>, StreamKey) {
    let path = dir.join(crate::EVENT_LOG_FILE);
    let log = crate::log::fs::open_locked_log(&path).unwrap();
    let key = random_key();
    let reader = std::fs::File::open(&path).unwrap();
    let state = State::new(Bodies::Log(LogBodies::new(reader, "events.log", 0)), key);
    let sync = log.try_clone().unwrap();
    let checkpoints = Checkpointer::start(dir, every, 0, move || sync.sync_data());
    let writer = GroupWriter::new(
        Arc::new(RwLock::new(state)),
        LogWriter::new(log, "events.log", 0),
        fsync,
        16,
    )
    .with_checkpoints(checkpoints);
    (writer, key)
}

#[test]
fn a_checkpoint_covers_the_written_groups_once_synced() {
    for fsync in [
        FsyncPolicy::Always,
        FsyncPolicy::EveryMillis(60_000),
        FsyncPolicy::Never,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (mut writer, key) = durable_writer(dir.path(), fsync, 3);
        let (first, _) = request(0, vec![ev("a", 1), ev("a", 2)]);
        writer.commit(vec![first]);
        writer.checkpoint_if_due();
        assert!(
            !dir.path().join(crate::INDEX_CHECKPOINT_FILE).exists(),
            "2 events: none due"
        );
        let (second, _) = request(0, vec![ev("b", 1)]);
        let (third, _) = request(2, vec![ev("a", 3)]);
        writer.commit(vec![second, third]);
        writer.checkpoint_if_due();
        writer.checkpoint_and_stop();
        let log_len = std::fs::metadata(dir.path().join(crate::EVENT_LOG_FILE)).unwrap().len();
        let path = dir.path().join(crate::EVENT_LOG_FILE);
        let bodies = LogBodies::new(std::fs::File::open(&path).unwrap(), "events.log", 0);
        let loaded = index_checkpoint::load(dir.path(), &std::fs::File::open(&path).unwrap(), key, bodies)
            .unwrap_or_else(|| panic!("{fsync:?}: no usable checkpoint"));
        assert_eq!(
            (loaded.covered.events, loaded.covered.log_len),
            (4, log_len),
            "{fsync:?}"
        );
        assert_eq!(loaded.state.stream_positions("a", 1, 10), [0, 1, 3], "{fsync:?}");
        assert_eq!(loaded.state.footprint(), writer.state.read().footprint(), "{fsync:?}");
    }
}

#[test]
fn no_checkpoint_covers_a_log_that_cannot_be_synced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.log");
    std::fs::write(&path, b"").unwrap();
    let sink = FlakySink::default();
    let reader = std::fs::File::open(&path).unwrap();
    let state = State::new(Bodies::Log(LogBodies::new(reader, "t.log", 0)), random_key());
    let log = LogWriter::new(sink.clone(), "t.log", 0);
    let mut sync = sink.clone();
    let checkpoints = Checkpointer::start(dir.path(), 1, 0, move || sync.sync_data());
    let mut writer =
        GroupWriter::new(Arc::new(RwLock::new(state)), log, FsyncPolicy::Never, 16).with_checkpoints(checkpoints);
    let checkpoint = dir.path().join(crate::INDEX_CHECKPOINT_FILE);
    let (first, answer) = request(0, vec![ev("a", 1)]);
    writer.commit(vec![first]);
    assert!(
        matches!(answer.blocking_recv(), Ok(Ok(Appended::Fresh(_)))),
        "written, not synced"
    );
    // What the sink holds, where the state reads bodies and record headers from.
    std::fs::write(&path, &*sink.bytes.lock().unwrap()).unwrap();
    *sink.fail_sync.lock().unwrap() = true;
    writer.checkpoint_if_due();
    let (second, _) = request(1, vec![ev("a", 2)]);
    writer.commit(vec![second]);
    std::fs::write(&path, &*sink.bytes.lock().unwrap()).unwrap();
    // Due again once the thread is done with the first checkpoint.
    while !writer.checkpoints.as_mut().unwrap().due(2) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(!checkpoint.exists(), "the log could not be synced: no checkpoint");
    *sink.fail_sync.lock().unwrap() = false;
    writer.checkpoint_and_stop();
    assert!(checkpoint.exists(), "synced: a checkpoint");
}
