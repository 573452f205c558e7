//! Typed domain events and their (de)serialisation to `eventType` + `eventData`.

use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};

use crate::CodecError;

/// A typed domain event.
///
/// Implement it on an enum serialised with
/// `#[serde(tag = "eventType", content = "eventData")]`: the variant name becomes the stored
/// `eventType` and its fields the `eventData`. The enum is the registry of known event types:
/// a stored type that is not one of its variants is a [`CodecError::UnknownEventType`].
///
/// ```
/// use hive_domain::{decode_event, encode_event, DomainEvent};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// #[serde(tag = "eventType", content = "eventData")]
/// enum CounterEvent { Incremented { by: u32 } }
///
/// impl DomainEvent for CounterEvent {
///     fn event_type(&self) -> &'static str { "Incremented" }
/// }
///
/// let (event_type, data) = encode_event(&CounterEvent::Incremented { by: 2 }).unwrap();
/// assert_eq!(event_type, "Incremented");
/// assert_eq!(decode_event::<CounterEvent>(&event_type, data).unwrap(), CounterEvent::Incremented { by: 2 });
/// ```
pub trait DomainEvent: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The stored `eventType` of this event.
    fn event_type(&self) -> &'static str;

    /// The schema version of this event's payload as the code writes it today.
    fn schema_version(&self) -> u32 {
        1
    }
}

/// Splits a typed event into its `eventType` and `eventData`.
pub fn encode_event<E: DomainEvent>(event: &E) -> Result<(String, Value), CodecError> {
    let value = serde_json::to_value(event).map_err(|e| CodecError::Shape(e.to_string()))?;
    let Value::Object(mut map) = value else {
        return Err(CodecError::Shape("not a JSON object".into()));
    };
    let event_type = match map.remove("eventType") {
        Some(Value::String(t)) => t,
        _ => return Err(CodecError::Shape("no string `eventType` tag".into())),
    };
    let data = map.remove("eventData").unwrap_or(Value::Null);
    Ok((event_type, data))
}

/// Rebuilds a typed event from its stored `eventType` and `eventData`.
pub fn decode_event<E: DomainEvent>(event_type: &str, data: Value) -> Result<E, CodecError> {
    let mut map = Map::with_capacity(2);
    map.insert("eventType".into(), Value::String(event_type.to_owned()));
    if !data.is_null() {
        map.insert("eventData".into(), data);
    }
    serde_json::from_value(Value::Object(map)).map_err(|e| codec_error(event_type, &e))
}

/// [`decode_event`] from a borrowed `eventData`: reads it in place, without copying it.
pub fn decode_event_ref<E: DomainEvent>(event_type: &str, data: &Value) -> Result<E, CodecError> {
    let tag = Value::String(event_type.to_owned());
    let mut fields = vec![("eventType", &tag)];
    if !data.is_null() {
        fields.push(("eventData", data));
    }
    let deserializer = serde::de::value::MapDeserializer::<_, serde_json::Error>::new(fields.into_iter());
    E::deserialize(deserializer).map_err(|e| codec_error(event_type, &e))
}

fn codec_error(event_type: &str, error: &serde_json::Error) -> CodecError {
    let reason = error.to_string();
    if reason.starts_with("unknown variant") {
        CodecError::UnknownEventType(event_type.to_owned())
    } else {
        CodecError::Payload {
            event_type: event_type.to_owned(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "eventType", content = "eventData")]
    enum Ev {
        Opened { name: String },
        Closed,
    }
    impl DomainEvent for Ev {
        fn event_type(&self) -> &'static str {
            match self {
                Ev::Opened { .. } => "Opened",
                Ev::Closed => "Closed",
            }
        }
    }

    #[test]
    fn round_trips_unit_and_struct_variants() {
        for ev in [Ev::Opened { name: "x".into() }, Ev::Closed] {
            let (t, d) = encode_event(&ev).unwrap();
            assert_eq!(t, ev.event_type());
            assert_eq!(decode_event::<Ev>(&t, d).unwrap(), ev);
        }
    }

    #[test]
    fn decoding_in_place_matches_decoding_a_copy() {
        for ev in [Ev::Opened { name: "x".into() }, Ev::Closed] {
            let (t, d) = encode_event(&ev).unwrap();
            assert_eq!(decode_event_ref::<Ev>(&t, &d).unwrap(), ev);
        }
        for (t, d) in [
            ("Exploded", json!({})),
            ("Opened", json!({"name": 3})),
            ("Opened", Value::Null),
        ] {
            assert_eq!(
                decode_event_ref::<Ev>(t, &d).unwrap_err(),
                decode_event::<Ev>(t, d.clone()).unwrap_err(),
                "{t} {d}"
            );
        }
    }

    #[test]
    fn unknown_type_and_bad_payload_are_typed() {
        assert_eq!(
            decode_event::<Ev>("Exploded", json!({})).unwrap_err(),
            CodecError::UnknownEventType("Exploded".into())
        );
        assert!(matches!(
            decode_event::<Ev>("Opened", json!({"name": 3})).unwrap_err(),
            CodecError::Payload { .. }
        ));
    }
}
