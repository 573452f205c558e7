//! `MemoryEventStore::append` (in memory) of 1 event and of a batch of 100 events, against a
//! bare `Vec` + `HashMap` stream index (`baseline_vec_hashmap`) given the same inputs.
//!
//! Every iteration appends to a fresh stream (expected version 0), so the work per iteration
//! is the same; the envelopes are built in the untimed set-up. Both sides append into a log
//! that is replaced by an empty one every `ROTATE_AFTER_EVENTS` events (in the set-up; the
//! old log is dropped after the timer stops), so memory stays bounded and both measure a log
//! of the same sizes. Both return the stored envelopes: the port hands them back to the
//! caller, so the baseline clones them too.

// A failed set-up should stop the bench loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// criterion_group!/criterion_main! generate undocumented public items.
#![allow(missing_docs)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use hive_benches::{deposits, BaselineLog, Rotating};
use hive_domain::EventStore;
use hive_store_memory::MemoryEventStore;

/// Events a log receives before it is replaced by an empty one.
const ROTATE_AFTER_EVENTS: usize = 100_000;

/// Envelopes prepared per timed batch (bounds the memory held by prepared inputs).
const EVENTS_PER_TIMED_BATCH: usize = 2_000;

fn memory_append(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("memory_append");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    for events in [1_usize, 100] {
        group.throughput(Throughput::Elements(events as u64));
        let batch = BatchSize::NumIterations((EVENTS_PER_TIMED_BATCH / events) as u64);

        group.bench_with_input(BenchmarkId::new("store", events), &events, |b, &events| {
            let mut stores = Rotating::new(MemoryEventStore::new, ROTATE_AFTER_EVENTS);
            let mut streams = 0_u64;
            b.to_async(&runtime).iter_batched(
                || {
                    streams += 1;
                    let stream = format!("account-{streams}");
                    let envelopes = deposits(&stream, 1, events).expect("envelopes");
                    (stores.next(events), stream, envelopes)
                },
                |(store, stream, envelopes)| async move {
                    let stored = store.append(&stream, 0, envelopes).await.expect("append");
                    (store, stored)
                },
                batch,
            );
        });

        group.bench_with_input(
            BenchmarkId::new("baseline_vec_hashmap", events),
            &events,
            |b, &events| {
                let mut logs = Rotating::new(|| Rc::new(RefCell::new(BaselineLog::default())), ROTATE_AFTER_EVENTS);
                let mut streams = 0_u64;
                b.to_async(&runtime).iter_batched(
                    || {
                        streams += 1;
                        let stream = format!("account-{streams}");
                        let envelopes = deposits(&stream, 1, events).expect("envelopes");
                        (logs.next(events), stream, envelopes)
                    },
                    |(log, stream, envelopes)| async move {
                        let stored = log.borrow_mut().append(&stream, envelopes);
                        (log, stored)
                    },
                    batch,
                );
            },
        );
    }
    group.finish();
}

criterion_group!(benches, memory_append);
criterion_main!(benches);
