//! The NATS JetStream connector: how long after an append returns its event is received from
//! JetStream, and how many events per second the `Connector` publishes.
//!
//! `cargo bench -p hive-benches --bench nats` with `HIVE_NATS_URL` set (skipped with a notice
//! without it), on a fresh stream deleted at the end; `HIVE_NATS_SECONDS` sets the length of
//! the load (default 10). Run by `cargo test` (without `--bench`), it is a smoke run.
//!
//! The log is the in-memory store, the checkpoints in memory; the connector (`hive-connector-nats`,
//! pages of 100) is woken by each append as `hive serve` wakes it (the event bus), and a
//! JetStream ordered consumer on the stream notes when it receives each global position.
//!
//! 1. **idle**: 200 single-event appends, 20 ms apart: latency append → received;
//! 2. **under load**: batches of 10 appended every 2 ms (5 000 events/s) for that long: latency
//!    of each batch's last event;
//! 3. **catch-up**: 50 000 events already in the log, published by `Connector::catch_up` from
//!    an empty checkpoint with pages of 100 and of 1 000: events/s (acknowledged by JetStream;
//!    the first page after connecting goes one message at a time, see `NatsSink`).

// A failed measurement should stop loudly, as in the benches.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::pull::OrderedConfig;
use futures::StreamExt;
use hive_application::Connector;
use hive_benches::{deposits, latency_summary, measuring, size_from_env};
use hive_connector_nats::{NatsOptions, NatsSink};
use hive_domain::{EventEnvelope, EventStore};
use hive_store_memory::{MemoryCheckpointStore, MemoryEventStore};
use parking_lot::Mutex;
use tokio::sync::broadcast;

/// When the consumer received each position.
type Seen = Arc<Mutex<HashMap<u64, Instant>>>;

/// Reads the stream with an ordered consumer, noting when each `Hive-Position` arrives.
async fn receive(sink: Arc<NatsSink>, seen: Seen) {
    let stream = sink
        .jetstream()
        .get_stream(&sink.options().stream)
        .await
        .expect("stream");
    let consumer = stream
        .create_consumer(OrderedConfig::default())
        .await
        .expect("consumer");
    let mut messages = consumer.messages().await.expect("messages");
    while let Some(message) = messages.next().await {
        let message = message.expect("message");
        let position = message
            .headers
            .as_ref()
            .and_then(|h| h.get("Hive-Position"))
            .and_then(|v| v.as_str().parse::<u64>().ok())
            .expect("Hive-Position");
        seen.lock().insert(position, Instant::now());
    }
}

/// Appends `batch` events to a new stream and wakes the connector; the last position and when
/// the append returned.
async fn append(
    store: &MemoryEventStore,
    bus: &broadcast::Sender<Arc<EventEnvelope>>,
    stream: &str,
    batch: usize,
) -> (u64, Instant) {
    let stored = store
        .append(stream, 0, deposits(stream, 1, batch).expect("envelopes"))
        .await
        .expect("append");
    let acked = Instant::now();
    let last = stored.last().expect("stored").clone();
    let _ = bus.send(Arc::new(last.clone()));
    (last.global_position.expect("a position"), acked)
}

/// Waits until the consumer received `position`, at most ten seconds.
async fn wait_seen(seen: &Seen, position: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.lock().contains_key(&position) {
        assert!(Instant::now() < deadline, "position {position} never arrived");
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

fn report(phase: &str, seen: &Seen, acks: &[(u64, Instant)]) {
    let seen = seen.lock();
    let mut lags: Vec<Duration> = acks
        .iter()
        .map(|(position, ack)| seen[position].saturating_duration_since(*ack))
        .collect();
    println!(
        "{phase}: {} appends, append → received {}",
        lags.len(),
        latency_summary(&mut lags)
    );
}

/// A sink on a stream of its own.
async fn fresh_sink(url: &str) -> Arc<NatsSink> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let options = NatsOptions::new(url)
        .with_stream(format!("HIVE_BENCH_{id}"))
        .with_subject_prefix(format!("hive-bench.{id}"));
    let sink = Arc::new(NatsSink::connect(options).await.expect("connect"));
    sink.ensure_stream().await.expect("stream");
    sink
}

async fn delete(sink: &NatsSink) {
    sink.jetstream()
        .delete_stream(&sink.options().stream)
        .await
        .expect("delete the bench stream");
}

async fn latency(url: &str, idle_appends: usize, seconds: u64) {
    let sink = fresh_sink(url).await;
    let store = Arc::new(MemoryEventStore::new());
    let connector = Arc::new(Connector::new(
        "bench",
        store.clone(),
        Arc::new(MemoryCheckpointStore::new()),
        sink.clone(),
    ));
    let (bus, wake) = broadcast::channel(1024);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn({
        let connector = connector.clone();
        async move {
            connector
                .run_until(Some(wake), Duration::from_secs(1), async {
                    let _ = stopped.await;
                })
                .await;
        }
    });
    let seen: Seen = Arc::default();
    let receiver = tokio::spawn(receive(sink.clone(), seen.clone()));

    let mut idle = Vec::new();
    for i in 0..idle_appends {
        let ack = append(&store, &bus, &format!("idle-{i}"), 1).await;
        wait_seen(&seen, ack.0).await;
        idle.push(ack);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    report("idle", &seen, &idle);

    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut load = Vec::new();
    // Batches of 10 every 2 ms: 5 000 events/s, below what the connector publishes.
    let mut tick = tokio::time::interval(Duration::from_millis(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for i in 0.. {
        tick.tick().await;
        if Instant::now() >= until {
            break;
        }
        load.push(append(&store, &bus, &format!("load-{i}"), 10).await);
    }
    let appended = started.elapsed();
    let last = load.iter().map(|(position, _)| *position).max().expect("appends");
    wait_seen(&seen, last).await;
    let published = started.elapsed();
    report("load, 10 events every 2 ms", &seen, &load);
    println!(
        "load: {} events appended in {:.1} s ({:.0} events/s), all received after {:.1} s",
        load.len() * 10,
        appended.as_secs_f64(),
        (load.len() * 10) as f64 / appended.as_secs_f64(),
        published.as_secs_f64(),
    );
    stop.send(()).expect("stop");
    running.await.expect("connector");
    receiver.abort();
    delete(&sink).await;
}

async fn throughput(url: &str, events: usize, page_size: usize) {
    let sink = fresh_sink(url).await;
    let store = Arc::new(MemoryEventStore::new());
    for (i, chunk) in (0..events).collect::<Vec<_>>().chunks(100).enumerate() {
        store
            .append(
                &format!("s-{i}"),
                0,
                deposits(&format!("s-{i}"), 1, chunk.len()).expect("envelopes"),
            )
            .await
            .expect("append");
    }
    let connector =
        Connector::new("bench", store, Arc::new(MemoryCheckpointStore::new()), sink.clone()).with_page_size(page_size);
    let started = Instant::now();
    let published = connector.catch_up().await.expect("catch up");
    let elapsed = started.elapsed();
    assert_eq!(published, events as u64);
    println!(
        "catch-up, pages of {page_size}: {events} events published in {:.2} s: {:.0} events/s",
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64()
    );
    delete(&sink).await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let Ok(url) = std::env::var("HIVE_NATS_URL") else {
        eprintln!("nats: skipped, HIVE_NATS_URL is not set (run `cargo xtask services` and export it)");
        return ExitCode::SUCCESS;
    };
    let seconds = match size_from_env("HIVE_NATS_SECONDS", 10, 1) {
        Ok(seconds) => seconds,
        Err(message) => {
            eprintln!("nats: {message}");
            return ExitCode::from(2);
        }
    };
    let measuring = measuring();
    latency(&url, if measuring { 200 } else { 20 }, seconds).await;
    let events = if measuring { 50_000 } else { 2_000 };
    throughput(&url, events, 100).await;
    throughput(&url, events, 1_000).await;
    ExitCode::SUCCESS
}
