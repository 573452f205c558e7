//! Event documents: the seed's field names, a BSON date timestamp, the global position and the
//! search terms.
//!
//! ```text
//! { _id: Int64 (the global position), eventId: UUID, aggregateId, aggregateType, eventType, schemaVersion,
//!   eventData: {…}, version: Int64, timestamp: Date, correlationId, causationId,
//!   metadata: {userId, organizationId, source, …}, globalPosition: Int64, searchTerms: [..] }
//! ```

use bson::{doc, Bson, DateTime as BsonDateTime, Document};
use chrono::{DateTime, SubsecRound, Utc};
use hive_domain::{EventEnvelope, EventStoreError, Metadata};
use uuid::Uuid;

use super::terms::search_terms;
use crate::error::corrupt;
use crate::json::{from_document, to_bson, to_json};

/// `envelope` as MongoDB keeps it: timestamps have millisecond precision (BSON dates).
pub(crate) fn stored_form(mut envelope: EventEnvelope, position: u64) -> EventEnvelope {
    envelope.timestamp = envelope.timestamp.trunc_subsecs(3);
    envelope.global_position = Some(position);
    envelope
}

/// An `i64` for a `u64` counter (positions and versions stay far below `i64::MAX`).
pub(crate) fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A BSON date of `t`.
pub(crate) fn date(t: DateTime<Utc>) -> BsonDateTime {
    BsonDateTime::from_chrono(t)
}

/// The document of a stored envelope (its `global_position` must be set).
pub(crate) fn encode(event: &EventEnvelope) -> Document {
    let metadata = match serde_json::to_value(&event.metadata) {
        Ok(serde_json::Value::Object(map)) => crate::json::to_document(&map),
        _ => Document::new(),
    };
    let position = int(event.global_position.unwrap_or_default());
    doc! {
        "_id": position,
        "eventId": bson::Uuid::from(event.event_id),
        "aggregateId": &event.aggregate_id,
        "aggregateType": &event.aggregate_type,
        "eventType": &event.event_type,
        "schemaVersion": i64::from(event.schema_version),
        "eventData": to_bson(&event.event_data),
        "version": int(event.version),
        "timestamp": date(event.timestamp),
        "correlationId": &event.correlation_id,
        "causationId": &event.causation_id,
        "metadata": metadata,
        "globalPosition": position,
        "searchTerms": search_terms(event),
    }
}

/// The envelope of an event document.
pub(crate) fn decode(doc: &Document) -> Result<EventEnvelope, EventStoreError> {
    let record = || format!("event {}", doc.get("_id").map(ToString::to_string).unwrap_or_default());
    let bad = |field: &str, e: &dyn std::fmt::Display| corrupt(record(), format!("field `{field}`: {e}"));
    let text = |field: &str| doc.get_str(field).map(str::to_owned).map_err(|e| bad(field, &e));
    let number = |field: &str| -> Result<u64, EventStoreError> {
        let value = match doc.get(field) {
            Some(Bson::Int64(v)) => *v,
            Some(Bson::Int32(v)) => i64::from(*v),
            other => return Err(bad(field, &format!("expected an integer, found {other:?}"))),
        };
        u64::try_from(value).map_err(|e| bad(field, &e))
    };
    let event_id = match doc.get("eventId") {
        Some(Bson::Binary(binary)) => Uuid::from_slice(&binary.bytes).map_err(|e| bad("eventId", &e))?,
        Some(Bson::String(s)) => s.parse().map_err(|e| bad("eventId", &e))?,
        other => return Err(bad("eventId", &format!("expected a UUID, found {other:?}"))),
    };
    let timestamp = doc
        .get_datetime("timestamp")
        .map_err(|e| bad("timestamp", &e))?
        .to_chrono();
    let metadata = match doc.get("metadata") {
        Some(Bson::Document(meta)) => {
            serde_json::from_value::<Metadata>(serde_json::Value::Object(from_document(meta)))
                .map_err(|e| bad("metadata", &e))?
        }
        _ => Metadata::default(),
    };
    Ok(EventEnvelope {
        event_id,
        aggregate_id: text("aggregateId")?,
        aggregate_type: text("aggregateType")?,
        event_type: text("eventType")?,
        schema_version: u32::try_from(number("schemaVersion")?).map_err(|e| bad("schemaVersion", &e))?,
        event_data: doc.get("eventData").map_or(serde_json::Value::Null, to_json),
        version: number("version")?,
        timestamp,
        correlation_id: text("correlationId")?,
        causation_id: text("causationId")?,
        metadata,
        global_position: Some(number("globalPosition")?),
    })
}

/// The projection that leaves out what envelopes do not carry (`searchTerms`). `_id` (the
/// global position) stays: a damaged document is named by it in the `Corrupt` error.
pub(crate) fn envelope_projection() -> Document {
    doc! { "searchTerms": 0 }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn envelopes_round_trip() {
        let event = EventEnvelope::new("p-1", "Payment", "PaymentCreated", json!({"amount": "1.00", "n": 2}), 3)
            .with_schema_version(2)
            .with_metadata(Metadata::default().with_user("u").with_extra("ip", "10.0.0.1"));
        let stored = stored_form(event, 7);
        assert_eq!(decode(&encode(&stored)).unwrap(), stored);
    }
}
