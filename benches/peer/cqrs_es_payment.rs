//! The peer of P1: the same payment aggregate ([`BenchPayment`]) behind cqrs-es 0.5's
//! `CqrsFramework` and its `MemStore`. Included by the `vs_cqrs_es` bench and the
//! `racing_commands` test (`#[path]`), because cqrs-es is a dev-dependency of hive-benches only.
//!
//! The wrappers delegate to Hive's `handle` and `apply`, so both frameworks run the very same
//! business logic on the very same state.

use std::collections::HashMap;

use cqrs_es::event_sink::EventSink;
use cqrs_es::mem_store::{MemStore, MemStoreAggregateContext};
use cqrs_es::{AggregateError, CqrsFramework, EventStore};
use hive_benches::{payment_history, BenchPayment, BenchPaymentCommand, BenchPaymentError, BenchPaymentEvent};
use hive_benches::{CommandSide, FixtureError};
use serde::{Deserialize, Serialize};

/// [`BenchPayment`] as a cqrs-es aggregate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct CqrsPayment(pub(crate) BenchPayment);

/// [`BenchPaymentEvent`] as a cqrs-es event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct CqrsPaymentEvent(pub(crate) BenchPaymentEvent);

impl cqrs_es::DomainEvent for CqrsPaymentEvent {
    fn event_type(&self) -> String {
        hive_domain::DomainEvent::event_type(&self.0).to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

impl cqrs_es::Aggregate for CqrsPayment {
    const TYPE: &'static str = "BenchPayment";
    type Command = BenchPaymentCommand;
    type Event = CqrsPaymentEvent;
    type Error = BenchPaymentError;
    type Services = ();

    async fn handle(
        &mut self,
        command: BenchPaymentCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), BenchPaymentError> {
        for event in hive_domain::Aggregate::handle(&self.0, &command)? {
            sink.write(CqrsPaymentEvent(event), self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: CqrsPaymentEvent) {
        hive_domain::Aggregate::apply(&mut self.0, &event.0);
    }
}

/// A cqrs-es error as a fixture error.
pub(crate) fn peer_error(error: AggregateError<BenchPaymentError>) -> FixtureError {
    FixtureError::Peer(format!("cqrs-es: {error}"))
}

/// cqrs-es: `CqrsFramework` over a `MemStore`, no queries.
pub(crate) struct CqrsEsPayments {
    /// The store (a clone shares its events).
    pub(crate) store: MemStore<CqrsPayment>,
    /// The framework over a clone of `store`.
    pub(crate) cqrs: CqrsFramework<CqrsPayment, MemStore<CqrsPayment>>,
}

impl Default for CqrsEsPayments {
    /// A fresh store and framework.
    fn default() -> Self {
        let store = MemStore::<CqrsPayment>::default();
        let cqrs = CqrsFramework::new(store.clone(), Vec::new(), ());
        Self { store, cqrs }
    }
}

impl CommandSide for CqrsEsPayments {
    fn fresh(&self) -> Self {
        Self::default()
    }

    /// Commits the whole history at once, at sequence 0.
    async fn seed(&self, stream: &str, events: u64) -> Result<(), FixtureError> {
        let context = MemStoreAggregateContext {
            aggregate_id: stream.to_owned(),
            aggregate: CqrsPayment::default(),
            current_sequence: 0,
        };
        let history = payment_history(events).into_iter().map(CqrsPaymentEvent).collect();
        self.store
            .commit(history, context, HashMap::new())
            .await
            .map_err(peer_error)?;
        Ok(())
    }

    async fn process(&self, stream: &str) -> Result<(), FixtureError> {
        self.cqrs
            .execute(stream, BenchPaymentCommand::Process { amount: 1 })
            .await
            .map_err(peer_error)
    }
}
