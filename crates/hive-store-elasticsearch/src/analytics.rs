//! [`EventAnalytics`] on the events index: aggregations, never a scan of the events.
//!
//! * statistics: `date_histogram`s by hour (`fixed_interval: 1h`) and day (`calendar_interval:
//!   day`) with a `format` giving the reference keys, `terms` on `metadata.organizationId` and
//!   `metadata.userId` with `missing: "unknown"`, the total from `hits.total`
//!   (`track_total_hits: true`);
//! * trends: one `date_histogram` with `calendar_interval` hour/day/week/month (weeks start on
//!   Monday, months on the 1st, UTC: the reference buckets);
//! * heatmap: the hourly `date_histogram` folded in Rust into (ISO weekday, hour) cells and
//!   days — exact (a UTC hour lies in one weekday and one day) and script-free.
//!
//! Every histogram has `min_doc_count: 1`: empty buckets are left out, as in the reference.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use elasticsearch::http::Method;
use hive_domain::{AnalyticsFilter, EventAnalytics, EventStatistics, Heatmap, Interval, StoreResult, TrendBucket};
use serde_json::{json, Value};
use std::collections::BTreeMap;

use crate::event_store::EsEventStore;
use crate::http::Body;
use crate::{EsError, EsResult};

/// How many organizations and users the `terms` aggregations return at most.
pub(crate) const TERMS_SIZE: u64 = 10_000;

/// The `format` of hour keys (`YYYY-MM-DDTHH:00:00Z`).
pub(crate) const HOUR_FORMAT: &str = "yyyy-MM-dd'T'HH:00:00'Z'";

/// The `format` of day keys (`YYYY-MM-DD`).
pub(crate) const DAY_FORMAT: &str = "yyyy-MM-dd";

/// The `bool.filter` query of an analytics filter.
pub(crate) fn filter_query(filter: &AnalyticsFilter) -> Value {
    let mut clauses = Vec::new();
    if let Some(event_type) = &filter.event_type {
        clauses.push(json!({"term": {"eventType": event_type}}));
    }
    if let Some(organization) = &filter.organization_id {
        clauses.push(json!({"term": {"metadata.organizationId": organization}}));
    }
    clauses.extend(crate::event_store::time_range("timestamp", &filter.time_range));
    json!({"bool": {"filter": clauses}})
}

fn hourly() -> Value {
    json!({"date_histogram": {"field": "timestamp", "fixed_interval": "1h", "format": HOUR_FORMAT, "min_doc_count": 1}})
}

/// The `_search` body of [`EventAnalytics::statistics`].
pub(crate) fn statistics_body(filter: &AnalyticsFilter) -> Value {
    let terms = |field: &str| json!({"terms": {"field": field, "missing": "unknown", "size": TERMS_SIZE}});
    json!({
        "size": 0,
        "track_total_hits": true,
        "query": filter_query(filter),
        "aggs": {
            "byHour": hourly(),
            "byDay": {"date_histogram": {"field": "timestamp", "calendar_interval": "day", "format": DAY_FORMAT, "min_doc_count": 1}},
            "byOrganization": terms("metadata.organizationId"),
            "byUser": terms("metadata.userId")
        }
    })
}

/// The `_search` body of [`EventAnalytics::trends`].
pub(crate) fn trends_body(filter: &AnalyticsFilter, interval: Interval) -> Value {
    let calendar = match interval {
        Interval::Hour => "hour",
        Interval::Day => "day",
        Interval::Week => "week",
        Interval::Month => "month",
    };
    json!({
        "size": 0,
        "query": filter_query(filter),
        "aggs": {"trend": {"date_histogram": {"field": "timestamp", "calendar_interval": calendar, "min_doc_count": 1}}}
    })
}

/// The `_search` body of [`EventAnalytics::heatmap`].
pub(crate) fn heatmap_body(filter: &AnalyticsFilter) -> Value {
    json!({"size": 0, "query": filter_query(filter), "aggs": {"byHour": hourly()}})
}

const WHAT: &str = "events aggregation";

fn buckets<'a>(body: &'a Value, name: &str) -> EsResult<&'a Vec<Value>> {
    body.pointer(&format!("/aggregations/{name}/buckets"))
        .and_then(Value::as_array)
        .ok_or_else(|| EsError::decode(WHAT, format!("no `aggregations.{name}.buckets`")))
}

fn doc_count(bucket: &Value) -> EsResult<u64> {
    bucket
        .get("doc_count")
        .and_then(Value::as_u64)
        .ok_or_else(|| EsError::decode(WHAT, "a bucket without `doc_count`"))
}

/// `key_as_string` (histograms) or `key` (terms) → `doc_count`.
fn keyed(body: &Value, name: &str) -> EsResult<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for bucket in buckets(body, name)? {
        let key = match bucket.get("key_as_string").or_else(|| bucket.get("key")) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => return Err(EsError::decode(WHAT, "a bucket without `key`")),
        };
        *out.entry(key).or_default() += doc_count(bucket)?;
    }
    Ok(out)
}

/// The start (epoch milliseconds `key`) and count of each histogram bucket.
fn starts(body: &Value, name: &str) -> EsResult<Vec<(DateTime<Utc>, u64)>> {
    buckets(body, name)?
        .iter()
        .map(|bucket| {
            let millis = bucket
                .get("key")
                .and_then(Value::as_i64)
                .ok_or_else(|| EsError::decode(WHAT, "a histogram bucket without a numeric `key`"))?;
            let start = DateTime::from_timestamp_millis(millis)
                .ok_or_else(|| EsError::decode(WHAT, format!("bucket key {millis} is not an instant")))?;
            Ok((start, doc_count(bucket)?))
        })
        .collect()
}

/// The statistics of a statistics answer.
pub(crate) fn parse_statistics(body: &Value) -> EsResult<EventStatistics> {
    let total = body
        .pointer("/hits/total/value")
        .and_then(Value::as_u64)
        .ok_or_else(|| EsError::decode(WHAT, "no `hits.total.value`"))?;
    Ok(EventStatistics {
        total,
        by_hour: keyed(body, "byHour")?,
        by_day: keyed(body, "byDay")?,
        by_organization: keyed(body, "byOrganization")?,
        by_user: keyed(body, "byUser")?,
    })
}

/// The buckets of a trends answer, oldest first.
pub(crate) fn parse_trends(body: &Value) -> EsResult<Vec<TrendBucket>> {
    let mut out: Vec<TrendBucket> = starts(body, "trend")?
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(start, count)| TrendBucket { start, count })
        .collect();
    out.sort_by_key(|b| b.start);
    Ok(out)
}

/// The heatmap folded from an hourly histogram answer.
pub(crate) fn parse_heatmap(body: &Value) -> EsResult<Heatmap> {
    Ok(Heatmap::from_counts(starts(body, "byHour")?))
}

impl EsEventStore {
    async fn aggregate(&self, body: Value) -> EsResult<Value> {
        let path = format!("/{}/_search", self.options.events_index);
        let reply = self
            .client
            .send_checked(Method::Post, &path, &[], Some(Body::Json(body)), &[])
            .await?;
        Ok(reply.body)
    }
}

#[async_trait]
impl EventAnalytics for EsEventStore {
    async fn statistics(&self, filter: &AnalyticsFilter) -> StoreResult<EventStatistics> {
        let body = self.aggregate(statistics_body(filter)).await?;
        Ok(parse_statistics(&body)?)
    }

    async fn trends(&self, filter: &AnalyticsFilter, interval: Interval) -> StoreResult<Vec<TrendBucket>> {
        let body = self.aggregate(trends_body(filter, interval)).await?;
        Ok(parse_trends(&body)?)
    }

    async fn heatmap(&self, filter: &AnalyticsFilter) -> StoreResult<Heatmap> {
        let body = self.aggregate(heatmap_body(filter)).await?;
        Ok(parse_heatmap(&body)?)
    }
}
