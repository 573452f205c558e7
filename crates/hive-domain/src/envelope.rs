//! The event envelope: what a store keeps for every event.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who and what caused an event. Stored as `metadata{userId, organizationId, source, ...}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// The user on whose behalf the command ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The tenant (organization) the event belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// The system that produced the event (`http`, `cli`, `projection:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Any other key/value pairs.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Metadata {
    /// Sets the organization id.
    #[must_use]
    pub fn with_organization(mut self, organization_id: impl Into<String>) -> Self {
        self.organization_id = Some(organization_id.into());
        self
    }

    /// Sets the user id.
    #[must_use]
    pub fn with_user(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Sets the source.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Adds an extra key/value pair (the keys `userId`, `organizationId` and `source` set
    /// their own fields instead, so no key is written twice).
    #[must_use]
    pub fn with_extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        let value = value.into();
        match key.as_str() {
            "userId" => self.user_id = Some(value),
            "organizationId" => self.organization_id = Some(value),
            "source" => self.source = Some(value),
            _ => {
                self.extra.insert(key, serde_json::Value::String(value));
            }
        }
        self
    }
}

/// A stored event: identity, stream position, payload, correlation and metadata.
///
/// Serialised with the seeds' camelCase names: `eventId, aggregateId, aggregateType, eventType,
/// eventData, version, timestamp, correlationId, causationId, metadata` plus `schemaVersion`
/// (for upcasting) and `globalPosition` (assigned by stores that keep a global log).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventEnvelope {
    /// Unique id of the event (UUID v7: time ordered).
    pub event_id: Uuid,
    /// The stream (aggregate instance) the event belongs to.
    pub aggregate_id: String,
    /// The kind of aggregate, e.g. `Payment`.
    pub aggregate_type: String,
    /// The kind of event, e.g. `PaymentCreated`.
    pub event_type: String,
    /// Schema version of `event_data`; older versions are upgraded by an [`crate::UpcasterChain`].
    #[serde(default = "default_schema_version")]
    pub schema_version: u32,
    /// The event payload.
    pub event_data: serde_json::Value,
    /// Position in the stream, starting at 1, gap-free.
    pub version: u64,
    /// When the event was recorded (UTC).
    pub timestamp: DateTime<Utc>,
    /// Id shared by everything one request caused.
    pub correlation_id: String,
    /// Id of the command or event that caused this event.
    pub causation_id: String,
    /// Who and where.
    #[serde(default)]
    pub metadata: Metadata,
    /// Position in the store's global log (1-based, gap-free in commit order), once stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_position: Option<u64>,
}

fn default_schema_version() -> u32 {
    1
}

impl EventEnvelope {
    /// A new envelope with a fresh UUID v7 id, the current time, schema version 1 and the event id
    /// as both correlation and causation id (override them with the builder methods).
    pub fn new(
        aggregate_id: impl Into<String>,
        aggregate_type: impl Into<String>,
        event_type: impl Into<String>,
        event_data: serde_json::Value,
        version: u64,
    ) -> Self {
        let event_id = Uuid::now_v7();
        Self {
            event_id,
            aggregate_id: aggregate_id.into(),
            aggregate_type: aggregate_type.into(),
            event_type: event_type.into(),
            schema_version: 1,
            event_data,
            version,
            timestamp: Utc::now(),
            correlation_id: event_id.to_string(),
            causation_id: event_id.to_string(),
            metadata: Metadata::default(),
            global_position: None,
        }
    }

    /// Sets the correlation id.
    #[must_use]
    pub fn with_correlation_id(mut self, correlation_id: impl Into<String>) -> Self {
        self.correlation_id = correlation_id.into();
        self
    }

    /// Sets the causation id.
    #[must_use]
    pub fn with_causation_id(mut self, causation_id: impl Into<String>) -> Self {
        self.causation_id = causation_id.into();
        self
    }

    /// Sets the metadata.
    #[must_use]
    pub fn with_metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = metadata;
        self
    }

    /// Sets the timestamp.
    #[must_use]
    pub fn with_timestamp(mut self, timestamp: DateTime<Utc>) -> Self {
        self.timestamp = timestamp;
        self
    }

    /// Sets the event id.
    #[must_use]
    pub fn with_event_id(mut self, event_id: Uuid) -> Self {
        self.event_id = event_id;
        self
    }

    /// Sets the schema version of the payload.
    #[must_use]
    pub fn with_schema_version(mut self, schema_version: u32) -> Self {
        self.schema_version = schema_version;
        self
    }

    /// True when both envelopes describe the same stored event, ignoring the global position
    /// (which only the store assigns). Used for idempotent re-appends.
    pub fn same_event(&self, other: &Self) -> bool {
        self.event_id == other.event_id && self.aggregate_id == other.aggregate_id && self.version == other.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_with_the_seed_field_names() {
        let env = EventEnvelope::new("p-1", "Payment", "PaymentCreated", json!({"a": 1}), 3)
            .with_metadata(Metadata::default().with_user("u").with_extra("ip", "1.2.3.4"));
        let value = serde_json::to_value(&env).unwrap();
        for key in [
            "eventId",
            "aggregateId",
            "aggregateType",
            "eventType",
            "eventData",
            "version",
            "timestamp",
            "correlationId",
            "causationId",
            "metadata",
            "schemaVersion",
        ] {
            assert!(value.get(key).is_some(), "missing {key} in {value}");
        }
        assert_eq!(value["metadata"]["userId"], "u");
        assert_eq!(value["metadata"]["ip"], "1.2.3.4");
        assert!(value.get("globalPosition").is_none());
        let back: EventEnvelope = serde_json::from_value(value).unwrap();
        assert_eq!(back, env);
    }

    #[test]
    fn metadata_keeps_non_string_extras_and_never_duplicates_known_keys() {
        let meta: Metadata = serde_json::from_value(json!({"userId": "u", "attempt": 3, "tags": ["a"]})).unwrap();
        assert_eq!(meta.extra["attempt"], json!(3));
        let meta = Metadata::default().with_extra("userId", "u2");
        assert_eq!(meta.user_id.as_deref(), Some("u2"));
        assert!(meta.extra.is_empty());
    }

    #[test]
    fn event_ids_are_uuid_v7() {
        let env = EventEnvelope::new("p", "T", "E", json!(null), 1);
        assert_eq!(env.event_id.get_version_num(), 7);
    }
}
