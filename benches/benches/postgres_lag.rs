//! Projection lag on PostgreSQL: how long after an append is acknowledged a follower of the
//! global log woken by `LISTEN/NOTIFY` ([`PostgresStore::notifications`]) has read it.
//!
//! `cargo bench -p hive-benches --bench postgres_lag` with `HIVE_POSTGRES_URL` set (skipped
//! with a notice without it), on a fresh schema dropped at the end; `HIVE_LAG_SECONDS` sets
//! the length of the load (default 10). Run by `cargo test` (without `--bench`), it is a smoke
//! run: 20 idle appends and 1 second of load.
//!
//! 1. **idle**: 200 single-event appends, 20 ms apart, nothing else running;
//! 2. **under load**: eight writers appending batches of 100 to streams of their own for
//!    that long, as the `postgres_writers` group of the `postgres` bench does.
//!
//! For each append, the lag is the time from the append's return to the follower's read of its
//! last event (zero when the follower read it before the writer saw its acknowledgement). It
//! prints p50, p99 and the maximum of each phase, and the load's events per second.

// A failed measurement should stop loudly, as in the benches.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use hive_benches::{deposits, latency_summary, measuring, size_from_env};
use hive_domain::EventStore;
use hive_store_postgres::{PostgresEventStore, PostgresOptions, PostgresStore};
use parking_lot::Mutex;

/// When the follower read each position.
type Seen = Arc<Mutex<HashMap<u64, Instant>>>;

/// Reads the log as the notifications say it grows, noting when it read each position.
async fn follow(store: PostgresStore, seen: Seen) {
    let events = store.event_store();
    let mut heads = store.notifications();
    let mut after = 0;
    while let Some(head) = heads.next().await {
        while after < head {
            let page = events.read_all(after, 1_000).await.expect("read_all");
            let now = Instant::now();
            let mut seen = seen.lock();
            for event in &page {
                let position = event.global_position.expect("a stored event has a position");
                seen.insert(position, now);
                after = after.max(position);
            }
        }
    }
}

/// Appends `batch` events to a new stream; the last position and when the append returned.
async fn append(events: &PostgresEventStore, stream: &str, batch: usize) -> (u64, Instant) {
    let stored = events
        .append(stream, 0, deposits(stream, 1, batch).expect("envelopes"))
        .await
        .expect("append");
    let last = stored.last().and_then(|e| e.global_position).expect("a position");
    (last, Instant::now())
}

/// Waits until the follower has read `position`, at most five seconds.
async fn wait_seen(seen: &Seen, position: u64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !seen.lock().contains_key(&position) {
        assert!(
            Instant::now() < deadline,
            "the follower did not read position {position}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Lags of `acks`, sorted.
fn lags(seen: &Seen, acks: &[(u64, Instant)]) -> Vec<Duration> {
    let seen = seen.lock();
    let mut lags: Vec<Duration> = acks
        .iter()
        .map(|(position, ack)| seen[position].saturating_duration_since(*ack))
        .collect();
    lags.sort_unstable();
    lags
}

fn report(phase: &str, mut lags: Vec<Duration>) {
    println!("{phase}: {} appends, lag {}", lags.len(), latency_summary(&mut lags));
}

async fn measure(url: &str, idle_appends: usize, seconds: u64) {
    let schema = format!("bench_lag_{}", uuid::Uuid::new_v4().simple());
    let store = PostgresStore::connect(url, PostgresOptions::default().with_schema(schema))
        .await
        .expect("connect");
    let seen: Seen = Arc::default();
    let follower = tokio::spawn(follow(store.clone(), Arc::clone(&seen)));
    let events = store.event_store();

    let mut idle = Vec::new();
    for i in 0..idle_appends {
        let ack = append(&events, &format!("idle-{i}"), 1).await;
        wait_seen(&seen, ack.0).await;
        idle.push(ack);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    report("idle", lags(&seen, &idle));

    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let writers = (0..8).map(|writer| {
        let events = events.clone();
        tokio::spawn(async move {
            let mut acks = Vec::new();
            for i in 0.. {
                if Instant::now() >= until {
                    break;
                }
                acks.push(append(&events, &format!("load-{writer}-{i}"), 100).await);
            }
            acks
        })
    });
    let mut load = Vec::new();
    for writer in writers.collect::<Vec<_>>() {
        load.extend(writer.await.expect("writer"));
    }
    let elapsed = started.elapsed();
    let last = load.iter().map(|(position, _)| *position).max().expect("appends");
    wait_seen(&seen, last).await;
    report("8 writers × 100", lags(&seen, &load));
    println!(
        "8 writers × 100: {:.0} events/s over {:.1} s",
        (load.len() * 100) as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    follower.abort();
    store.drop_schema().await.expect("drop the schema");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let Ok(url) = std::env::var("HIVE_POSTGRES_URL") else {
        eprintln!("postgres_lag: skipped, HIVE_POSTGRES_URL is not set (run `cargo xtask services` and export it)");
        return ExitCode::SUCCESS;
    };
    let seconds = match size_from_env("HIVE_LAG_SECONDS", 10, 1) {
        Ok(seconds) => seconds,
        Err(message) => {
            eprintln!("postgres_lag: {message}");
            return ExitCode::from(2);
        }
    };
    measure(&url, if measuring() { 200 } else { 20 }, seconds).await;
    ExitCode::SUCCESS
}
