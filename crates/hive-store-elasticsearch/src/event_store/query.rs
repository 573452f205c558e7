//! Event look-ups by criteria: filters in `bool.filter`, user text only in `multi_match`.

use elasticsearch::http::Method;
use hive_domain::{EventCriteria, EventEnvelope, EventPage, Page, SortOrder, TimeRange};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::http::Body;
use crate::{EsError, EsResult};

use super::EsEventStore;
use crate::search::{first_source, hits, parse_source, MAX_RESULT_WINDOW};

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

/// The order of event look-ups: oldest first, then global order (unique, so `search_after`
/// never skips or repeats an event); for [`SortOrder::Desc`] every key reversed, the exact
/// reverse (`hive_domain::event_order`: every published event has a global position).
pub(crate) fn sort(order: SortOrder) -> Value {
    let direction = match order {
        SortOrder::Asc => "asc",
        SortOrder::Desc => "desc",
    };
    json!([{"timestamp": direction}, {"globalPosition": direction}])
}

impl EsEventStore {
    /// One page of the events matching `criteria` in the page's order, and their total
    /// (near-real-time: events published less than a refresh ago may be missing).
    ///
    /// Within the first [`MAX_RESULT_WINDOW`] matches the page is one `from`/`size` search;
    /// deeper pages walk there with `search_after` (sort values only, no `_source`), then read
    /// the page after the last match skipped.
    pub(crate) async fn search_events(&self, criteria: &EventCriteria, page: Page) -> EsResult<EventPage> {
        let query = criteria_query(criteria);
        let mut body = json!({
            "size": page.limit_usize(),
            "track_total_hits": true,
            "query": query,
            "sort": sort(page.order)
        });
        if page.offset + page.limit <= MAX_RESULT_WINDOW {
            body["from"] = json!(page.offset);
        } else {
            match self.sort_values_after(&body["query"], page.order, page.offset).await? {
                Some(after) => body["search_after"] = after,
                // Fewer matches than the offset: an empty page, with the true total.
                None => body["size"] = json!(0),
            }
        }
        let path = format!("/{}/_search", self.options.events_index);
        let reply = self
            .client
            .send_checked(Method::Post, &path, &[], Some(Body::Json(body)), &[])
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

    /// The sort values of the `skip`-th match of `query` in `order` (`None` when there are
    /// fewer), found with `search_after` steps of at most [`MAX_RESULT_WINDOW`] hits without
    /// `_source`.
    async fn sort_values_after(&self, query: &Value, order: SortOrder, skip: u64) -> EsResult<Option<Value>> {
        let path = format!("/{}/_search", self.options.events_index);
        let mut after: Option<Value> = None;
        let mut left = skip;
        while left > 0 {
            let step = left.min(MAX_RESULT_WINDOW);
            let mut body = json!({
                "size": step,
                "_source": false,
                "track_total_hits": false,
                "query": query,
                "sort": sort(order)
            });
            if let Some(after) = after.take() {
                body["search_after"] = after;
            }
            let reply = self
                .client
                .send_checked(Method::Post, &path, &[], Some(Body::Json(body)), &[])
                .await?;
            let found = hits(&reply.body, &path)?;
            if (found.len() as u64) < step {
                // Fewer matches than `skip`.
                return Ok(None);
            }
            left -= step;
            after = found.last().and_then(|hit| hit.get("sort")).cloned();
            if after.is_none() {
                return Err(EsError::decode(&path, "a hit without `sort` values"));
            }
        }
        Ok(after)
    }

    /// The published event with this id: a `term` on `eventId` (event documents are keyed
    /// `{aggregateId}:{version}`), near-real-time like every search, which sees each event
    /// once its append returned (published with the store's [`Refresh`](crate::Refresh)).
    /// Should two streams hold the same event id, the first in the global log is answered.
    pub(crate) async fn find_event(&self, event_id: Uuid) -> EsResult<Option<EventEnvelope>> {
        let body = json!({
            "size": 1,
            "track_total_hits": false,
            "query": {"bool": {"filter": [{"term": {"eventId": event_id.to_string()}}]}},
            "sort": [{"globalPosition": "asc"}]
        });
        first_source(&self.client, &self.options.events_index, body).await
    }
}
