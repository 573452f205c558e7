//! Issue #9 on MongoDB. R1: 32 concurrent writers through the billing command bus, on one
//! payment stream and on many (see `hive_testkit::reliability`); `cargo xtask soak` runs them
//! with 1000 commands per writer. R7: a projection runner never advances past an append that is
//! still open, and applies it once it commits.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::{drop_database, fresh, fresh_default, server};
use hive_application::{ApplicationError, Projection, ProjectionRunner};
use hive_billing::BillingPorts;
use hive_domain::{EventEnvelope, EventStore};
use hive_store_memory::billing::{MemoryPaymentReadModel, MemoryPaymentSearchIndex};
use hive_store_mongodb::{MongoEventStore, MongoOptions, TransactionMode};
use hive_testkit::reliability::{concurrent_writers, Load};
use serde_json::json;

const WRITERS: usize = 32;
const SOAK_COMMANDS: usize = 1000;

async fn r1(load: Load, name: &str) {
    let store = fresh_default().await;
    let _drop = drop_database(store.clone());
    let events = store.event_store();
    let ports = BillingPorts {
        event_store: events.capabilities(),
        snapshot_store: Arc::new(store.snapshot_store()),
        read_model: Arc::new(store.payment_read_model().await.unwrap()),
        search_index: Arc::new(MemoryPaymentSearchIndex::new()),
    };
    let report = concurrent_writers(
        ports,
        Arc::new(store.checkpoint_store()),
        Arc::new(MemoryPaymentReadModel::new()),
        load,
    )
    .await;
    eprintln!(
        "mongodb, {name}: {} commands, {} acknowledged, {} conflicts, {} timed out ({} of them stored once), {} events audited, 0 lost",
        report.commands, report.acknowledged, report.conflicts, report.timed_out, report.timed_out_stored, report.events
    );
    assert_eq!(
        report.acknowledged + report.conflicts + report.timed_out,
        report.commands
    );
    assert!(report.acknowledged > 0, "nothing was acknowledged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r1_same_stream() {
    if !server() {
        return;
    }
    r1(Load::same_stream(WRITERS, 4).soaked(SOAK_COMMANDS), "one stream").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r1_many_streams() {
    if !server() {
        return;
    }
    r1(Load::many_streams(WRITERS, 8).soaked(SOAK_COMMANDS), "many streams").await;
}

/// Records the global positions it is handed.
#[derive(Default)]
struct Recorder(Mutex<Vec<u64>>);

#[async_trait]
impl Projection for Recorder {
    fn name(&self) -> &str {
        "r7-recorder"
    }

    async fn apply(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        self.0.lock().unwrap().push(event.global_position.unwrap());
        Ok(())
    }

    async fn reset(&self) -> Result<(), ApplicationError> {
        self.0.lock().unwrap().clear();
        Ok(())
    }
}

fn events(stream: &str, count: u64) -> Vec<EventEnvelope> {
    (1..=count)
        .map(|v| EventEnvelope::new(stream, "Held", "Probed", json!({ "v": v }), v))
        .collect()
}

/// R7: one append held open while later appends try to commit; the runner stops before it, then
/// applies it and everything after, once each, in order.
async fn runner_waits_for_an_open_append(options: MongoOptions) {
    let store = fresh(options.with_lookup_indexes(false)).await;
    let _drop = drop_database(store.clone());
    let events_store: Arc<MongoEventStore> = Arc::new(store.event_store());
    let recorder = Arc::new(Recorder::default());
    let runner = ProjectionRunner::new(
        events_store.clone(),
        Arc::new(store.checkpoint_store()),
        recorder.clone(),
    )
    .with_batch_size(2);

    events_store.append("before", 0, events("before", 2)).await.unwrap();
    let held = events_store
        .append_held_open("slow", 0, events("slow", 2))
        .await
        .unwrap();
    let later: Vec<_> = (0..3)
        .map(|i| {
            let store = Arc::clone(&events_store);
            tokio::spawn(async move {
                let stream = format!("later-{i}");
                store.append(&stream, 0, events(&stream, 1)).await.unwrap()
            })
        })
        .collect();
    for _ in 0..5 {
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
        let report = runner.catch_up().await.unwrap();
        assert_eq!(report.position, 2, "the runner moved past the open append");
    }
    assert_eq!(*recorder.0.lock().unwrap(), [1, 2]);

    held.commit().await.unwrap();
    for handle in later {
        handle.await.unwrap();
    }
    let report = runner.catch_up().await.unwrap();
    assert_eq!(report.position, 7);
    assert_eq!(
        *recorder.0.lock().unwrap(),
        [1, 2, 3, 4, 5, 6, 7],
        "every event applied once, in commit order, none skipped"
    );
    assert_eq!(runner.catch_up().await.unwrap().applied, 0, "nothing applied twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r7_transactions_runner_waits_for_an_open_append() {
    if !server() {
        return;
    }
    runner_waits_for_an_open_append(MongoOptions::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r7_fallback_runner_waits_for_an_open_append() {
    if !server() {
        return;
    }
    runner_waits_for_an_open_append(MongoOptions::default().with_transactions(TransactionMode::Never)).await;
}
