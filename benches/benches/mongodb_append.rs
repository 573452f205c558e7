//! `MongoEventStore::append` of 1 event and of a batch of 100 events (a transaction: the
//! version check, the `$inc` of the position counter, `insert_many`, the commit), against a raw
//! driver `insert_many` of equivalent documents (`baseline_raw_insert_many`: the same fields,
//! into a collection with the same indexes, on the same server, no transaction).
//!
//! `raw_transaction` isolates the price of the adapter's guarantees from its own code: the raw
//! driver doing the adapter's round trips for a new stream (`$inc` of a counter document and
//! `insert_many` inside a transaction, then the commit), with none of the adapter's code.
//!
//! Needs a server: reads `HIVE_MONGODB_URI` (`cargo xtask services` prints it) and skips with
//! a notice when it is unset. Each side writes into a database of its own, dropped at the end.

// A failed set-up should stop the bench loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// criterion_group! generates undocumented public items.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{criterion_group, BatchSize, BenchmarkId, Criterion, Throughput};
use hive_benches::{deposits, new_stream};
use hive_domain::{words, EventEnvelope, EventStore};
use hive_store_mongodb::mongodb::bson::{doc, Bson, DateTime, Document};
use hive_store_mongodb::mongodb::options::ReturnDocument;
use hive_store_mongodb::{MongoOptions, MongoStore};

/// The document the adapter writes for `event` at `position` (its field list, built here
/// without the adapter's code).
fn raw_document(event: &EventEnvelope, position: i64) -> Document {
    let text = format!(
        "{} {}",
        event.event_data,
        serde_json::to_string(&event.metadata).unwrap()
    )
    .to_lowercase();
    let mut terms: Vec<&str> = words(&text).collect();
    terms.sort_unstable();
    terms.dedup();
    let data = Bson::try_from(event.event_data.clone()).unwrap();
    let metadata = Bson::try_from(serde_json::to_value(&event.metadata).unwrap()).unwrap();
    doc! {
        "_id": position,
        "eventId": event.event_id.to_string(),
        "aggregateId": &event.aggregate_id,
        "aggregateType": &event.aggregate_type,
        "eventType": &event.event_type,
        "schemaVersion": 1_i64,
        "eventData": data,
        "version": i64::try_from(event.version).unwrap(),
        "timestamp": DateTime::from_chrono(event.timestamp),
        "correlationId": &event.correlation_id,
        "causationId": &event.causation_id,
        "metadata": metadata,
        "globalPosition": position,
        "searchTerms": terms,
    }
}

/// Where the positions of `raw_transaction` start, above the baseline's (same collection).
const RAW_TRANSACTION_POSITIONS: i64 = 1_000_000_000;

async fn open(uri: &str, prefix: &str) -> MongoStore {
    let database = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    MongoStore::connect(uri, MongoOptions::default().with_database(database))
        .await
        .expect("connect")
}

fn mongodb_append(c: &mut Criterion) {
    let Ok(uri) = std::env::var("HIVE_MONGODB_URI") else {
        eprintln!("mongodb_append: skipped, HIVE_MONGODB_URI is not set (run `cargo xtask services` and export it)");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (adapter, raw) =
        runtime.block_on(async { (open(&uri, "hive_bench").await, open(&uri, "hive_bench_raw").await) });
    let events = adapter.event_store();
    let raw_events = raw.database().collection::<Document>("events");
    let raw_counters = raw.database().collection::<Document>("raw_counters");
    let raw_client = raw.client().clone();
    let mut group = c.benchmark_group("mongodb_append");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    let mut streams = 0_u64;
    let mut position = 0_i64;
    for size in [1_usize, 100] {
        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(BenchmarkId::new("store", size), &size, |b, &size| {
            b.to_async(&runtime).iter_batched(
                || new_stream(&mut streams, size).expect("envelopes"),
                |(stream, envelopes)| {
                    let events = events.clone();
                    async move { events.append(&stream, 0, envelopes).await.expect("append") }
                },
                BatchSize::SmallInput,
            );
        });
        group.bench_with_input(BenchmarkId::new("baseline_raw_insert_many", size), &size, |b, &size| {
            b.to_async(&runtime).iter_batched(
                || {
                    streams += 1;
                    let stream = format!("account-{streams}");
                    deposits(&stream, 1, size)
                        .expect("envelopes")
                        .iter()
                        .map(|e| {
                            position += 1;
                            raw_document(e, position)
                        })
                        .collect::<Vec<_>>()
                },
                |documents| {
                    let raw_events = raw_events.clone();
                    async move { raw_events.insert_many(documents).await.expect("insert_many") }
                },
                BatchSize::SmallInput,
            );
        });
        group.bench_with_input(BenchmarkId::new("raw_transaction", size), &size, |b, &size| {
            b.to_async(&runtime).iter_batched(
                || {
                    streams += 1;
                    let stream = format!("account-{streams}");
                    deposits(&stream, 1, size).expect("envelopes")
                },
                |envelopes| {
                    let (raw_events, raw_counters, client) =
                        (raw_events.clone(), raw_counters.clone(), raw_client.clone());
                    async move {
                        let mut session = client.start_session().await.expect("session");
                        session.start_transaction().await.expect("transaction");
                        let count = i64::try_from(envelopes.len()).unwrap();
                        let counter = raw_counters
                            .find_one_and_update(doc! { "_id": "global" }, doc! { "$inc": { "position": count } })
                            .upsert(true)
                            .return_document(ReturnDocument::After)
                            .session(&mut session)
                            .await
                            .expect("$inc")
                            .expect("counter");
                        let last = counter.get_i64("position").expect("position");
                        let documents = envelopes
                            .iter()
                            .zip(last - count + 1..)
                            .map(|(e, p)| raw_document(e, RAW_TRANSACTION_POSITIONS + p));
                        raw_events
                            .insert_many(documents)
                            .session(&mut session)
                            .await
                            .expect("insert_many");
                        session.commit_transaction().await.expect("commit");
                    }
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
    runtime.block_on(async {
        adapter.drop_database().await.expect("drop");
        raw.drop_database().await.expect("drop");
    });
}

criterion_group!(benches, mongodb_append);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
