//! The `EventAnalytics` port: counts of events by time, organization and user.
//!
//! Adapters push the work down to the database (Elasticsearch aggregations, MongoDB
//! pipelines); [`EventAnalyticsReport`]'s functions are the reference semantics they must
//! reproduce and what in-memory stores use.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::{EventEnvelope, StoreResult, TimeRange};

/// Which events to count. Every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsFilter {
    /// Only this event type.
    pub event_type: Option<String>,
    /// Only this organization (`metadata.organizationId`).
    pub organization_id: Option<String>,
    /// Only events recorded in this range.
    pub time_range: TimeRange,
}

impl AnalyticsFilter {
    /// Whether an event is counted.
    pub fn matches(&self, event: &EventEnvelope) -> bool {
        self.event_type.as_deref().is_none_or(|t| t == event.event_type)
            && self
                .organization_id
                .as_deref()
                .is_none_or(|o| Some(o) == event.metadata.organization_id.as_deref())
            && self.time_range.contains(event.timestamp)
    }
}

/// Counts of matching events (seed 001/002 `getEventStatistics`). Keys: hours as
/// `YYYY-MM-DDTHH:00:00Z`, days as `YYYY-MM-DD` (UTC); a missing organization or user is
/// counted under `unknown`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventStatistics {
    /// All matching events.
    pub total: u64,
    /// By UTC hour.
    pub by_hour: BTreeMap<String, u64>,
    /// By UTC day.
    pub by_day: BTreeMap<String, u64>,
    /// By organization id.
    pub by_organization: BTreeMap<String, u64>,
    /// By user id.
    pub by_user: BTreeMap<String, u64>,
}

/// The width of a trend bucket. Weeks start on Monday, months on the 1st (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    /// One hour.
    Hour,
    /// One UTC day.
    Day,
    /// One ISO week (Monday to Sunday).
    Week,
    /// One calendar month.
    Month,
}

impl Interval {
    /// The start of the bucket holding `instant`.
    pub fn bucket_start(self, instant: DateTime<Utc>) -> DateTime<Utc> {
        let day = instant.date_naive();
        let midnight = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default());
        match self {
            Interval::Hour => midnight(day) + Duration::hours(i64::from(instant.hour())),
            Interval::Day => midnight(day),
            Interval::Week => midnight(day - Duration::days(i64::from(day.weekday().num_days_from_monday()))),
            Interval::Month => midnight(day.with_day(1).unwrap_or(day)),
        }
    }
}

impl std::str::FromStr for Interval {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "hour" => Ok(Self::Hour),
            "day" => Ok(Self::Day),
            "week" => Ok(Self::Week),
            "month" => Ok(Self::Month),
            other => Err(format!("unknown interval `{other}`: expected hour, day, week or month")),
        }
    }
}

/// One bucket of a trend: how many events started in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrendBucket {
    /// Start of the bucket (UTC).
    pub start: DateTime<Utc>,
    /// Events in it.
    pub count: u64,
}

/// One cell of a heatmap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeatmapCell {
    /// ISO day of week, 1 = Monday … 7 = Sunday.
    pub day_of_week: u8,
    /// Hour of day, 0–23 (UTC).
    pub hour: u8,
    /// Events in that hour of that weekday.
    pub count: u64,
}

/// When events happen: by hour of day × day of week, and by day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Heatmap {
    /// Non-empty cells, ordered by day of week then hour.
    pub cells: Vec<HeatmapCell>,
    /// Events per UTC day (`YYYY-MM-DD`).
    pub by_day: BTreeMap<String, u64>,
}

/// Analytics over stored events.
#[async_trait]
pub trait EventAnalytics: Send + Sync {
    /// Totals by hour, day, organization and user.
    async fn statistics(&self, filter: &AnalyticsFilter) -> StoreResult<EventStatistics>;
    /// Counts per bucket of `interval`, oldest first, empty buckets left out.
    async fn trends(&self, filter: &AnalyticsFilter, interval: Interval) -> StoreResult<Vec<TrendBucket>>;
    /// Counts by hour of day × day of week, and by day.
    async fn heatmap(&self, filter: &AnalyticsFilter) -> StoreResult<Heatmap>;
}

/// The reference computations, over events already filtered.
#[derive(Debug, Clone, Copy)]
pub struct EventAnalyticsReport;

impl EventAnalyticsReport {
    /// [`EventStatistics`] of `events`.
    pub fn statistics<'a>(events: impl IntoIterator<Item = &'a EventEnvelope>) -> EventStatistics {
        let mut stats = EventStatistics::default();
        for event in events {
            stats.total += 1;
            *stats.by_hour.entry(hour_key(event.timestamp)).or_default() += 1;
            *stats.by_day.entry(day_key(event.timestamp)).or_default() += 1;
            let org = event
                .metadata
                .organization_id
                .clone()
                .unwrap_or_else(|| "unknown".into());
            *stats.by_organization.entry(org).or_default() += 1;
            let user = event.metadata.user_id.clone().unwrap_or_else(|| "unknown".into());
            *stats.by_user.entry(user).or_default() += 1;
        }
        stats
    }

    /// Trend buckets of `events`.
    pub fn trends<'a>(events: impl IntoIterator<Item = &'a EventEnvelope>, interval: Interval) -> Vec<TrendBucket> {
        let mut buckets: BTreeMap<DateTime<Utc>, u64> = BTreeMap::new();
        for event in events {
            *buckets.entry(interval.bucket_start(event.timestamp)).or_default() += 1;
        }
        buckets
            .into_iter()
            .map(|(start, count)| TrendBucket { start, count })
            .collect()
    }

    /// Heatmap of `events`.
    pub fn heatmap<'a>(events: impl IntoIterator<Item = &'a EventEnvelope>) -> Heatmap {
        Heatmap::from_counts(events.into_iter().map(|event| (event.timestamp, 1)))
    }
}

impl Heatmap {
    /// The heatmap of event counts at instants (or hour buckets), as adapters that count
    /// server-side receive them: cells by weekday × hour and totals by UTC day; zero counts
    /// are left out.
    pub fn from_counts(counts: impl IntoIterator<Item = (DateTime<Utc>, u64)>) -> Heatmap {
        let mut cells: BTreeMap<(u8, u8), u64> = BTreeMap::new();
        let mut by_day = BTreeMap::new();
        for (t, count) in counts.into_iter().filter(|(_, count)| *count > 0) {
            let weekday = u8::try_from(t.weekday().number_from_monday()).unwrap_or(0);
            let hour = u8::try_from(t.hour()).unwrap_or(0);
            *cells.entry((weekday, hour)).or_default() += count;
            *by_day.entry(day_key(t)).or_default() += count;
        }
        let cells = cells
            .into_iter()
            .map(|((day_of_week, hour), count)| HeatmapCell {
                day_of_week,
                hour,
                count,
            })
            .collect();
        Heatmap { cells, by_day }
    }
}

/// `YYYY-MM-DDTHH:00:00Z`.
pub fn hour_key(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:00:00Z").to_string()
}

/// `YYYY-MM-DD`.
pub fn day_key(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metadata;
    use serde_json::json;

    fn at(s: &str, org: Option<&str>) -> EventEnvelope {
        let meta = Metadata {
            organization_id: org.map(str::to_owned),
            ..Metadata::default()
        };
        EventEnvelope::new("a", "T", "E", json!({}), 1)
            .with_timestamp(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
            .with_metadata(meta)
    }

    #[test]
    fn statistics_count_by_hour_day_org_and_user() {
        let events = [
            at("2026-03-02T10:15:00Z", Some("o1")),
            at("2026-03-02T10:45:00Z", None),
            at("2026-03-03T00:00:00Z", Some("o1")),
        ];
        let s = EventAnalyticsReport::statistics(&events);
        assert_eq!(s.total, 3);
        assert_eq!(s.by_hour["2026-03-02T10:00:00Z"], 2);
        assert_eq!(s.by_day["2026-03-03"], 1);
        assert_eq!(s.by_organization["o1"], 2);
        assert_eq!(s.by_organization["unknown"], 1);
        assert_eq!(s.by_user["unknown"], 3);
    }

    #[test]
    fn buckets_start_on_the_hour_day_monday_and_first_of_month() {
        let t = DateTime::parse_from_rfc3339("2026-03-05T13:47:12Z")
            .unwrap()
            .with_timezone(&Utc); // a Thursday
        let iso = |i: Interval| i.bucket_start(t).to_rfc3339();
        assert_eq!(iso(Interval::Hour), "2026-03-05T13:00:00+00:00");
        assert_eq!(iso(Interval::Day), "2026-03-05T00:00:00+00:00");
        assert_eq!(iso(Interval::Week), "2026-03-02T00:00:00+00:00");
        assert_eq!(iso(Interval::Month), "2026-03-01T00:00:00+00:00");
        assert_eq!("week".parse::<Interval>().unwrap(), Interval::Week);
        assert!("year".parse::<Interval>().is_err());
    }

    #[test]
    fn heatmap_uses_iso_weekdays() {
        let events = [at("2026-03-01T23:00:00Z", None), at("2026-03-02T00:30:00Z", None)]; // Sunday, Monday
        let h = EventAnalyticsReport::heatmap(&events);
        assert_eq!(
            h.cells,
            vec![
                HeatmapCell {
                    day_of_week: 1,
                    hour: 0,
                    count: 1
                },
                HeatmapCell {
                    day_of_week: 7,
                    hour: 23,
                    count: 1
                }
            ]
        );
        assert_eq!(h.by_day.len(), 2);
    }

    #[test]
    fn filter_matches_type_org_and_range() {
        let e = at("2026-03-02T10:15:00Z", Some("o1"));
        assert!(AnalyticsFilter::default().matches(&e));
        assert!(!AnalyticsFilter {
            event_type: Some("X".into()),
            ..Default::default()
        }
        .matches(&e));
        assert!(!AnalyticsFilter {
            organization_id: Some("o2".into()),
            ..Default::default()
        }
        .matches(&e));
    }
}
