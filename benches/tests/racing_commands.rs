//! Two refunds race on the same version of one payment (processed: 100 cents; each refund asks
//! for all 100). Each command loads the payment, decides against what it loaded, and commits:
//! the steps of a command, interleaved as two servers (or two tasks) interleave them.
//!
//! - Hive: the second commit is refused with a conflict (the store checks the expected
//!   version), and running that command again refuses the refund (nothing left to refund).
//! - cqrs-es 0.5 `MemStore`: both commits succeed; the stream ends with two events at the same
//!   sequence number and 200 cents refunded of 100 processed. (This half documents the peer's
//!   behaviour, measured on cqrs-es 0.5.0; if a later version starts checking, it will fail
//!   and the finding in docs/performance.md must be revised.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Shared with the vs_cqrs_es bench; this test uses the aggregate, not the benchmark side.
#[allow(dead_code)]
#[path = "../peer/cqrs_es_payment.rs"]
mod cqrs_es_payment;

use std::collections::HashMap;
use std::sync::Arc;

use cqrs_es::{AggregateContext, EventStore as _};
use cqrs_es_payment::{CqrsPayment, CqrsPaymentEvent};
use hive_application::{AggregateRepository, ApplicationError};
use hive_benches::{context, payment_envelopes, payment_history, BenchPayment, BenchPaymentCommand, BenchPaymentError};
use hive_domain::{Aggregate, EventStore, EventStoreError};
use hive_store_memory::MemoryEventStore;

const STREAM: &str = "pay-race";
const REFUND_ALL: BenchPaymentCommand = BenchPaymentCommand::Refund { amount: 100 };

/// Created, then 100 × `Processed` of 1 cent: version 101, 100 cents processed.
fn history() -> Vec<hive_benches::BenchPaymentEvent> {
    payment_history(101)
}

#[tokio::test]
async fn hive_accepts_one_of_two_racing_refunds_and_refuses_the_other() {
    let store = MemoryEventStore::new();
    store
        .append(STREAM, 0, payment_envelopes(STREAM, 1, &history()).unwrap())
        .await
        .unwrap();
    let repository = AggregateRepository::<BenchPayment>::new(Arc::new(store.clone()));

    let first = repository.load(STREAM).await.unwrap();
    let second = repository.load(STREAM).await.unwrap();
    assert_eq!((first.version, second.version), (101, 101));
    let first_events = first.state.handle(&REFUND_ALL).unwrap();
    let second_events = second.state.handle(&REFUND_ALL).unwrap();

    store
        .append(
            STREAM,
            first.version,
            payment_envelopes(STREAM, 102, &first_events).unwrap(),
        )
        .await
        .unwrap();
    let refused = store
        .append(
            STREAM,
            second.version,
            payment_envelopes(STREAM, 102, &second_events).unwrap(),
        )
        .await;
    assert!(
        matches!(refused, Err(EventStoreError::Conflict { .. })),
        "the second commit must conflict: {refused:?}"
    );

    // The retry middleware runs the losing command again: it now sees the first refund.
    let retried = repository.execute(STREAM, &REFUND_ALL, &context()).await;
    assert_eq!(
        retried.unwrap_err(),
        ApplicationError::from(BenchPaymentError::RefundExceedsProcessed)
    );
    let payment = repository.load(STREAM).await.unwrap();
    assert_eq!(
        (payment.version, payment.state.processed, payment.state.refunded),
        (102, 100, 100)
    );
}

#[tokio::test]
async fn cqrs_es_mem_store_accepts_both_racing_refunds() {
    let store = cqrs_es::mem_store::MemStore::<CqrsPayment>::default();
    let seed = cqrs_es::mem_store::MemStoreAggregateContext {
        aggregate_id: STREAM.to_owned(),
        aggregate: CqrsPayment::default(),
        current_sequence: 0,
    };
    let events = history().into_iter().map(CqrsPaymentEvent).collect();
    store.commit(events, seed, HashMap::new()).await.unwrap();

    // What CqrsFramework::execute does, for two commands interleaved: load, handle, commit.
    let mut first = store.load_aggregate(STREAM).await.unwrap();
    let mut second = store.load_aggregate(STREAM).await.unwrap();
    assert_eq!((first.current_sequence, second.current_sequence), (101, 101));
    let first_events: Vec<_> = first.aggregate().0.handle(&REFUND_ALL).unwrap();
    let second_events: Vec<_> = second.aggregate().0.handle(&REFUND_ALL).unwrap();

    let wrap = |events: Vec<_>| events.into_iter().map(CqrsPaymentEvent).collect();
    store.commit(wrap(first_events), first, HashMap::new()).await.unwrap();
    let accepted = store.commit(wrap(second_events), second, HashMap::new()).await;
    assert!(
        accepted.is_ok(),
        "cqrs-es 0.5 MemStore does not check the sequence: {accepted:?}"
    );

    let stored = store.load_events(STREAM).await.unwrap();
    let sequences: Vec<usize> = stored.iter().rev().take(2).map(|e| e.sequence).collect();
    assert_eq!(sequences, [102, 102], "two events share sequence 102");
    let payment = store.load_aggregate(STREAM).await.unwrap();
    let state = &payment.aggregate.0;
    assert_eq!(
        (state.processed, state.refunded),
        (100, 200),
        "twice the processed amount was refunded"
    );
}
