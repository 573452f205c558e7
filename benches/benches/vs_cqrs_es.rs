//! P1: the same command on the same aggregate through Hive and through cqrs-es 0.5.
//!
//! A payment stream of N prior events (`Created`, then `Processed` of 1 cent; N = 10, 100,
//! 1 000, 10 000) receives one more `Process` command per iteration, without snapshots:
//! - `reference_cqrs_es`: `CqrsFramework::execute` over cqrs-es's `MemStore`;
//! - `hive`: Hive's command bus (the full default middleware stack) and
//!   `AggregateRepository::execute` over the in-memory store, with the repository's default
//!   hot aggregates: the payment was loaded once at seeding (untimed), as its first command
//!   would, so each timed command decides on the kept state and appends, reading nothing.
//!
//! Streams are kept within 10% of N: each takes at most N / 10 commands (at least one), then a
//! fresh one is seeded outside the timer ([`hive_benches::StreamRig`]). cqrs-es's `MemStore`
//! prints two lines per command (`println!`); stdout is sent to /dev/null while a sample runs,
//! so it pays a `write` to /dev/null, not to a terminal.

// A failed set-up should stop the bench loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// criterion_group!/criterion_main! generate undocumented public items.
#![allow(missing_docs)]

#[path = "../peer/cqrs_es_payment.rs"]
mod cqrs_es_payment;

use std::time::Duration;

use cqrs_es_payment::CqrsEsPayments;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};
use hive_benches::{HivePayments, StreamRig};

fn vs_cqrs_es(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("vs_cqrs_es");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));

    for events in [10_u64, 100, 1_000, 10_000] {
        let mut cqrs = StreamRig::new(CqrsEsPayments::default(), events);
        group.bench_function(BenchmarkId::new("reference_cqrs_es", events), |b| {
            b.iter_custom(|iters| {
                let _quiet = gag::Gag::stdout().expect("silence stdout");
                runtime.block_on(cqrs.run(iters)).expect("cqrs-es command")
            });
        });
        let mut hive = StreamRig::new(HivePayments::new(0), events);
        group.bench_function(BenchmarkId::new("hive", events), |b| {
            b.iter_custom(|iters| runtime.block_on(hive.run(iters)).expect("hive command"));
        });
    }
    group.finish();
}

criterion_group!(benches, vs_cqrs_es);
criterion_main!(benches);
