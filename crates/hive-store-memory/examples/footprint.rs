//! Measures what a durable `MemoryEventStore` keeps in memory and how long it takes to open,
//! each step in a fresh process:
//!
//! ```text
//! cargo run --release -p hive-store-memory --example footprint -- seed 1000000 /tmp/hive-footprint
//! cargo run --release -p hive-store-memory --example footprint -- open /tmp/hive-footprint
//! ```
//!
//! `seed` appends payment-like events (`hive_testkit::synthetic`) to the data directory,
//! writing index checkpoints as by default (every 100 000 events, and on close); `append`
//! appends more without writing any, so that the next open replays them after the checkpoint;
//! `checkpoint` opens and closes the store, which writes a checkpoint of everything; `open`
//! reopens it without writing any (from the checkpoint and the log after it, or from the whole
//! log when the checkpoint is moved away), then reads the whole log once (which fills the
//! body cache) and times a few look-ups. Each step prints events, index bytes, cached bytes,
//! resident memory and time; the store's own log lines (`RUST_LOG`, by default
//! `hive_store_memory=debug`) say how it opened and, for each checkpoint written, how long
//! encoding it held the index's read lock and how long writing it took.

use std::time::Instant;

use futures::StreamExt;
use hive_domain::{EventCriteria, EventLookup, EventSearch, EventStore, Page, TimeRange};
use hive_store_memory::{DurableOptions, FsyncPolicy, MemoryEventStore};
use hive_testkit::synthetic::{append_payment_like, EVENTS_PER_PAYMENT};

/// The resident set size of this process in MiB (Linux), if known.
fn resident_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn report(step: &str, store: &MemoryEventStore, started: Instant) {
    let stats = store.stats();
    println!(
        "{step:<28} {:>9} events  index {:>7.1} MiB ({:>5.1} B/event)  cache {:>6.1} MiB  resident {:>7.1} MiB  {:>6.2} s",
        stats.events,
        stats.index_bytes as f64 / (1 << 20) as f64,
        stats.index_bytes_per_event(),
        stats.body_cache_bytes as f64 / (1 << 20) as f64,
        resident_mib().unwrap_or(f64::NAN),
        started.elapsed().as_secs_f64(),
    );
}

/// Times a few look-ups on the reopened store.
async fn look_ups(store: &MemoryEventStore) -> Result<(), Box<dyn std::error::Error>> {
    let sample = store.read_all(store.head_position().await? / 2, 1).await?;
    let Some(event) = sample.first() else {
        return Ok(());
    };
    let by_organization = EventCriteria {
        organization_id: event.metadata.organization_id.clone(),
        event_types: vec!["PaymentCreated".into()],
        ..EventCriteria::default()
    };
    let by_correlation = EventCriteria {
        correlation_id: Some(event.correlation_id.clone()),
        ..EventCriteria::default()
    };
    let by_time = EventCriteria {
        time_range: TimeRange::between(event.timestamp, event.timestamp + chrono::Duration::hours(1)),
        ..EventCriteria::default()
    };
    for (what, criteria) in [
        ("organization and type", by_organization),
        ("correlation id", by_correlation),
        ("one hour", by_time),
    ] {
        let started = Instant::now();
        let page = store.search(&criteria, Page::first(100).newest_first()).await?;
        println!(
            "search by {what:<22} {:>7} matches  {:>8.2} ms",
            page.total,
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    let started = Instant::now();
    let found = store.event_by_id(event.event_id).await?.is_some();
    println!(
        "event by id ({found})            {:>8.3} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let started = Instant::now();
    let stream = store.read_stream(&event.aggregate_id, 1).count().await;
    println!(
        "read a stream ({stream} events)       {:>8.3} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}

/// Opens the store in `dir`, appends `events` payment-like events and closes it.
async fn append(dir: &str, events: usize, options: DurableOptions) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let store = MemoryEventStore::open(dir, options).await?;
    report("opened", &store, started);
    let started = Instant::now();
    append_payment_like(&store, events / EVENTS_PER_PAYMENT, 256).await?;
    report("appended", &store, started);
    let started = Instant::now();
    store.close().await?;
    report("closed", &store, started);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("hive_store_memory=debug"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = DurableOptions::default().with_fsync(FsyncPolicy::Never);
    let without_checkpoints = options.clone().with_index_checkpoint_every(0);
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["seed", events, dir] => append(dir, events.parse()?, options).await?,
        ["append", events, dir] => append(dir, events.parse()?, without_checkpoints).await?,
        ["checkpoint", dir] => {
            let started = Instant::now();
            let store = MemoryEventStore::open(dir, options).await?;
            report("opened", &store, started);
            let started = Instant::now();
            store.close().await?;
            report("closed (checkpoint written)", &store, started);
        }
        ["open", dir] => {
            let started = Instant::now();
            let store = MemoryEventStore::open(dir, without_checkpoints).await?;
            report("reopened", &store, started);
            let checkpoint = std::path::Path::new(dir).join(hive_store_memory::INDEX_CHECKPOINT_FILE);
            if let Ok(metadata) = std::fs::metadata(checkpoint) {
                println!(
                    "index checkpoint: {:.1} MiB, {:.1} B/event",
                    metadata.len() as f64 / (1 << 20) as f64,
                    metadata.len() as f64 / store.stats().events.max(1) as f64
                );
            }
            let started = Instant::now();
            let head = store.head_position().await?;
            let mut read = 0;
            while read < head {
                read += store.read_all(read, 1_000).await?.len() as u64;
            }
            report("read everything once", &store, started);
            look_ups(&store).await?;
            let log = std::fs::metadata(std::path::Path::new(dir).join(hive_store_memory::EVENT_LOG_FILE))?.len();
            println!(
                "log: {:.1} MiB, {:.0} B/event",
                log as f64 / (1 << 20) as f64,
                log as f64 / head.max(1) as f64
            );
        }
        _ => {
            return Err(
                "usage: footprint seed <events> <dir> | append <events> <dir> | checkpoint <dir> | open <dir>".into(),
            )
        }
    }
    Ok(())
}
