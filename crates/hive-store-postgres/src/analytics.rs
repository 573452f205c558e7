//! [`EventAnalytics`] for [`PostgresEventStore`]: the counting happens in SQL (`GROUP BY`
//! `date_trunc` in UTC), only the groups come back.
//!
//! * statistics: grouped by (hour, organization, user), `unknown` for a missing one; hours,
//!   days, organizations and users are summed from those groups;
//! * trends: grouped by `date_trunc(interval)` (PostgreSQL's weeks start on Monday, as ISO's);
//! * heatmap: grouped by hour, folded into weekday × hour cells and days by
//!   [`Heatmap::from_counts`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hive_domain::{
    day_key, hour_key, AnalyticsFilter, EventAnalytics, EventStatistics, Heatmap, Interval, StoreResult, TrendBucket,
};
use tokio_postgres::Row;

use crate::error::PostgresError;
use crate::event_store::search::analytics_filter;
use crate::PostgresEventStore;

/// `recorded_at` truncated to `unit` in UTC, as a `timestamptz` (whatever the session's zone).
fn truncated(unit: &str) -> String {
    format!("date_trunc('{unit}', recorded_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'")
}

fn count_of(row: &Row, index: usize) -> Result<u64, PostgresError> {
    let n: i64 = row
        .try_get(index)
        .map_err(|e| PostgresError::corrupt("analytics group", e))?;
    Ok(u64::try_from(n).unwrap_or_default())
}

fn instant_of(row: &Row) -> Result<DateTime<Utc>, PostgresError> {
    row.try_get(0).map_err(|e| PostgresError::corrupt("analytics group", e))
}

impl PostgresEventStore {
    /// Counts of the events `filter` selects, grouped by `keys` (SQL expressions, the first a
    /// time bucket): one row per group, the count last.
    async fn grouped(
        &self,
        what: &'static str,
        filter: &AnalyticsFilter,
        keys: &[&str],
    ) -> Result<Vec<Row>, PostgresError> {
        let filter = analytics_filter(filter);
        let positions: Vec<String> = (1..=keys.len()).map(|i| i.to_string()).collect();
        let sql = format!(
            "SELECT {}, count(*) FROM {} {} GROUP BY {}",
            keys.join(", "),
            self.shared.sql.events,
            filter.where_clause(),
            positions.join(", ")
        );
        let client = self.shared.client().await?;
        client
            .query(&sql, &filter.params())
            .await
            .map_err(PostgresError::query(what))
    }

    /// `(hour start, count)` of the matching events.
    async fn hourly(&self, filter: &AnalyticsFilter) -> Result<Vec<(DateTime<Utc>, u64)>, PostgresError> {
        let rows = self
            .grouped("count events by hour", filter, &[&truncated("hour")])
            .await?;
        rows.iter()
            .map(|row| Ok((instant_of(row)?, count_of(row, 1)?)))
            .collect()
    }
}

#[async_trait]
impl EventAnalytics for PostgresEventStore {
    async fn statistics(&self, filter: &AnalyticsFilter) -> StoreResult<EventStatistics> {
        let keys = [
            truncated("hour"),
            "coalesce(metadata ->> 'organizationId', 'unknown')".to_owned(),
            "coalesce(metadata ->> 'userId', 'unknown')".to_owned(),
        ];
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let rows = self.grouped("event statistics", filter, &keys).await?;
        let mut stats = EventStatistics::default();
        for row in &rows {
            let hour = instant_of(row)?;
            let text = |i: usize| {
                row.try_get::<_, String>(i)
                    .map_err(|e| PostgresError::corrupt("statistics group", e))
            };
            let n = count_of(row, 3)?;
            stats.total += n;
            *stats.by_hour.entry(hour_key(hour)).or_default() += n;
            *stats.by_day.entry(day_key(hour)).or_default() += n;
            *stats.by_organization.entry(text(1)?).or_default() += n;
            *stats.by_user.entry(text(2)?).or_default() += n;
        }
        Ok(stats)
    }

    async fn trends(&self, filter: &AnalyticsFilter, interval: Interval) -> StoreResult<Vec<TrendBucket>> {
        let unit = match interval {
            Interval::Hour => "hour",
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
        };
        let rows = self.grouped("event trends", filter, &[&truncated(unit)]).await?;
        let mut buckets = rows
            .iter()
            .map(|row| {
                Ok(TrendBucket {
                    start: instant_of(row)?,
                    count: count_of(row, 1)?,
                })
            })
            .collect::<Result<Vec<_>, PostgresError>>()?;
        buckets.sort_by_key(|b| b.start);
        Ok(buckets)
    }

    async fn heatmap(&self, filter: &AnalyticsFilter) -> StoreResult<Heatmap> {
        Ok(Heatmap::from_counts(self.hourly(filter).await?))
    }
}
