//! The `Aggregate` trait: pure decide and evolve.

use serde::{de::DeserializeOwned, Serialize};

use crate::DomainEvent;

/// A consistency boundary whose state is the fold of its events.
///
/// `handle` decides (command → events, or a typed error) without side effects; `apply` evolves
/// the state by one event. Events are applied one by one, each seeing the state left by the
/// previous one. The state is serialisable so it can be snapshotted.
///
/// ```
/// use hive_domain::{Aggregate, DomainEvent};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// #[serde(tag = "eventType", content = "eventData")]
/// enum CounterEvent { Incremented { by: u32 } }
/// impl DomainEvent for CounterEvent { fn event_type(&self) -> &'static str { "Incremented" } }
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("counter would overflow")]
/// struct Overflow;
///
/// #[derive(Debug, Default, Clone, Serialize, Deserialize)]
/// struct Counter { value: u32 }
///
/// impl Aggregate for Counter {
///     const TYPE: &'static str = "Counter";
///     type Command = u32;
///     type Event = CounterEvent;
///     type Error = Overflow;
///     fn handle(&self, by: &u32) -> Result<Vec<CounterEvent>, Overflow> {
///         self.value.checked_add(*by).ok_or(Overflow)?;
///         Ok(vec![CounterEvent::Incremented { by: *by }])
///     }
///     fn apply(&mut self, event: &CounterEvent) {
///         match event { CounterEvent::Incremented { by } => self.value += by }
///     }
/// }
///
/// let mut counter = Counter::default();
/// for event in counter.handle(&3).unwrap() { counter.apply(&event); }
/// assert_eq!(counter.value, 3);
/// assert!(counter.handle(&u32::MAX).is_err());
/// ```
pub trait Aggregate: Default + Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The stored `aggregateType`, e.g. `"Payment"`.
    const TYPE: &'static str;
    /// The commands this aggregate decides on.
    type Command: Send + Sync;
    /// The events it emits and folds.
    type Event: DomainEvent;
    /// Why a command is refused (broken invariants).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Decide: the events a command produces against the current state, or why it is refused.
    fn handle(&self, command: &Self::Command) -> Result<Vec<Self::Event>, Self::Error>;

    /// Evolve: the state after one more event.
    fn apply(&mut self, event: &Self::Event);

    /// Folds events onto the state, one by one.
    fn apply_all<'a>(&mut self, events: impl IntoIterator<Item = &'a Self::Event>) {
        for event in events {
            self.apply(event);
        }
    }
}
