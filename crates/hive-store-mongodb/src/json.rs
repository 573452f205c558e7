//! JSON ↔ BSON, value by value, without loss for everything JSON holds.
//!
//! Integers become `Int64` (an unsigned integer above `i64::MAX` a `Double`, the one lossy
//! case), other numbers `Double`, objects embedded documents. Back, `Int32`/`Int64` become
//! integers, `Double` a float, dates RFC 3339 strings, decimals their string form.

use bson::{Bson, Document};
use serde_json::{Map, Number, Value};

/// The BSON of a JSON value.
pub(crate) fn to_bson(value: &Value) -> Bson {
    match value {
        Value::Null => Bson::Null,
        Value::Bool(b) => Bson::Boolean(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Bson::Int64(i),
            (None, Some(f)) => Bson::Double(f),
            (None, None) => Bson::String(n.to_string()),
        },
        Value::String(s) => Bson::String(s.clone()),
        Value::Array(items) => Bson::Array(items.iter().map(to_bson).collect()),
        Value::Object(map) => Bson::Document(to_document(map)),
    }
}

/// The embedded document of a JSON object.
pub(crate) fn to_document(map: &Map<String, Value>) -> Document {
    map.iter().map(|(k, v)| (k.clone(), to_bson(v))).collect()
}

/// The JSON of a BSON value.
pub(crate) fn to_json(value: &Bson) -> Value {
    match value {
        Bson::Null | Bson::Undefined => Value::Null,
        Bson::Boolean(b) => Value::Bool(*b),
        Bson::Int32(i) => Value::from(*i),
        Bson::Int64(i) => Value::from(*i),
        Bson::Double(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Bson::String(s) => Value::String(s.clone()),
        Bson::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Bson::Document(doc) => Value::Object(from_document(doc)),
        Bson::DateTime(t) => Value::String(t.try_to_rfc3339_string().unwrap_or_default()),
        Bson::Decimal128(d) => Value::String(d.to_string()),
        Bson::ObjectId(id) => Value::String(id.to_hex()),
        other => Value::String(other.to_string()),
    }
}

/// The JSON object of an embedded document.
pub(crate) fn from_document(doc: &Document) -> Map<String, Value> {
    doc.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_json() {
        let value = json!({
            "amount": "12.50", "count": 3, "neg": -4, "ratio": 0.25, "flag": true, "nothing": null,
            "nested": {"list": [1, "two", {"three": 3}], "text": "Grüße, 東京 ✓"}
        });
        assert_eq!(to_json(&to_bson(&value)), value);
    }
}
