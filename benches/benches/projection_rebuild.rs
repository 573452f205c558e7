//! P7: rebuilding the payment read model from the global log, against a raw scan of that log.
//!
//! One in-memory store holds 1 000 000 events (release builds; 10 000 in debug builds, the
//! smoke test): 500 000 payments of hive-billing, each `PaymentCreated` then `PaymentProcessed`,
//! spread over 50 organizations. It is built once, before the benchmarks.
//! - `baseline_scan`: `EventStore::read_all` in pages of 500 (the runner's batch size) from
//!   position 0 to the head, counting the events: the least a rebuild has to do.
//! - `rebuild`: `ProjectionRunner::rebuild` of hive-billing's `PaymentReadModelProjection` into
//!   the in-memory read model: reset, then read, decode, fold and upsert every event, saving a
//!   checkpoint after each page.
//!
//! Throughput is in events; each iteration processes the whole log, so criterion takes its
//! minimum of 10 samples of one iteration each.

// A failed set-up should stop the bench loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// criterion_group!/criterion_main! generate undocumented public items.
#![allow(missing_docs)]

// Links hive-benches' global allocator (mimalloc, as in the `hive` binary).
use hive_benches as _;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use hive_application::ProjectionRunner;
use hive_billing::{
    Payment, PaymentCreated, PaymentEvent, PaymentProcessed, PaymentReadModelProjection, PaymentStatus,
};
use hive_domain::{encode_event, Aggregate, EventEnvelope, EventStore, Metadata, UpcasterChain};
use hive_store_memory::billing::MemoryPaymentReadModel;
use hive_store_memory::{MemoryCheckpointStore, MemoryEventStore};

/// Events in the log: 1 000 000 in release builds, 10 000 in debug builds.
const EVENTS: u64 = if cfg!(debug_assertions) { 10_000 } else { 1_000_000 };
/// The runner's page size, and the scan's.
const PAGE: usize = 500;

/// The organization of payment `n`.
fn organization_of(n: u64) -> String {
    format!("org-{}", n % 50)
}

/// The stream of payment `n`: its key, `{organization}/pay-{n}`.
fn stream_of(n: u64) -> String {
    hive_billing::PaymentKey::new(&organization_of(n), &format!("pay-{n}")).to_string()
}

/// The two events of payment `n`.
fn payment(n: u64) -> Vec<EventEnvelope> {
    let id = format!("pay-{n}");
    let organization = organization_of(n);
    let at = Utc.with_ymd_and_hms(2024, 11, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(i64::try_from(n).unwrap());
    let amount = format!("{}.{:02}", 10 + n % 990, n % 100).parse().unwrap();
    let currency = ["EUR", "USD", "GBP"][usize::try_from(n % 3).unwrap()].parse().unwrap();
    let events = [
        PaymentEvent::PaymentCreated(PaymentCreated {
            payment_id: id.clone(),
            organization_id: organization.clone(),
            user_id: format!("user-{}", n % 500),
            amount,
            currency,
            status: PaymentStatus::Pending,
            description: format!("Cloud compute {n}"),
            tags: vec!["compute".into()],
            metadata: Default::default(),
            created_at: at,
        }),
        PaymentEvent::PaymentProcessed(PaymentProcessed {
            amount,
            currency,
            status: PaymentStatus::Completed,
            processed_at: at + chrono::Duration::minutes(5),
        }),
    ];
    let metadata = Metadata::default()
        .with_organization(organization.as_str())
        .with_user("user-bench");
    events
        .iter()
        .zip(1..)
        .map(|(event, version)| {
            let (event_type, data) = encode_event(event).unwrap();
            EventEnvelope::new(stream_of(n), Payment::TYPE, event_type, data, version)
                .with_correlation_id(id.as_str())
                .with_causation_id(id.as_str())
                .with_metadata(metadata.clone())
        })
        .collect()
}

async fn populate() -> MemoryEventStore {
    let store = MemoryEventStore::new();
    for n in 0..EVENTS / 2 {
        store.append(&stream_of(n), 0, payment(n)).await.unwrap();
    }
    assert_eq!(store.head_position().await.unwrap(), EVENTS);
    store
}

/// Reads the whole log in pages; returns how many events it read.
async fn scan(store: &MemoryEventStore) -> u64 {
    let mut after = 0;
    let mut read = 0;
    loop {
        let page = store.read_all(after, PAGE).await.unwrap();
        let Some(last) = page.last() else {
            return read;
        };
        after = last.global_position.unwrap();
        read += page.len() as u64;
    }
}

fn projection_rebuild(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let store = runtime.block_on(populate());
    let read_model = MemoryPaymentReadModel::new();
    let projection = PaymentReadModelProjection::new(Arc::new(read_model.clone()), Arc::new(UpcasterChain::new()));
    let runner = ProjectionRunner::new(
        Arc::new(store.clone()),
        Arc::new(MemoryCheckpointStore::new()),
        Arc::new(projection),
    );

    let mut group = c.benchmark_group("projection_rebuild");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(EVENTS));
    group.bench_function("baseline_scan", |b| {
        b.to_async(&runtime).iter(|| async {
            assert_eq!(scan(&store).await, EVENTS);
        });
    });
    group.bench_function("rebuild", |b| {
        b.to_async(&runtime).iter(|| async {
            let done = runner.rebuild().await.unwrap();
            assert_eq!((done.applied, done.position), (EVENTS, EVENTS));
        });
    });
    group.finish();
}

criterion_group!(benches, projection_rebuild);
criterion_main!(benches);
