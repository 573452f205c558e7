//! Upcasting: typed upgrades of stored older event payloads to the shape the code reads today.

use std::collections::HashMap;
use std::fmt;

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::{decode_event, decode_event_ref, CodecError, DomainEvent, EventEnvelope};

/// An upcaster step failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("cannot upcast `{event_type}` v{from_version}: {reason}")]
pub struct UpcastError {
    /// The event type.
    pub event_type: String,
    /// The schema version the step starts from.
    pub from_version: u32,
    /// Why the stored payload did not fit the old type.
    pub reason: String,
}

type Step = Box<dyn Fn(Value) -> Result<Value, String> + Send + Sync>;

/// A chain of typed steps, each turning `(eventType, vN)` into `vN+1`.
///
/// On read, [`UpcasterChain::upcast`] applies every step from the stored `schemaVersion` on,
/// so a v1 event goes v1 → v2 → v3. Each step is typed: it deserialises the old shape and
/// serialises the new one, so a step that no longer fits the stored data is a typed error.
///
/// ```
/// use hive_domain::{EventEnvelope, UpcasterChain};
/// use serde::{Deserialize, Serialize};
/// use serde_json::json;
///
/// #[derive(Deserialize)]
/// struct CreatedV1 { amount_cents: i64 }
/// #[derive(Serialize)]
/// struct CreatedV2 { amount: String }
///
/// let chain = UpcasterChain::new().register("PaymentCreated", 1, |old: CreatedV1| CreatedV2 {
///     amount: format!("{}.{:02}", old.amount_cents / 100, old.amount_cents % 100),
/// });
/// let stored = EventEnvelope::new("p-1", "Payment", "PaymentCreated", json!({"amount_cents": 1050}), 1);
/// let current = chain.upcast(stored).unwrap();
/// assert_eq!(current.schema_version, 2);
/// assert_eq!(current.event_data, json!({"amount": "10.50"}));
/// ```
#[derive(Default)]
pub struct UpcasterChain {
    steps: HashMap<(String, u32), Step>,
}

impl fmt::Debug for UpcasterChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<_> = self.steps.keys().collect();
        keys.sort();
        f.debug_struct("UpcasterChain").field("steps", &keys).finish()
    }
}

impl UpcasterChain {
    /// An empty chain (every event is already current).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the step `event_type` v`from_version` → v`from_version + 1`.
    #[must_use]
    pub fn register<Old, New, F>(mut self, event_type: &str, from_version: u32, step: F) -> Self
    where
        Old: DeserializeOwned,
        New: Serialize,
        F: Fn(Old) -> New + Send + Sync + 'static,
    {
        let boxed: Step = Box::new(move |value| {
            let old: Old = serde_json::from_value(value).map_err(|e| e.to_string())?;
            serde_json::to_value(step(old)).map_err(|e| e.to_string())
        });
        self.steps.insert((event_type.to_owned(), from_version), boxed);
        self
    }

    /// Brings an envelope's payload to the newest registered schema version.
    pub fn upcast(&self, mut envelope: EventEnvelope) -> Result<EventEnvelope, UpcastError> {
        while let Some(step) = self.steps.get(&(envelope.event_type.clone(), envelope.schema_version)) {
            let data = std::mem::take(&mut envelope.event_data);
            envelope.event_data = step(data).map_err(|reason| UpcastError {
                event_type: envelope.event_type.clone(),
                from_version: envelope.schema_version,
                reason,
            })?;
            envelope.schema_version += 1;
        }
        Ok(envelope)
    }

    /// Upcasts then decodes an envelope into the current typed event.
    ///
    /// An event already at its newest schema version is read in place; only one that an
    /// upcaster changes is copied first.
    pub fn decode<E: DomainEvent>(&self, envelope: &EventEnvelope) -> Result<E, CodecError> {
        if !self.changes(envelope) {
            return decode_event_ref(&envelope.event_type, &envelope.event_data);
        }
        let current = self.upcast(envelope.clone())?;
        decode_event(&current.event_type, current.event_data)
    }

    /// Whether some step applies to `envelope` as it is.
    fn changes(&self, envelope: &EventEnvelope) -> bool {
        !self.steps.is_empty()
            && self
                .steps
                .contains_key(&(envelope.event_type.clone(), envelope.schema_version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize)]
    struct V1 {
        n: i64,
    }
    #[derive(Serialize, Deserialize)]
    struct V2 {
        n: i64,
        unit: String,
    }
    #[derive(Serialize)]
    struct V3 {
        value: String,
    }

    fn chain() -> UpcasterChain {
        UpcasterChain::new()
            .register("E", 1, |o: V1| V2 {
                n: o.n,
                unit: "cents".into(),
            })
            .register("E", 2, |o: V2| V3 {
                value: format!("{}{}", o.n, o.unit),
            })
    }

    #[test]
    fn applies_every_step_from_the_stored_version() {
        let env = EventEnvelope::new("a", "T", "E", json!({"n": 5}), 1);
        let up = chain().upcast(env).unwrap();
        assert_eq!(up.schema_version, 3);
        assert_eq!(up.event_data, json!({"value": "5cents"}));
        let v2 = EventEnvelope::new("a", "T", "E", json!({"n": 1, "unit": "eur"}), 1).with_schema_version(2);
        assert_eq!(chain().upcast(v2).unwrap().event_data, json!({"value": "1eur"}));
    }

    #[test]
    fn other_types_and_current_versions_pass_through() {
        let env = EventEnvelope::new("a", "T", "Other", json!({"x": 1}), 1);
        assert_eq!(chain().upcast(env.clone()).unwrap(), env);
    }

    #[test]
    fn a_step_that_does_not_fit_is_a_typed_error() {
        let env = EventEnvelope::new("a", "T", "E", json!({"n": "not a number"}), 1);
        let err = chain().upcast(env).unwrap_err();
        assert_eq!(err.event_type, "E");
        assert_eq!(err.from_version, 1);
    }
}
