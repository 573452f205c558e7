//! Events as rows: the columns of a batch to insert, and the envelope of a stored row.
//!
//! ```text
//! events (global_position BIGINT PK, event_id UUID, aggregate_id, aggregate_type, event_type,
//!         schema_version INT, version BIGINT, recorded_at TIMESTAMPTZ (whole milliseconds),
//!         correlation_id, causation_id, event_data JSONB, metadata JSONB, search_terms TEXT[])
//! ```

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use hive_domain::{searchable_text, words, EventEnvelope, Metadata};
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::error::PostgresError;

/// `t` to the millisecond below: what the store keeps (the ports keep milliseconds).
pub(crate) fn whole_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// The first whole millisecond at or after `t`: stored timestamps are whole milliseconds, so
/// `stored >= t` ⟺ `stored >= ms_at_or_after(t)`, and the same for `<`.
pub(crate) fn ms_at_or_after(t: DateTime<Utc>) -> DateTime<Utc> {
    let below = whole_ms(t);
    if below == t {
        t
    } else {
        below + chrono::Duration::milliseconds(1)
    }
}

/// An `i64` column for a `u64` counter (positions and versions stay far below `i64::MAX`).
pub(crate) fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The distinct lower-cased words an event is found by, space-joined (words hold no space):
/// exactly the words [`hive_domain::EventCriteria::matches`] looks for.
pub(crate) fn terms_of(event: &EventEnvelope) -> String {
    let text = searchable_text(event);
    let distinct: BTreeSet<&str> = words(&text).collect();
    distinct.into_iter().collect::<Vec<_>>().join(" ")
}

/// The per-event columns of a batch, one array each (bound to `unnest`).
#[derive(Debug, Default)]
pub(crate) struct Columns {
    pub(crate) ids: Vec<Uuid>,
    pub(crate) types: Vec<String>,
    pub(crate) schema_versions: Vec<i32>,
    pub(crate) recorded_at: Vec<DateTime<Utc>>,
    pub(crate) correlations: Vec<String>,
    pub(crate) causations: Vec<String>,
    pub(crate) data: Vec<Value>,
    pub(crate) metadata: Vec<Value>,
    pub(crate) terms: Vec<String>,
}

impl Columns {
    /// The columns of `events` (already in their stored form).
    pub(crate) fn of(events: &[EventEnvelope]) -> Self {
        let mut columns = Self::default();
        for event in events {
            columns.ids.push(event.event_id);
            columns.types.push(event.event_type.clone());
            columns
                .schema_versions
                .push(i32::try_from(event.schema_version).unwrap_or(i32::MAX));
            columns.recorded_at.push(event.timestamp);
            columns.correlations.push(event.correlation_id.clone());
            columns.causations.push(event.causation_id.clone());
            columns.data.push(event.event_data.clone());
            columns
                .metadata
                .push(serde_json::to_value(&event.metadata).unwrap_or_else(|_| Value::Object(Default::default())));
            columns.terms.push(terms_of(event));
        }
        columns
    }
}

/// The envelope of a row selected with [`crate::sql::EVENT_COLUMNS`].
pub(crate) fn decode(row: &Row) -> Result<EventEnvelope, PostgresError> {
    let position: i64 = row
        .try_get(0)
        .map_err(|e| PostgresError::corrupt("event", format!("global_position: {e}")))?;
    let record = || format!("event at position {position}");
    let bad = |field: &str, e: &dyn std::fmt::Display| PostgresError::corrupt(record(), format!("`{field}`: {e}"));
    let count = |index: usize, field: &str| -> Result<u64, PostgresError> {
        let value: i64 = row.try_get(index).map_err(|e| bad(field, &e))?;
        u64::try_from(value).map_err(|e| bad(field, &e))
    };
    let text = |index: usize, field: &str| row.try_get::<_, String>(index).map_err(|e| bad(field, &e));
    let schema_version: i32 = row.try_get(5).map_err(|e| bad("schema_version", &e))?;
    let metadata: Value = row.try_get(11).map_err(|e| bad("metadata", &e))?;
    Ok(EventEnvelope {
        global_position: Some(u64::try_from(position).map_err(|e| bad("global_position", &e))?),
        event_id: row.try_get(1).map_err(|e| bad("event_id", &e))?,
        aggregate_id: text(2, "aggregate_id")?,
        aggregate_type: text(3, "aggregate_type")?,
        event_type: text(4, "event_type")?,
        schema_version: u32::try_from(schema_version).map_err(|e| bad("schema_version", &e))?,
        version: count(6, "version")?,
        timestamp: row.try_get(7).map_err(|e| bad("recorded_at", &e))?,
        correlation_id: text(8, "correlation_id")?,
        causation_id: text(9, "causation_id")?,
        event_data: row.try_get(10).map_err(|e| bad("event_data", &e))?,
        metadata: serde_json::from_value::<Metadata>(metadata).map_err(|e| bad("metadata", &e))?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hive_domain::EventCriteria;
    use serde_json::json;

    #[test]
    fn millisecond_bounds() {
        let t = DateTime::parse_from_rfc3339("2024-01-01T00:00:00.000500Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(whole_ms(t).to_rfc3339(), "2024-01-01T00:00:00+00:00");
        assert_eq!(ms_at_or_after(t).to_rfc3339(), "2024-01-01T00:00:00.001+00:00");
        assert_eq!(ms_at_or_after(whole_ms(t)), whole_ms(t));
        let before_epoch = DateTime::parse_from_rfc3339("1969-12-31T23:59:59.9995Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(whole_ms(before_epoch) <= before_epoch && ms_at_or_after(before_epoch) > before_epoch);
    }

    #[test]
    fn terms_find_what_the_reference_finds() {
        let event = EventEnvelope::new("p", "T", "E", json!({"error": "Card DECLINED", "n": 42, "r": 0.25}), 1)
            .with_metadata(Metadata::default().with_source("Check-out"));
        let stored = terms_of(&event);
        let terms: Vec<&str> = stored.split(' ').collect();
        for text in ["declined CHECK", "card-declined", "declin", "25 nope", "42"] {
            let criteria = EventCriteria {
                text: Some(text.into()),
                ..EventCriteria::default()
            };
            let wanted: Vec<String> = criteria
                .text_terms()
                .iter()
                .flat_map(|t| words(t).map(str::to_owned).collect::<Vec<_>>())
                .collect();
            let ours = wanted.iter().all(|w| terms.contains(&w.as_str()));
            assert_eq!(ours, criteria.matches(&event), "{text}");
        }
    }
}
