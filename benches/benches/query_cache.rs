//! The payment statistics query (`GetPaymentStatistics`, by status × currency and by day) of
//! one organization holding 100 000 payments, through the billing query bus: without a cache
//! (`baseline_uncached`: the in-memory read model computes it), answered by the in-process
//! level (`l1_hit`, moka) and by the shared level alone (`l2_hit`, Redis: one Lua round trip
//! plus decoding; skipped with a notice when `HIVE_REDIS_URL` is not set).
//!
//! The read model is filled directly (100 000 `upsert`s of views spread over 30 days, three
//! currencies and every status), not through commands: what is measured is the query. Each
//! cached case is warmed once before timing, so every timed call is a hit.

// A failed set-up should stop the bench loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// criterion_group!/criterion_main! generate undocumented public items.
#![allow(missing_docs)]

// Links hive-benches' global allocator (mimalloc, as in the `hive` binary).
use hive_benches::{payment_view, payment_views_start, BENCH_ORG};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use hive_application::cache::{Cache, CacheConfig, QueryCache};
use hive_application::{EventBus, MessageContext, MiddlewareConfig, QueryBus};
use hive_billing::{BillingModule, BillingPorts, GetPaymentStatistics, PaymentReadModel, PaymentRecord};
use hive_cache_moka::{MokaCache, MokaCacheConfig};
use hive_cache_redis::{RedisCache, RedisCacheConfig};
use hive_domain::Metadata;
use hive_store_memory::billing::{MemoryPaymentReadModel, MemoryPaymentSearchIndex};
use hive_store_memory::{MemoryEventStore, MemorySnapshotStore};

const PAYMENTS: u64 = 100_000;
const ORG: &str = BENCH_ORG;

/// A query bus of the billing module over `read_model`, with `levels` as its cache (none: no
/// cache layer at all).
fn bus(read_model: &MemoryPaymentReadModel, levels: Vec<Arc<dyn Cache>>) -> QueryBus {
    let events = MemoryEventStore::new();
    let ports = BillingPorts {
        event_store: events.capabilities(),
        snapshot_store: Arc::new(MemorySnapshotStore::new()),
        read_model: Arc::new(read_model.clone()),
        search_index: Arc::new(MemoryPaymentSearchIndex::new()),
    };
    let mut module = BillingModule::new(ports, EventBus::default(), MiddlewareConfig::default());
    if !levels.is_empty() {
        module = module.with_query_cache(QueryCache::new(levels, CacheConfig::default()));
    }
    module.build().query_bus
}

fn context() -> MessageContext {
    MessageContext::new().with_metadata(Metadata::default().with_organization(ORG))
}

fn query() -> GetPaymentStatistics {
    GetPaymentStatistics {
        from: payment_views_start(),
        to: payment_views_start() + chrono::Duration::days(31),
    }
}

fn query_cache(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let read_model = MemoryPaymentReadModel::new();
    runtime.block_on(async {
        for n in 0..PAYMENTS {
            read_model
                .upsert(PaymentRecord {
                    payment: payment_view(n),
                    position: n + 1,
                })
                .await
                .unwrap();
        }
    });
    let mut group = c.benchmark_group("query_cache");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    let uncached = bus(&read_model, Vec::new());
    let expected = runtime.block_on(uncached.dispatch(query(), context())).unwrap();
    assert!(!expected.by_status.is_empty() && !expected.daily.is_empty());
    group.bench_function("baseline_uncached", |b| {
        b.to_async(&runtime).iter(|| uncached.dispatch(query(), context()));
    });

    let l1 = bus(&read_model, vec![Arc::new(MokaCache::new(MokaCacheConfig::default()))]);
    assert_eq!(runtime.block_on(l1.dispatch(query(), context())).unwrap(), expected);
    group.bench_function("l1_hit", |b| {
        b.to_async(&runtime).iter(|| l1.dispatch(query(), context()));
    });

    match std::env::var("HIVE_REDIS_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => {
            let prefix = format!("hive:bench:{}:", std::process::id());
            let redis = runtime.block_on(async { RedisCache::open(RedisCacheConfig::new(url).with_prefix(prefix)) });
            let l2 = bus(&read_model, vec![Arc::new(redis.unwrap())]);
            assert_eq!(runtime.block_on(l2.dispatch(query(), context())).unwrap(), expected);
            group.bench_function("l2_hit", |b| {
                b.to_async(&runtime).iter(|| l2.dispatch(query(), context()));
            });
        }
        None => eprintln!(
            "query_cache/l2_hit skipped: HIVE_REDIS_URL is not set (`cargo xtask bench` needs a Redis for it)"
        ),
    }
    group.finish();
}

criterion_group!(benches, query_cache);
criterion_main!(benches);
