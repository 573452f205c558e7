//! The PostgreSQL adapter on a live server, each figure beside a raw baseline on the same
//! server in the same run:
//!
//! * `postgres_append/store/{1,100}`: `PostgresEventStore::append` of a new stream (the
//!   stream row, the global position row, the insert, `pg_notify`: one statement, its own
//!   transaction), against `baseline_raw_insert/{1,100}`: one `INSERT … SELECT FROM unnest`
//!   of the same rows into a table of the same shape and indexes, its own transaction,
//!   positions counted by the client (no stream row, no global row, no notification), the rows
//!   made from the same envelopes inside the measured time, as the adapter does;
//! * `postgres_writers/batches_of_100_8_writers`: eight concurrent writers appending
//!   batches of 100 to streams of their own (events per second);
//! * `postgres_rebuild/read_all/20000` (a rebuild's reads: the whole log through `read_all` in
//!   pages of 1 000, decoded into envelopes and folded into counts per event type) against
//!   `baseline_raw_select/20000` (one `SELECT` of the same columns in position order, rows
//!   decoded into plain values, the same fold).
//!
//! Needs a server: reads `HIVE_POSTGRES_URL` (`cargo xtask services` prints it) and skips with
//! a notice when it is unset. Each run writes into schemas of its own, dropped at the end.

// A failed set-up should stop the bench loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// criterion_group! generates undocumented public items.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BatchSize, BenchmarkId, Criterion, Throughput};
use hive_benches::{deposits, new_stream};
use hive_domain::{searchable_text, words, EventEnvelope, EventStore};
use hive_store_postgres::deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use hive_store_postgres::tokio_postgres::{self, NoTls};
use hive_store_postgres::{PostgresEventStore, PostgresOptions, PostgresStore};

/// Writers of the concurrent group.
const WRITERS: usize = 8;
/// Appends of 100 events each writer makes per measured round.
const APPENDS_PER_WRITER: usize = 5;
/// Events in the log the rebuild group reads.
const REBUILD_EVENTS: usize = 20_000;

/// A store on a fresh schema, and the pool it uses (the baselines take their connections
/// from the same pool).
async fn open(url: &str, prefix: &str) -> (PostgresStore, Pool) {
    let schema = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let config: tokio_postgres::Config = url.parse().expect("HIVE_POSTGRES_URL");
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager).max_size(16).build().expect("pool");
    let options = PostgresOptions::default().with_schema(schema);
    let store = PostgresStore::with_pool(pool.clone(), options).await.expect("connect");
    (store, pool)
}

/// The baseline's table: the adapter's `events` table copied with its indexes.
async fn raw_table(client: &Object, schema: &str) -> String {
    let table = format!("\"{schema}\".raw_events");
    client
        .batch_execute(&format!(
            "CREATE TABLE {table} (LIKE \"{schema}\".events INCLUDING ALL)"
        ))
        .await
        .expect("create the baseline's table");
    table
}

/// The rows of `events` at positions from `first`, as the baseline binds them.
struct RawRows {
    positions: Vec<i64>,
    ids: Vec<uuid::Uuid>,
    streams: Vec<String>,
    aggregate_types: Vec<String>,
    types: Vec<String>,
    schema_versions: Vec<i32>,
    versions: Vec<i64>,
    recorded_at: Vec<chrono::DateTime<chrono::Utc>>,
    correlations: Vec<String>,
    causations: Vec<String>,
    data: Vec<serde_json::Value>,
    metadata: Vec<serde_json::Value>,
    terms: Vec<Vec<String>>,
}

impl RawRows {
    fn of(events: &[EventEnvelope], first: i64) -> Self {
        let terms = |event: &EventEnvelope| {
            let text = searchable_text(event);
            let mut terms: Vec<String> = words(&text).map(str::to_owned).collect();
            terms.sort_unstable();
            terms.dedup();
            terms
        };
        Self {
            positions: (first..).take(events.len()).collect(),
            ids: events.iter().map(|e| e.event_id).collect(),
            streams: events.iter().map(|e| e.aggregate_id.clone()).collect(),
            aggregate_types: events.iter().map(|e| e.aggregate_type.clone()).collect(),
            types: events.iter().map(|e| e.event_type.clone()).collect(),
            schema_versions: events.iter().map(|e| e.schema_version as i32).collect(),
            versions: events.iter().map(|e| e.version as i64).collect(),
            recorded_at: events.iter().map(|e| e.timestamp).collect(),
            correlations: events.iter().map(|e| e.correlation_id.clone()).collect(),
            causations: events.iter().map(|e| e.causation_id.clone()).collect(),
            data: events.iter().map(|e| e.event_data.clone()).collect(),
            metadata: events
                .iter()
                .map(|e| serde_json::to_value(&e.metadata).unwrap())
                .collect(),
            terms: events.iter().map(terms).collect(),
        }
    }
}

/// The baseline: the rows inserted by one statement, its own transaction (one round trip, as
/// the adapter's append).
async fn raw_insert(client: &Object, table: &str, rows: &RawRows) {
    let statement = format!(
        "INSERT INTO {table} (global_position, event_id, aggregate_id, aggregate_type, event_type, \
         schema_version, version, recorded_at, correlation_id, causation_id, event_data, metadata, \
         search_terms) \
         SELECT p, id, s, at_, ty, sv, v, ts, c, ca, d, m, ARRAY(SELECT jsonb_array_elements_text(t)) \
         FROM unnest($1::int8[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int4[], $7::int8[], \
           $8::timestamptz[], $9::text[], $10::text[], $11::jsonb[], $12::jsonb[], $13::jsonb[]) \
         AS r(p, id, s, at_, ty, sv, v, ts, c, ca, d, m, t)"
    );
    let terms: Vec<serde_json::Value> = rows.terms.iter().map(|t| serde_json::json!(t)).collect();
    let prepared = client.prepare_cached(&statement).await.expect("prepare");
    client
        .execute(
            &prepared,
            &[
                &rows.positions,
                &rows.ids,
                &rows.streams,
                &rows.aggregate_types,
                &rows.types,
                &rows.schema_versions,
                &rows.versions,
                &rows.recorded_at,
                &rows.correlations,
                &rows.causations,
                &rows.data,
                &rows.metadata,
                &terms,
            ],
        )
        .await
        .expect("insert");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn postgres_append(c: &mut Criterion, runtime: &tokio::runtime::Runtime, url: &str) {
    let (store, pool) = runtime.block_on(open(url, "bench_append"));
    let events = store.event_store();
    let schema = store.schema().to_owned();
    let table = runtime.block_on(async { raw_table(&pool.get().await.expect("client"), &schema).await });
    let mut group = c.benchmark_group("postgres_append");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    let mut streams = 0_u64;
    let mut position = 0_i64;
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
        group.bench_with_input(BenchmarkId::new("baseline_raw_insert", size), &size, |b, &size| {
            b.to_async(runtime).iter_batched(
                || {
                    let (_, envelopes) = new_stream(&mut streams, size).expect("envelopes");
                    position += size as i64;
                    (envelopes, position - size as i64 + 1)
                },
                |(envelopes, first)| {
                    let (pool, table) = (pool.clone(), table.clone());
                    async move {
                        // From the same envelopes as the adapter: their rows are part of the work.
                        let rows = RawRows::of(&envelopes, first);
                        raw_insert(&pool.get().await.expect("client"), &table, &rows).await
                    }
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
    runtime.block_on(store.drop_schema()).expect("drop");
}

/// One round of the concurrent group: every writer appends its batches, all at once.
async fn writers_round(events: &PostgresEventStore, round: u64) -> Duration {
    let started = Instant::now();
    let writers = (0..WRITERS).map(|writer| {
        let events = events.clone();
        tokio::spawn(async move {
            for append in 0..APPENDS_PER_WRITER {
                let stream = format!("account-{round}-{writer}-{append}");
                let batch = deposits(&stream, 1, 100).expect("envelopes");
                events.append(&stream, 0, batch).await.expect("append");
            }
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.expect("writer");
    }
    started.elapsed()
}

fn postgres_writers(c: &mut Criterion, runtime: &tokio::runtime::Runtime, url: &str) {
    let (store, _pool) = runtime.block_on(open(url, "bench_writers"));
    let events = store.event_store();
    let mut group = c.benchmark_group("postgres_writers");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements((WRITERS * APPENDS_PER_WRITER * 100) as u64));
    let mut round = 0_u64;
    group.bench_function(BenchmarkId::new("batches_of_100_8_writers", "8"), |b| {
        b.to_async(runtime).iter_custom(|iters| {
            let events = events.clone();
            round += 1;
            let first = round * 1_000_000;
            async move {
                let mut total = Duration::ZERO;
                for i in 0..iters {
                    total += writers_round(&events, first + i).await;
                }
                total
            }
        });
    });
    group.finish();
    runtime.block_on(store.drop_schema()).expect("drop");
}

/// Counts per event type: what both sides of the rebuild group fold the log into.
fn fold(counts: &mut HashMap<String, u64>, event_type: &str) {
    *counts.entry(event_type.to_owned()).or_default() += 1;
}

fn postgres_rebuild(c: &mut Criterion, runtime: &tokio::runtime::Runtime, url: &str) {
    let (store, pool) = runtime.block_on(open(url, "bench_rebuild"));
    let events = store.event_store();
    runtime.block_on(async {
        for stream in 0..REBUILD_EVENTS / 100 {
            let name = format!("account-{stream}");
            events
                .append(&name, 0, deposits(&name, 1, 100).expect("envelopes"))
                .await
                .expect("seed");
        }
    });
    let select = format!(
        "SELECT global_position, event_id, aggregate_id, aggregate_type, event_type, version, recorded_at, \
         correlation_id, causation_id, event_data, metadata FROM \"{}\".events ORDER BY global_position",
        store.schema()
    );
    let mut group = c.benchmark_group("postgres_rebuild");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(REBUILD_EVENTS as u64));
    group.bench_function(BenchmarkId::new("read_all", REBUILD_EVENTS), |b| {
        b.to_async(runtime).iter(|| {
            let events = events.clone();
            async move {
                let mut counts = HashMap::new();
                let mut after = 0;
                loop {
                    let page = events.read_all(after, 1_000).await.expect("read_all");
                    let Some(last) = page.last() else { break };
                    after = last.global_position.expect("a stored event has a position");
                    page.iter().for_each(|e| fold(&mut counts, &e.event_type));
                }
                assert_eq!(counts.values().sum::<u64>(), REBUILD_EVENTS as u64);
            }
        });
    });
    group.bench_function(BenchmarkId::new("baseline_raw_select", REBUILD_EVENTS), |b| {
        b.to_async(runtime).iter(|| {
            let (pool, select) = (pool.clone(), select.clone());
            async move {
                let client = pool.get().await.expect("client");
                let mut counts = HashMap::new();
                for row in client.query(&select, &[]).await.expect("select") {
                    let _position: i64 = row.get(0);
                    let _id: uuid::Uuid = row.get(1);
                    let _stream: &str = row.get(2);
                    let _aggregate_type: &str = row.get(3);
                    let _version: i64 = row.get(5);
                    let _at: chrono::DateTime<chrono::Utc> = row.get(6);
                    let _correlation: &str = row.get(7);
                    let _causation: &str = row.get(8);
                    let _data: serde_json::Value = row.get(9);
                    let _metadata: serde_json::Value = row.get(10);
                    fold(&mut counts, row.get(4));
                }
                assert_eq!(counts.values().sum::<u64>(), REBUILD_EVENTS as u64);
            }
        });
    });
    group.finish();
    runtime.block_on(store.drop_schema()).expect("drop");
}

fn postgres(c: &mut Criterion) {
    let Ok(url) = std::env::var("HIVE_POSTGRES_URL") else {
        eprintln!("postgres: skipped, HIVE_POSTGRES_URL is not set (run `cargo xtask services` and export it)");
        return;
    };
    let runtime = Arc::new(runtime());
    postgres_append(c, &runtime, &url);
    postgres_writers(c, &runtime, &url);
    postgres_rebuild(c, &runtime, &url);
}

criterion_group!(benches, postgres);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
