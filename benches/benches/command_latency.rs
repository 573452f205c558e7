//! P2: the latency of one command as the stream grows.
//!
//! A payment stream of N prior events (N = 10, 1 000, 10 000, 100 000, 1 000 000) receives one
//! more `Process` command per iteration through Hive's command bus (full default middleware)
//! and `AggregateRepository::execute` on the in-memory store, without snapshots, the payment
//! hot (loaded once at seeding, untimed, as its first command would): `hive`. A command then
//! reads nothing, so its cost must not depend on N.
//!
//! Each stream is seeded once, outside the timer (bulk appends of 1 000 events), and takes at
//! most N / 10 commands before a fresh one replaces it ([`hive_benches::StreamRig`]), so its
//! length stays within 10% of N and a long stream is built once per sample batch, not per
//! iteration.

// A failed set-up should stop the bench loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// criterion_group!/criterion_main! generate undocumented public items.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};
use hive_benches::{HivePayments, StreamRig};

fn command_latency(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("command_latency");
    group
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));

    for events in [10_u64, 1_000, 10_000, 100_000, 1_000_000] {
        group.sample_size(if events >= 100_000 { 10 } else { 20 });
        let mut rig = StreamRig::new(HivePayments::new(0), events);
        group.bench_function(BenchmarkId::new("hive", events), |b| {
            b.iter_custom(|iters| runtime.block_on(rig.run(iters)).expect("command"));
        });
    }
    group.finish();
}

criterion_group!(benches, command_latency);
criterion_main!(benches);
