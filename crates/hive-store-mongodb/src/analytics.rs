//! [`EventAnalytics`] for [`MongoEventStore`]: aggregation pipelines count on the server, and
//! only the groups come back.
//!
//! * statistics: `$match`, then `$group` by (`$dateToString` hour, organization, user);
//!   hours, days, organizations and users are summed from those groups;
//! * trends: `$group` by `$dateTrunc` of the interval (weeks start on Monday). A server without
//!   `$dateTrunc` (MongoDB < 5.0) gets the hourly groups instead, folded into buckets here;
//! * heatmap: `$group` by hour, folded into weekday × hour cells and days.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use bson::{doc, Bson, Document};
use chrono::{DateTime, NaiveDateTime, Utc};
use futures::TryStreamExt;
use hive_domain::{AnalyticsFilter, EventAnalytics, EventStatistics, Heatmap, Interval, StoreResult, TrendBucket};
use mongodb::error::ErrorKind;

use crate::error::{backend, corrupt};
use crate::event_store::filter::analytics_filter;
use crate::MongoEventStore;

/// The hour key of `hive_domain::hour_key`, as a `$dateToString` expression.
fn hour_expression() -> Document {
    doc! { "$dateToString": { "format": "%Y-%m-%dT%H:00:00Z", "date": "$timestamp" } }
}

fn count_of(doc: &Document) -> u64 {
    match doc.get("n") {
        Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or_default(),
        Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or_default(),
        Some(Bson::Double(n)) => *n as u64,
        _ => 0,
    }
}

fn parse_hour(key: &str) -> StoreResult<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(key, "%Y-%m-%dT%H:%M:%SZ")
        .map(|t| t.and_utc())
        .map_err(|e| corrupt(format!("hour group {key}"), e.to_string()))
}

impl MongoEventStore {
    async fn matched(&self, filter: &AnalyticsFilter) -> StoreResult<Document> {
        self.visible(analytics_filter(filter)).await
    }

    async fn aggregate(&self, matched: Document, group: Document) -> Result<Vec<Document>, mongodb::error::Error> {
        self.events()
            .aggregate([doc! { "$match": matched }, doc! { "$group": group }])
            .await?
            .try_collect()
            .await
    }

    /// `(hour start, count)` of the matching events.
    async fn hourly(&self, filter: &AnalyticsFilter) -> StoreResult<Vec<(DateTime<Utc>, u64)>> {
        let groups = self
            .aggregate(
                self.matched(filter).await?,
                doc! { "_id": hour_expression(), "n": { "$sum": 1 } },
            )
            .await
            .map_err(backend("count events by hour"))?;
        groups
            .iter()
            .map(|g| Ok((parse_hour(g.get_str("_id").unwrap_or_default())?, count_of(g))))
            .collect()
    }
}

#[async_trait]
impl EventAnalytics for MongoEventStore {
    async fn statistics(&self, filter: &AnalyticsFilter) -> StoreResult<EventStatistics> {
        let unknown = |field: &str| doc! { "$ifNull": [ format!("$metadata.{field}"), "unknown" ] };
        let groups = self
            .aggregate(
                self.matched(filter).await?,
                doc! {
                    "_id": { "h": hour_expression(), "o": unknown("organizationId"), "u": unknown("userId") },
                    "n": { "$sum": 1 },
                },
            )
            .await
            .map_err(backend("event statistics"))?;
        let mut stats = EventStatistics::default();
        for group in &groups {
            let key = group
                .get_document("_id")
                .map_err(|e| corrupt("statistics group", e.to_string()))?;
            let text = |k: &str| key.get_str(k).unwrap_or("unknown").to_owned();
            let n = count_of(group);
            let hour = text("h");
            stats.total += n;
            *stats
                .by_day
                .entry(hour.get(..10).unwrap_or_default().to_owned())
                .or_default() += n;
            *stats.by_hour.entry(hour).or_default() += n;
            *stats.by_organization.entry(text("o")).or_default() += n;
            *stats.by_user.entry(text("u")).or_default() += n;
        }
        Ok(stats)
    }

    async fn trends(&self, filter: &AnalyticsFilter, interval: Interval) -> StoreResult<Vec<TrendBucket>> {
        if !self.shared.no_date_trunc.load(Ordering::Relaxed) {
            let unit = match interval {
                Interval::Hour => "hour",
                Interval::Day => "day",
                Interval::Week => "week",
                Interval::Month => "month",
            };
            let truncated = doc! { "$dateTrunc": { "date": "$timestamp", "unit": unit, "startOfWeek": "monday" } };
            let matched = self.matched(filter).await?;
            match self
                .aggregate(matched, doc! { "_id": truncated, "n": { "$sum": 1 } })
                .await
            {
                Ok(groups) => {
                    let mut buckets = groups
                        .iter()
                        .map(|g| {
                            let start = g
                                .get_datetime("_id")
                                .map_err(|e| corrupt("trend bucket", e.to_string()))?;
                            Ok(TrendBucket {
                                start: start.to_chrono(),
                                count: count_of(g),
                            })
                        })
                        .collect::<StoreResult<Vec<_>>>()?;
                    buckets.sort_by_key(|b| b.start);
                    return Ok(buckets);
                }
                Err(error) if matches!(error.kind.as_ref(), ErrorKind::Command(_)) => {
                    tracing::info!(%error, "$dateTrunc is not supported here: trends are folded from hourly groups");
                    self.shared.no_date_trunc.store(true, Ordering::Relaxed);
                }
                Err(error) => return Err(crate::error::store_error("event trends", &error)),
            }
        }
        let mut buckets: BTreeMap<DateTime<Utc>, u64> = BTreeMap::new();
        for (hour, n) in self.hourly(filter).await? {
            *buckets.entry(interval.bucket_start(hour)).or_default() += n;
        }
        Ok(buckets
            .into_iter()
            .map(|(start, count)| TrendBucket { start, count })
            .collect())
    }

    async fn heatmap(&self, filter: &AnalyticsFilter) -> StoreResult<Heatmap> {
        Ok(Heatmap::from_counts(self.hourly(filter).await?))
    }
}
