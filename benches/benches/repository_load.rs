//! `AggregateRepository::load` of one account stream of 10, 1 000 and 100 000 events, without
//! snapshots (every event is read, decoded and applied) and with a snapshot every 100 events
//! (the snapshot of the latest multiple of 100 is loaded, then the events after it: none at
//! 1 000 and 100 000, all 10 at 10, where no snapshot exists yet).
//!
//! Each store is built once, before its benchmarks, by appends of 1 000 events. The sizes are
//! not scaled down in debug builds: in criterion's test mode (`cargo test -p hive-benches
//! --benches`, unoptimised) building the 100 000-event store and loading it once take about
//! 2.5 s in all, which is acceptable.

// A failed set-up should stop the bench loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// criterion_group!/criterion_main! generate undocumented public items.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use hive_benches::{LoadFixture, LOADED_STREAM};

/// The snapshot interval of the repository with snapshots.
const SNAPSHOT_EVERY: u64 = 100;

fn repository_load(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("repository_load");
    group
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    for events in [10_u64, 1_000, 100_000] {
        let fixture = runtime
            .block_on(LoadFixture::populate(events, SNAPSHOT_EVERY))
            .expect("populated store");
        group.sample_size(if events >= 100_000 { 10 } else { 30 });

        let plain = fixture.repository();
        group.bench_with_input(BenchmarkId::new("no_snapshots", events), &events, |b, &events| {
            b.to_async(&runtime).iter(|| async {
                let loaded = plain.load(LOADED_STREAM).await.expect("load");
                assert_eq!(loaded.version, events);
                loaded
            });
        });

        let snapshotted = fixture.repository_with_snapshots();
        group.bench_with_input(
            BenchmarkId::new("snapshots_every_100", events),
            &events,
            |b, &events| {
                b.to_async(&runtime).iter(|| async {
                    let loaded = snapshotted.load(LOADED_STREAM).await.expect("load");
                    assert_eq!(loaded.version, events);
                    loaded
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, repository_load);
criterion_main!(benches);
