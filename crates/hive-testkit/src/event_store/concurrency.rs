//! Concurrent writers: optimistic concurrency on one stream, the global log under many.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hive_domain::{EventEnvelope, EventStore};
use serde_json::json;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::PROBE;
use crate::support::{
    assert_gap_free_versions, batch, check_stored_batch, head_of, ok, read_log, read_stream_vec, unique, version_of,
};

/// Tasks writing at the same time.
const WRITERS: usize = 16;
/// Append attempts per task on one stream.
const ATTEMPTS: u64 = 50;

/// Awaits a task, re-raising its panic with the original message.
async fn join<T>(handle: JoinHandle<T>) -> T {
    match handle.await {
        Ok(value) => value,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => panic!("a writer task did not finish: {error}"),
    }
}

/// One attempt: read the version, append `size` events after it. `Some(stored)` when
/// acknowledged, `None` on a conflict; any other error panics.
async fn attempt<S: EventStore + ?Sized>(
    store: &S,
    stream: &str,
    size: u64,
    tag: serde_json::Value,
) -> Option<Vec<EventEnvelope>> {
    let version = version_of(store, stream).await;
    // Let other writers run between the read and the write, so appends really race.
    tokio::task::yield_now().await;
    let mut events = batch(stream, PROBE, version, size);
    for e in &mut events {
        e.event_data["writer"] = tag.clone();
    }
    match store.append(stream, version, events.clone()).await {
        Ok(stored) => {
            check_stored_batch(stream, &events, &stored);
            Some(stored)
        }
        Err(error) if error.is_conflict() => None,
        Err(error) => panic!("concurrent append to `{stream}` at {version} failed with a non-conflict error: {error}"),
    }
}

/// 16 tasks × 50 attempts each read the version of one stream and append one event after it,
/// retrying on `Conflict`. Afterwards the stream holds exactly the acknowledged events, once
/// each, at versions 1..=n.
pub async fn concurrent_writers_on_one_stream<S: EventStore + ?Sized + 'static>(store: Arc<S>) {
    let stream = unique("contended");
    let handles: Vec<JoinHandle<Vec<Uuid>>> = (0..WRITERS)
        .map(|writer| {
            let (store, stream) = (Arc::clone(&store), stream.clone());
            tokio::spawn(async move {
                let mut acked = Vec::new();
                for n in 0..ATTEMPTS {
                    let tag = json!({ "writer": writer, "attempt": n });
                    if let Some(stored) = attempt(&*store, &stream, 1, tag).await {
                        acked.push(stored[0].event_id);
                    }
                }
                acked
            })
        })
        .collect();
    let mut acked = Vec::new();
    for handle in handles {
        acked.extend(join(handle).await);
    }
    let n = acked.len() as u64;
    assert!(n > 0, "no append out of {} succeeded", WRITERS as u64 * ATTEMPTS);

    let read = read_stream_vec(&*store, &stream, 0).await;
    let versions: Vec<u64> = read.iter().map(|e| e.version).collect();
    assert_gap_free_versions(&versions, n, &format!("after {n} acknowledged appends to `{stream}`"));
    let stored: HashSet<Uuid> = read.iter().map(|e| e.event_id).collect();
    assert_eq!(stored.len(), read.len(), "an event id is stored twice");
    let acked: HashSet<Uuid> = acked.into_iter().collect();
    let lost = acked.difference(&stored).count();
    let phantom = stored.difference(&acked).count();
    assert_eq!(lost, 0, "{lost} acknowledged event(s) are missing from the stream");
    assert_eq!(phantom, 0, "{phantom} stored event(s) were never acknowledged");
    assert_eq!(version_of(&*store, &stream).await, n, "stream_version after the race");
}

/// Streams shared by the writers of [`concurrent_writers_on_many_streams`].
const STREAMS: usize = 8;
/// Append attempts per task on many streams.
const MANY_ATTEMPTS: u64 = 25;

/// 16 tasks append batches of 1–2 events to 8 streams (retrying on `Conflict`) while another
/// task tails `read_all`. The tailer never sees a gap (positions become visible in order) and
/// afterwards the global log is gap-free and holds every acknowledged event exactly once, at
/// the position `append` returned, with each stream's versions in order.
pub async fn concurrent_writers_on_many_streams<S: EventStore + ?Sized + 'static>(store: Arc<S>) {
    let streams: Vec<String> = (0..STREAMS).map(|i| unique(&format!("parallel-{i}"))).collect();
    let head_before = head_of(&*store).await;
    let target = Arc::new(AtomicU64::new(0));
    let tailer = {
        let (store, target) = (Arc::clone(&store), Arc::clone(&target));
        tokio::spawn(async move {
            let (mut cursor, mut seen) = (head_before, Vec::new());
            loop {
                let goal = target.load(Ordering::Acquire);
                if goal != 0 && cursor >= goal {
                    return seen;
                }
                let events = ok(
                    store.read_all(cursor, 64).await,
                    format_args!("read_all({cursor}, 64) while tailing"),
                );
                if events.is_empty() {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                for e in events {
                    let position = e.global_position.unwrap_or_default();
                    assert_eq!(
                        position,
                        cursor + 1,
                        "a reader tailing read_all saw position {position} right after {cursor}: positions must \
                         become visible in order, or a projection skips the missing ones forever"
                    );
                    cursor = position;
                    seen.push(e.event_id);
                }
            }
        })
    };
    let writers: Vec<JoinHandle<Vec<EventEnvelope>>> = (0..WRITERS)
        .map(|writer| {
            let (store, stream) = (Arc::clone(&store), streams[writer % STREAMS].clone());
            tokio::spawn(async move {
                let mut acked = Vec::new();
                for n in 0..MANY_ATTEMPTS {
                    if let Some(stored) = attempt(&*store, &stream, 1 + n % 2, json!(writer)).await {
                        acked.extend(stored);
                    }
                }
                acked
            })
        })
        .collect();
    let mut acked = Vec::new();
    for handle in writers {
        acked.extend(join(handle).await);
    }
    assert!(!acked.is_empty(), "no append succeeded");
    let last = acked.iter().filter_map(|e| e.global_position).max().unwrap_or_default();
    target.store(last, Ordering::Release);

    let log = read_log(&*store, head_before, last, 100).await;
    let logged: HashMap<Uuid, &EventEnvelope> = log.iter().map(|e| (e.event_id, e)).collect();
    assert_eq!(logged.len(), log.len(), "the global log holds an event id twice");
    for event in &acked {
        let found = logged.get(&event.event_id).unwrap_or_else(|| {
            panic!(
                "acknowledged event {} of `{}` is missing from the global log",
                event.event_id, event.aggregate_id
            )
        });
        assert_eq!(*found, event, "the global log differs from what append returned");
    }
    let ours: HashSet<&str> = streams.iter().map(String::as_str).collect();
    let in_log = log.iter().filter(|e| ours.contains(e.aggregate_id.as_str())).count();
    assert_eq!(
        in_log,
        acked.len(),
        "the global log holds events of these streams that were never acknowledged"
    );
    for stream in &streams {
        let versions: Vec<u64> = log
            .iter()
            .filter(|e| &e.aggregate_id == stream)
            .map(|e| e.version)
            .collect();
        let n = versions.len() as u64;
        assert_gap_free_versions(&versions, n, &format!("the global log's events of `{stream}`"));
        assert_eq!(version_of(&*store, stream).await, n, "stream_version of `{stream}`");
    }

    let seen: HashSet<Uuid> = join(tailer).await.into_iter().collect();
    let missed = acked.iter().filter(|e| !seen.contains(&e.event_id)).count();
    assert_eq!(missed, 0, "the tailing reader missed {missed} acknowledged event(s)");
}
