//! Your adapter in use: the application layer runs an aggregate on [`VecEventStore`] exactly as
//! on Hive's own stores, and the store declares that it offers the core port only. Run it with
//! `cargo run -p example-custom-adapter`; `cargo test -p example-custom-adapter` runs the
//! conformance suite.

use std::sync::Arc;

use example_custom_adapter::VecEventStore;
use hive_application::{AggregateRepository, ApplicationError, MessageContext};
use hive_domain::{Aggregate, Capability, DomainEvent, EventStore, StoreCapabilities};
use serde::{Deserialize, Serialize};

/// A tally that counts up to a ceiling.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Tally {
    total: u32,
}

/// Add to the tally.
#[derive(Debug, Clone)]
struct Add(u32);

/// The tally grew. The variant name is the stored `eventType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "eventType", content = "eventData")]
enum TallyEvent {
    Added { amount: u32 },
}

impl DomainEvent for TallyEvent {
    fn event_type(&self) -> &'static str {
        "Added"
    }
}

/// The ceiling a tally may not pass.
const CEILING: u32 = 100;

#[derive(Debug, thiserror::Error)]
#[error("the tally would pass {CEILING}")]
struct OverCeiling;

impl From<OverCeiling> for ApplicationError {
    fn from(error: OverCeiling) -> Self {
        ApplicationError::domain("over_ceiling", error.to_string())
    }
}

impl Aggregate for Tally {
    const TYPE: &'static str = "Tally";
    type Command = Add;
    type Event = TallyEvent;
    type Error = OverCeiling;

    fn handle(&self, Add(amount): &Add) -> Result<Vec<TallyEvent>, OverCeiling> {
        match self.total.checked_add(*amount) {
            Some(total) if total <= CEILING => Ok(vec![TallyEvent::Added { amount: *amount }]),
            _ => Err(OverCeiling),
        }
    }

    fn apply(&mut self, TallyEvent::Added { amount }: &TallyEvent) {
        self.total += amount;
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = Arc::new(VecEventStore::new());

    // A core-only store: the service would answer 501 on the routes that need the rest.
    let capabilities = StoreCapabilities::core(store.clone());
    let missing: Vec<&str> = capabilities.missing().into_iter().map(Capability::name).collect();
    println!("capabilities missing: {}", missing.join(", "));
    assert_eq!(capabilities.missing(), Capability::ALL.to_vec());

    let tallies = AggregateRepository::<Tally>::new(store.clone());
    let context = MessageContext::new();
    for amount in [40, 50] {
        let outcome = tallies.execute("tally-1", &Add(amount), &context).await?;
        println!("added {amount}: tally-1 at version {}", outcome.version);
    }
    let refused = tallies.execute("tally-1", &Add(20), &context).await;
    println!(
        "adding 20 more: {}",
        refused.as_ref().map_or_else(ToString::to_string, |_| "accepted".into())
    );
    assert!(refused.is_err(), "the ceiling holds");

    // A second repository (another instance, cold) loads the stream from the adapter.
    let loaded = AggregateRepository::<Tally>::new(store.clone()).load("tally-1").await?;
    let (state, version) = (loaded.state, loaded.version);
    assert_eq!((state.total, version), (90, 2));
    let log = store.read_all(0, 10).await?;
    println!(
        "the global log holds {} events; tally-1 reloads at {} (version {version})",
        log.len(),
        state.total
    );
    Ok(())
}
