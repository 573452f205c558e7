//! The Elasticsearch adapter on a live engine (`HIVE_ELASTICSEARCH_URL`: the OpenSearch node
//! of `cargo xtask services`, or an Elasticsearch 8 of your own), each figure beside a raw
//! baseline on the same node in the same run:
//!
//! * `es_append`: `EsEventStore::append` of 1 and of 100 events to a new stream (the commit
//!   document, the global sequence, the events published with `refresh=true`) against
//!   `baseline_raw_bulk`, one `_bulk` request (also `refresh=true`) of the same event documents
//!   into an index with the same settings and mapping, sent with a bare HTTP client.
//! * `es_payments`: over 10 000 payments of one organization, a payment search with text
//!   (`search`), and the statistics of the organization (`statistics_elasticsearch`, terms and
//!   sum aggregations over the `payments` index) against the same query on the in-memory read
//!   model (`statistics_memory`) holding the same payments.
//!
//! Each group first runs its operations unmeasured for 15 s: the node's JVM warms up much
//! slower than criterion's warm-up, and the first group measured would otherwise pay for it.
//!
//! Skipped with a notice when `HIVE_ELASTICSEARCH_URL` is unset. Every index it creates
//! (`hive-bench-<uuid>-*`) is deleted at the end.

// A failed set-up should stop the bench loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// criterion_group! generates undocumented public items.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{criterion_group, BatchSize, BenchmarkId, Criterion, Throughput};
use hive_benches::{deposits, new_stream, payment_view, payment_views_start, BENCH_ORG};
use hive_billing::{PaymentReadModel, PaymentRecord, PaymentSearchCriteria, PaymentSearchIndex};
use hive_domain::{EventEnvelope, EventStore, TimeRange};
use hive_store_elasticsearch::{mapping, EsOptions, EsStore, Refresh};
use hive_store_memory::billing::MemoryPaymentReadModel;
use serde_json::json;

/// Payments in the read-side figures.
const PAYMENTS: u64 = 10_000;

/// How long each group runs its operations unmeasured first, to warm the node's JIT.
const WARM_UP: Duration = Duration::from_secs(15);

/// The `_bulk` lines the adapter publishes for `events` (its document shape, built here
/// without the adapter's code), into `index`, positions from `first`.
fn raw_bulk(index: &str, events: &[EventEnvelope], first: u64) -> String {
    let mut lines = String::new();
    for (event, position) in events.iter().zip(first..) {
        let action = json!({"index": {"_index": index, "_id": format!("{}:{}", event.aggregate_id, event.version)}});
        let mut doc = serde_json::to_value(event).unwrap();
        doc["globalPosition"] = json!(position);
        doc[mapping::SEARCH_TEXT] = json!(hive_domain::searchable_text(event));
        lines.push_str(&action.to_string());
        lines.push('\n');
        lines.push_str(&doc.to_string());
        lines.push('\n');
    }
    lines
}

fn elasticsearch(c: &mut Criterion) {
    let Ok(url) = std::env::var("HIVE_ELASTICSEARCH_URL") else {
        eprintln!(
            "elasticsearch: skipped, HIVE_ELASTICSEARCH_URL is not set (run `cargo xtask services` and export it)"
        );
        return;
    };
    let url = url.trim_end_matches('/').to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let prefix = format!("hive-bench-{}", uuid::Uuid::new_v4().simple());
    let options = EsOptions::new(&url)
        .with_prefix(&prefix)
        .with_refresh(Refresh::Immediate);
    let store = runtime.block_on(EsStore::connect(options)).expect("connect");
    let http = reqwest::Client::new();
    let raw_index = format!("{prefix}-raw-events");
    runtime.block_on(async {
        let body = json!({
            "settings": {"number_of_shards": 1, "number_of_replicas": 0, "analysis": mapping::events_analysis()},
            "mappings": mapping::events()
        });
        let reply = http.put(format!("{url}/{raw_index}")).json(&body).send().await.unwrap();
        assert!(reply.status().is_success(), "{}", reply.text().await.unwrap());
    });

    append(c, &runtime, &store, &http, &url, &raw_index);
    payments(c, &runtime, &store);

    runtime.block_on(async {
        store.delete_indices().await.expect("delete the bench indices");
        http.delete(format!("{url}/{raw_index}")).send().await.unwrap();
    });
}

fn append(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    store: &EsStore,
    http: &reqwest::Client,
    url: &str,
    raw_index: &str,
) {
    let events = store.event_store();
    // The node's JIT warms up far slower than criterion's warm-up: run both sides for a while
    // first, so neither is measured on a cold JVM (the first measured group would be).
    runtime.block_on(async {
        let until = std::time::Instant::now() + WARM_UP;
        let mut n = 0_u64;
        while std::time::Instant::now() < until {
            n += 1;
            let stream = format!("warm-up-{n}");
            let envelopes = deposits(&stream, 1, if n.is_multiple_of(2) { 100 } else { 1 }).expect("envelopes");
            let lines = raw_bulk(raw_index, &envelopes, 1_000_000_000 + n * 100);
            events.append(&stream, 0, envelopes).await.expect("append");
            let reply = http
                .post(format!("{url}/_bulk?refresh=true"))
                .header("content-type", "application/x-ndjson")
                .body(lines)
                .send()
                .await
                .expect("bulk");
            assert!(reply.status().is_success());
        }
    });
    let mut group = c.benchmark_group("es_append");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    let mut streams = 0_u64;
    let mut position = 0_u64;
    for size in [1_usize, 100] {
        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(BenchmarkId::new("store", size), &size, |b, &size| {
            b.to_async(runtime).iter_batched(
                || new_stream(&mut streams, size).expect("envelopes"),
                |(stream, envelopes)| {
                    let events = events.clone();
                    async move { events.append(&stream, 0, envelopes).await.expect("append") }
                },
                BatchSize::SmallInput,
            );
        });
        group.bench_with_input(BenchmarkId::new("baseline_raw_bulk", size), &size, |b, &size| {
            b.to_async(runtime).iter_batched(
                || {
                    streams += 1;
                    let stream = format!("account-{streams}");
                    let envelopes = deposits(&stream, 1, size).expect("envelopes");
                    let lines = raw_bulk(raw_index, &envelopes, position + 1);
                    position += size as u64;
                    lines
                },
                |lines| {
                    let request = http
                        .post(format!("{url}/_bulk?refresh=true"))
                        .header("content-type", "application/x-ndjson")
                        .body(lines);
                    async move {
                        let reply = request.send().await.expect("bulk");
                        assert!(reply.status().is_success());
                        let body: serde_json::Value = reply.json().await.expect("bulk answer");
                        assert_eq!(body["errors"], false, "{body}");
                    }
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn payments(c: &mut Criterion, runtime: &tokio::runtime::Runtime, store: &EsStore) {
    let read_model = store.payment_read_model();
    let search_index = store.payment_search_index();
    let memory = MemoryPaymentReadModel::new();
    runtime.block_on(async {
        read_model.ensure_index().await.expect("payments index");
        let records: Vec<PaymentRecord> = (0..PAYMENTS)
            .map(|n| PaymentRecord {
                payment: payment_view(n),
                position: n + 1,
            })
            .collect();
        for chunk in records.chunks(1_000) {
            read_model.upsert_many(chunk.to_vec()).await.expect("upsert_many");
            memory.upsert_many(chunk.to_vec()).await.expect("memory upsert_many");
        }
    });
    let range = TimeRange::between(
        payment_views_start(),
        payment_views_start() + chrono::Duration::days(31),
    );
    let (es_stats, memory_stats) = runtime.block_on(async {
        (
            read_model.statistics(BENCH_ORG, range).await.expect("statistics"),
            memory.statistics(BENCH_ORG, range).await.expect("memory statistics"),
        )
    });
    assert_eq!(es_stats, memory_stats, "both read models answer the same");
    let criteria = PaymentSearchCriteria {
        organization_id: BENCH_ORG.into(),
        text: Some("compute 4242".into()),
        limit: 20,
        ..PaymentSearchCriteria::default()
    };

    runtime.block_on(async {
        let until = std::time::Instant::now() + WARM_UP;
        while std::time::Instant::now() < until {
            search_index.search(&criteria).await.expect("search");
            read_model.statistics(BENCH_ORG, range).await.expect("statistics");
        }
    });
    let mut group = c.benchmark_group("es_payments");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("search", |b| {
        b.to_async(runtime)
            .iter(|| async { search_index.search(&criteria).await.expect("search") });
    });
    group.bench_function("statistics_elasticsearch", |b| {
        b.to_async(runtime)
            .iter(|| async { read_model.statistics(BENCH_ORG, range).await.expect("statistics") });
    });
    group.bench_function("statistics_memory", |b| {
        b.to_async(runtime)
            .iter(|| async { memory.statistics(BENCH_ORG, range).await.expect("statistics") });
    });
    group.finish();
}

criterion_group!(benches, elasticsearch);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
