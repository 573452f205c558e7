//! R1 (issue #9): 32 concurrent writers through the billing command bus, on one payment stream
//! and on many, over the in-memory and the durable (group commit) store; see
//! `hive_testkit::reliability`. `cargo xtask soak` runs them with 1000 commands per writer.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use hive_billing::BillingPorts;
use hive_store_memory::billing::{MemoryPaymentReadModel, MemoryPaymentSearchIndex};
use hive_store_memory::{DurableOptions, MemoryCheckpointStore, MemoryEventStore, MemorySnapshotStore};
use hive_testkit::reliability::{concurrent_writers, Load, Report};

const WRITERS: usize = 32;
const SOAK_COMMANDS: usize = 1000;

fn ports(events: MemoryEventStore, snapshots: MemorySnapshotStore) -> BillingPorts {
    BillingPorts {
        event_store: events.capabilities(),
        snapshot_store: Arc::new(snapshots),
        read_model: Arc::new(MemoryPaymentReadModel::new()),
        search_index: Arc::new(MemoryPaymentSearchIndex::new()),
    }
}

async fn in_memory(load: Load) -> Report {
    let ports = ports(MemoryEventStore::new(), MemorySnapshotStore::new());
    concurrent_writers(
        ports,
        Arc::new(MemoryCheckpointStore::new()),
        Arc::new(MemoryPaymentReadModel::new()),
        load,
    )
    .await
}

async fn durable(load: Load) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let events = MemoryEventStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    let snapshots = MemorySnapshotStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    let report = concurrent_writers(
        ports(events.clone(), snapshots),
        Arc::new(MemoryCheckpointStore::new()),
        Arc::new(MemoryPaymentReadModel::new()),
        load,
    )
    .await;
    // What was acknowledged is on disk: a reopened log holds the same events.
    let head = hive_domain::EventStore::head_position(&events).await.unwrap();
    events.close().await.unwrap();
    // The last handle joins the writer thread, which holds the log's lock (close() answers
    // before the thread has let go of the file).
    drop(events);
    let reopened = MemoryEventStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    assert_eq!(hive_domain::EventStore::head_position(&reopened).await.unwrap(), head);
    report
}

fn show(name: &str, report: Report) {
    eprintln!(
        "{name}: {} commands, {} acknowledged, {} conflicts, {} timed out ({} of them stored once), {} events audited, 0 lost",
        report.commands, report.acknowledged, report.conflicts, report.timed_out, report.timed_out_stored, report.events
    );
    assert_eq!(
        report.acknowledged + report.conflicts + report.timed_out,
        report.commands
    );
    assert!(report.acknowledged > 0, "{name}: nothing was acknowledged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_same_stream() {
    let load = Load::same_stream(WRITERS, 50).soaked(SOAK_COMMANDS);
    show("memory, one stream", in_memory(load).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_many_streams() {
    let load = Load::many_streams(WRITERS, 100).soaked(SOAK_COMMANDS);
    show("memory, many streams", in_memory(load).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn durable_same_stream() {
    let load = Load::same_stream(WRITERS, 50).soaked(SOAK_COMMANDS);
    show("memory-durable, one stream", durable(load).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn durable_many_streams() {
    let load = Load::many_streams(WRITERS, 100).soaked(SOAK_COMMANDS);
    show("memory-durable, many streams", durable(load).await);
}
