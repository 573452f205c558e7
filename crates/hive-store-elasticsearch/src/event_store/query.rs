//! Event look-ups by criteria: filters in `bool.filter`, user text only in `multi_match`.

use elasticsearch::http::Method;
use hive_domain::{EventCriteria, EventEnvelope, EventPage, Page, TimeRange};
use serde_json::{json, Value};

use crate::http::Body;
use crate::{EsError, EsResult};

use super::commit::{hits, parse_source};
use super::EsEventStore;

/// A `range` on `field` for a half-open time range, or `None` when unbounded.
pub(crate) fn time_range(field: &str, range: &TimeRange) -> Option<Value> {
    let mut bounds = serde_json::Map::new();
    if let Some(from) = range.from {
        bounds.insert("gte".into(), json!(from.to_rfc3339()));
    }
    if let Some(to) = range.to {
        bounds.insert("lt".into(), json!(to.to_rfc3339()));
    }
    (!bounds.is_empty()).then(|| json!({"range": {field: bounds}}))
}

/// The `bool` query of `criteria`. The text is matched word by word (`operator: and`) against
/// the `searchText` of the events (every string and number of `eventData` and `metadata`, split
/// into words as the reference does); it is never parsed as query syntax.
pub(crate) fn criteria_query(criteria: &EventCriteria) -> Value {
    let mut filter = Vec::new();
    let mut term = |field: &str, value: &Option<String>| {
        if let Some(value) = value {
            filter.push(json!({"term": {field: value}}));
        }
    };
    term("aggregateType", &criteria.aggregate_type);
    term("aggregateId", &criteria.aggregate_id);
    term("metadata.organizationId", &criteria.organization_id);
    term("metadata.userId", &criteria.user_id);
    term("correlationId", &criteria.correlation_id);
    if !criteria.event_types.is_empty() {
        filter.push(json!({"terms": {"eventType": criteria.event_types}}));
    }
    filter.extend(time_range("timestamp", &criteria.time_range));
    let mut query = json!({"bool": {"filter": filter}});
    if let Some(text) = criteria.text.as_deref().filter(|t| !t.trim().is_empty()) {
        query["bool"]["must"] = json!([{"match": {
            crate::mapping::SEARCH_TEXT: {"query": text, "operator": "and"}
        }}]);
    }
    query
}

impl EsEventStore {
    /// One page of the events matching `criteria`, oldest first, and their total
    /// (near-real-time: events published less than a refresh ago may be missing).
    pub(crate) async fn search_events(&self, criteria: &EventCriteria, page: Page) -> EsResult<EventPage> {
        let body = json!({
            "from": page.offset,
            "size": page.limit_usize(),
            "track_total_hits": true,
            "query": criteria_query(criteria),
            "sort": [{"timestamp": "asc"}, {"globalPosition": "asc"}]
        });
        let path = format!("/{}/_search", self.options.events_index);
        let reply = self
            .client
            .expect(Method::Post, &path, &[], Some(Body::Json(body)), &[])
            .await?;
        let items = hits(&reply.body, &path)?
            .iter()
            .map(|hit| parse_source::<EventEnvelope>(hit, &path))
            .collect::<EsResult<Vec<_>>>()?;
        let total = reply
            .body
            .pointer("/hits/total/value")
            .and_then(Value::as_u64)
            .ok_or_else(|| EsError::decode(&path, "no `hits.total.value`"))?;
        Ok(EventPage { items, total })
    }
}
