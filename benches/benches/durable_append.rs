//! The durable store's group commit: 8 writer tasks on a multi-thread runtime, each appending
//! to its own stream, with `FsyncPolicy::Always` (every group synced before it is acknowledged)
//! and `FsyncPolicy::Never` (left to the OS). Batches of 100 events, and single events (where
//! grouping the writers' appends into one write and one sync is all that helps).
//!
//! One iteration is one round of [`DurableFixture::round`]: each writer appends `APPENDS`
//! batches one after the other; the throughput is in events. The store lives in a temporary
//! directory under `$HIVE_BENCH_DIR` (default: the system temporary directory) and is replaced
//! by a fresh one, untimed, every 200 000 events.

// A failed set-up should stop the bench loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// criterion_group!/criterion_main! generate undocumented public items.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};
use hive_benches::DurableFixture;
use hive_store_memory::FsyncPolicy;
use tokio::sync::Mutex;

/// Concurrent writer tasks.
const WRITERS: usize = 8;

fn durable_append(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("durable_append");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));

    // (name, appends per writer per round, events per append)
    let shapes = [("batches_of_100_8_writers", 8, 100), ("single_events_8_writers", 32, 1)];
    let policies = [
        ("fsync_always", FsyncPolicy::Always),
        ("fsync_never", FsyncPolicy::Never),
    ];
    for (name, appends, events) in shapes {
        for (policy_name, policy) in policies {
            let fixture = runtime
                .block_on(DurableFixture::open(policy, WRITERS))
                .expect("durable store");
            let fixture = Arc::new(Mutex::new(fixture));
            group.throughput(Throughput::Elements((WRITERS * appends * events) as u64));
            group.bench_function(BenchmarkId::new(name, policy_name), |b| {
                b.to_async(&runtime).iter_custom(|iters| {
                    let fixture = Arc::clone(&fixture);
                    async move {
                        let mut fixture = fixture.lock().await;
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            total += fixture.round(appends, events).await.expect("round");
                        }
                        total
                    }
                });
            });
            let fixture = Arc::into_inner(fixture).expect("the bench is done with the fixture");
            runtime.block_on(fixture.into_inner().close()).expect("close");
        }
    }
    group.finish();
}

criterion_group!(benches, durable_append);
criterion_main!(benches);
