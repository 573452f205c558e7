//! Chaos: 32 writers append to many streams (shared hot streams among them, so conflicts
//! happen), some transactions held open 100–500 ms before their commit, some rolled back,
//! while a reader follows the global log by position (woken by notifications) and a projection
//! counting events per stream runs under `ProjectionRunner::run_until`. At the end: every
//! committed event was seen exactly once, in position order, none skipped, nothing rolled back
//! was seen, and the projection equals a fresh rebuild and the writers' own ledger.
//!
//! `HIVE_CHAOS_APPENDS` sets the number of appends (default 1 500, about 15 s; 32 000, 32
//! writers × 1 000, under `cargo xtask soak`, which sets `HIVE_SOAK=1`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::{drop_schema, fresh, server};
use futures::StreamExt;
use hive_application::{ApplicationError, Projection, ProjectionRunner};
use hive_domain::{EventEnvelope, EventStore, EventStoreError};
use hive_store_postgres::{PostgresEventStore, PostgresOptions};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use uuid::Uuid;

const WRITERS: usize = 32;
const HOT_STREAMS: usize = 8;

/// Events per stream, counted by position (idempotent: an event at or below the last
/// position applied is skipped; one past a gap is recorded as a skip).
#[derive(Default)]
struct Counts {
    name: String,
    state: Mutex<(u64, BTreeMap<String, u64>, Vec<u64>)>,
}

impl Counts {
    fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    fn snapshot(&self) -> (u64, BTreeMap<String, u64>, Vec<u64>) {
        self.state.lock().unwrap().clone()
    }
}

#[async_trait]
impl Projection for Counts {
    fn name(&self) -> &str {
        &self.name
    }

    async fn apply(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        let position = event.global_position.unwrap_or_default();
        let mut state = self.state.lock().unwrap();
        if position <= state.0 {
            return Ok(());
        }
        if position != state.0 + 1 {
            state.2.push(position);
        }
        state.0 = position;
        *state.1.entry(event.aggregate_id.clone()).or_default() += 1;
        Ok(())
    }

    async fn reset(&self) -> Result<(), ApplicationError> {
        *self.state.lock().unwrap() = Default::default();
        Ok(())
    }
}

/// What the writers committed and rolled back.
#[derive(Default)]
struct Ledger {
    committed: Vec<(String, Uuid)>,
    rolled_back: Vec<Uuid>,
}

fn batch(stream: &str, after: u64, count: u64) -> Vec<EventEnvelope> {
    (after + 1..=after + count)
        .map(|v| EventEnvelope::new(stream, "Chaos", "Happened", json!({ "v": v }), v))
        .collect()
}

/// One writer: `appends` appends, a quarter to the hot streams (conflicts retried), 2 % held
/// open 100–500 ms then committed, 8 % held open up to 30 ms then rolled back.
async fn write(store: Arc<PostgresEventStore>, writer: usize, appends: usize, ledger: Arc<Mutex<Ledger>>) {
    let mut rng = StdRng::seed_from_u64(writer as u64);
    let mut done = 0;
    while done < appends {
        let stream = if rng.gen_bool(0.25) {
            format!("hot-{}", rng.gen_range(0..HOT_STREAMS))
        } else {
            format!("w{writer}-{}", rng.gen_range(0..6))
        };
        let version = store.stream_version(&stream).await.unwrap();
        let events = batch(&stream, version, rng.gen_range(1..=3));
        let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
        let roll = rng.gen_range(0..100);
        let outcome = if roll < 10 {
            match store.append_held_open(&stream, version, events).await {
                Ok(held) => {
                    let (hold, commit) = if roll < 2 {
                        (rng.gen_range(100..=500), true)
                    } else {
                        (rng.gen_range(0..=30), false)
                    };
                    tokio::time::sleep(Duration::from_millis(hold)).await;
                    if commit {
                        held.commit().await.map(Some)
                    } else {
                        held.rollback().await.unwrap();
                        ledger.lock().unwrap().rolled_back.extend(ids);
                        done += 1;
                        continue;
                    }
                }
                Err(error) => Err(error),
            }
        } else {
            store.append(&stream, version, events).await.map(Some)
        };
        match outcome {
            Ok(_) => {
                ledger
                    .lock()
                    .unwrap()
                    .committed
                    .extend(ids.into_iter().map(|id| (stream.clone(), id)));
                done += 1;
            }
            Err(EventStoreError::Conflict { .. }) => {}
            Err(error) => panic!("writer {writer}: {error}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_committed_event_is_seen_once_in_order() {
    if !server() {
        return;
    }
    let appends: usize = std::env::var("HIVE_CHAOS_APPENDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if std::env::var("HIVE_SOAK").is_ok_and(|v| v == "1") {
            WRITERS * 1_000
        } else {
            1_500
        });
    let owner = fresh(
        PostgresOptions::default()
            .with_pool_size(48)
            .with_notification_poll(Duration::from_millis(500)),
    )
    .await;
    let _drop = drop_schema(owner.clone());
    let store = Arc::new(owner.event_store());
    let ledger = Arc::new(Mutex::new(Ledger::default()));

    // The reader: follows the log by position, woken by notifications.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let reader = {
        let (store, mut heads, mut stop) = (Arc::clone(&store), owner.notifications(), stop_rx.clone());
        tokio::spawn(async move {
            let mut seen: Vec<EventEnvelope> = Vec::new();
            loop {
                let after = seen.last().and_then(|e| e.global_position).unwrap_or(0);
                let page = store.read_all(after, 200).await.unwrap();
                for (expected, event) in (after + 1..).zip(&page) {
                    assert_eq!(
                        event.global_position,
                        Some(expected),
                        "the reader skipped or repeated a position"
                    );
                }
                let caught_up = page.is_empty();
                seen.extend(page);
                if caught_up {
                    if *stop.borrow() && after == store.head_position().await.unwrap() {
                        return seen;
                    }
                    tokio::select! {
                        _ = heads.next() => {}
                        _ = stop.changed() => {}
                    }
                }
            }
        })
    };

    // The projection, live throughout.
    let counts = Arc::new(Counts::named("chaos-counts"));
    let checkpoints = Arc::new(owner.checkpoint_store());
    let runner =
        Arc::new(ProjectionRunner::new(store.clone(), checkpoints.clone(), counts.clone()).with_batch_size(50));
    let projection = {
        let (runner, mut stop) = (Arc::clone(&runner), stop_rx.clone());
        tokio::spawn(async move {
            runner
                .run_until(None, Duration::from_millis(20), async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await;
        })
    };

    let per_writer = appends.div_ceil(WRITERS);
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(write(Arc::clone(&store), w, per_writer, Arc::clone(&ledger))))
        .collect();
    for writer in writers {
        tokio::time::timeout(Duration::from_secs(300), writer)
            .await
            .expect("writers finish")
            .unwrap();
    }
    stop_tx.send(true).unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .unwrap()
        .unwrap();
    projection.await.unwrap();
    runner.catch_up().await.unwrap();

    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    let head = store.head_position().await.unwrap();
    assert_eq!(
        head as usize,
        ledger.committed.len(),
        "the head is the number of committed events"
    );
    assert_eq!(
        seen.len(),
        ledger.committed.len(),
        "the reader saw every committed event once"
    );
    let seen_ids: HashSet<Uuid> = seen.iter().map(|e| e.event_id).collect();
    assert_eq!(seen_ids.len(), seen.len(), "an event was seen twice");
    assert!(
        ledger.committed.iter().all(|(_, id)| seen_ids.contains(id)),
        "a committed event was not seen"
    );
    assert!(
        ledger.rolled_back.iter().all(|id| !seen_ids.contains(id)),
        "a rolled-back event was seen"
    );
    assert_eq!(
        seen,
        store.read_all(0, seen.len() + 1).await.unwrap(),
        "the reader's log is the log"
    );

    let (last, live, skipped) = counts.snapshot();
    assert!(skipped.is_empty(), "the projection skipped to {skipped:?}");
    assert_eq!(last, head);
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for (stream, _) in &ledger.committed {
        *expected.entry(stream.clone()).or_default() += 1;
    }
    assert_eq!(live, expected, "the live projection counts what the writers committed");
    let fresh_counts = Arc::new(Counts::named("chaos-rebuild"));
    ProjectionRunner::new(store.clone(), checkpoints, fresh_counts.clone())
        .rebuild()
        .await
        .unwrap();
    assert_eq!(fresh_counts.snapshot().1, live, "the live projection equals a rebuild");
    eprintln!(
        "chaos: {} events committed, {} rolled back, {} streams",
        ledger.committed.len(),
        ledger.rolled_back.len(),
        live.len()
    );
}
