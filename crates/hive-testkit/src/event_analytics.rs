//! The [`EventAnalytics`] conformance cases, for stores that implement both [`EventStore`] and
//! [`EventAnalytics`] (the cases append events, then count them).
//!
//! Every case appends events of its own organization and event types (random names), and
//! filters on them, so the cases run in parallel against one shared backend. Answers are
//! compared with [`EventAnalyticsReport`], the reference computation.
//!
//! | case | checks |
//! |---|---|
//! | [`statistics_match_the_reference`] | total, by hour, day, organization and user; `unknown` |
//! | [`trends_match_the_reference`] | hour, day, ISO week and month buckets |
//! | [`heatmap_matches_the_reference`] | hour of day × ISO weekday cells, and days |
//! | [`filters_and_empty_ranges`] | event type, organization, half-open range, empty answers |

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hive_domain::{
    AnalyticsFilter, EventAnalytics, EventAnalyticsReport, EventEnvelope, EventStore, Heatmap, Interval, Metadata,
    TimeRange,
};
use serde_json::json;

use crate::support::{append_ok, ok, unique};
use crate::Held;

/// A store the analytics suite can run on: it stores events and counts them.
pub trait AnalyticsStore: EventStore + EventAnalytics {}

impl<S: EventStore + EventAnalytics + ?Sized> AnalyticsStore for S {}

/// What an analytics conformance factory may produce: the store or a `Held` store.
pub trait IntoHeldAnalytics {
    /// The store type under test.
    type Store: ?Sized;
    /// Wraps the value into a [`Held`].
    fn into_held(self) -> Held<Self::Store>;
}

impl<S: AnalyticsStore> IntoHeldAnalytics for S {
    type Store = S;
    fn into_held(self) -> Held<S> {
        Held::new(self)
    }
}

impl<S: AnalyticsStore + ?Sized> IntoHeldAnalytics for Held<S> {
    type Store = S;
    fn into_held(self) -> Held<S> {
        self
    }
}

/// Converts a factory output for the analytics suite; not a public API.
#[doc(hidden)]
pub fn hold_analytics_store<T: IntoHeldAnalytics>(value: T) -> Held<T::Store> {
    value.into_held()
}

fn start() -> DateTime<Utc> {
    // A Saturday, so the events span two ISO weeks and two months.
    Utc.with_ymd_and_hms(2024, 3, 30, 22, 0, 0).single().unwrap_or_default()
}

/// The events of one case: `kind` events of `org` at uneven times over four days, by two users
/// and one without user, plus `other` events that no filter of the case selects.
fn events(org: &str, kind: &str, other: &str) -> Vec<EventEnvelope> {
    let offsets_minutes = [0, 5, 59, 60, 130, 1440, 1500, 2900, 4400, 4401];
    offsets_minutes
        .iter()
        .enumerate()
        .map(|(i, minutes)| {
            let metadata = match i % 3 {
                0 => Metadata::default().with_organization(org).with_user("ada"),
                1 => Metadata::default().with_organization(org).with_user("bob"),
                _ => Metadata::default().with_organization(org),
            };
            let event_type = if i == 4 { other } else { kind };
            EventEnvelope::new(unique("analytics"), "AnalyticsProbe", event_type, json!({ "i": i }), 1)
                .with_timestamp(start() + Duration::minutes(*minutes))
                .with_metadata(metadata)
        })
        .collect()
}

/// Appends the case's events (one stream each) and returns them as stored.
async fn store_events<S: AnalyticsStore + ?Sized>(store: &S, org: &str, kind: &str, other: &str) -> Vec<EventEnvelope> {
    let mut stored = Vec::new();
    for event in events(org, kind, other) {
        let stream = event.aggregate_id.clone();
        stored.extend(append_ok(store, &stream, 0, vec![event]).await);
    }
    stored
}

fn selected<'a>(events: &'a [EventEnvelope], filter: &'a AnalyticsFilter) -> impl Iterator<Item = &'a EventEnvelope> {
    events.iter().filter(|e| filter.matches(e))
}

fn filter(org: &str, kind: Option<&str>, range: TimeRange) -> AnalyticsFilter {
    AnalyticsFilter {
        event_type: kind.map(str::to_owned),
        organization_id: Some(org.to_owned()),
        time_range: range,
    }
}

fn wide() -> TimeRange {
    TimeRange::between(start() - Duration::days(1), start() + Duration::days(10))
}

/// `statistics` equals [`EventAnalyticsReport::statistics`].
pub async fn statistics_match_the_reference<S: AnalyticsStore + ?Sized + 'static>(store: Arc<S>) {
    let (org, kind, other) = (unique("org"), unique("Kind"), unique("Other"));
    let events = store_events(&*store, &org, &kind, &other).await;
    for f in [filter(&org, Some(&kind), wide()), filter(&org, None, wide())] {
        let got = ok(store.statistics(&f).await, format_args!("statistics({f:?})"));
        let want = EventAnalyticsReport::statistics(selected(&events, &f));
        assert_eq!(got, want, "statistics of {f:?}");
    }
    let got = ok(store.statistics(&filter(&org, Some(&kind), wide())).await, "statistics");
    assert_eq!(got.total, 9, "nine events of the type");
    assert_eq!(
        got.by_user.get("unknown"),
        Some(&3),
        "events without user count as `unknown`"
    );
    assert_eq!(got.by_organization.get(&org), Some(&9));
}

/// `trends` equals [`EventAnalyticsReport::trends`] for every interval.
pub async fn trends_match_the_reference<S: AnalyticsStore + ?Sized + 'static>(store: Arc<S>) {
    let (org, kind, other) = (unique("org"), unique("Kind"), unique("Other"));
    let events = store_events(&*store, &org, &kind, &other).await;
    let f = filter(&org, Some(&kind), wide());
    for interval in [Interval::Hour, Interval::Day, Interval::Week, Interval::Month] {
        let got = ok(store.trends(&f, interval).await, format_args!("trends({interval:?})"));
        assert_eq!(
            got,
            EventAnalyticsReport::trends(selected(&events, &f), interval),
            "trends by {interval:?}"
        );
    }
    let months = ok(store.trends(&f, Interval::Month).await, "trends by month");
    assert_eq!(months.len(), 2, "March and April");
}

/// `heatmap` equals [`EventAnalyticsReport::heatmap`].
pub async fn heatmap_matches_the_reference<S: AnalyticsStore + ?Sized + 'static>(store: Arc<S>) {
    let (org, kind, other) = (unique("org"), unique("Kind"), unique("Other"));
    let events = store_events(&*store, &org, &kind, &other).await;
    let f = filter(&org, Some(&kind), wide());
    let got = ok(store.heatmap(&f).await, "heatmap");
    assert_eq!(got, EventAnalyticsReport::heatmap(selected(&events, &f)), "heatmap");
    assert_eq!(
        got.cells.first().map(|c| c.day_of_week),
        Some(1),
        "cells ordered from Monday"
    );
}

/// Filters select by type, organization and half-open range; nothing selected is all zero.
pub async fn filters_and_empty_ranges<S: AnalyticsStore + ?Sized + 'static>(store: Arc<S>) {
    let (org, kind, other) = (unique("org"), unique("Kind"), unique("Other"));
    let events = store_events(&*store, &org, &kind, &other).await;
    let bounded = TimeRange::between(start() + Duration::minutes(5), start() + Duration::minutes(60));
    let f = filter(&org, Some(&kind), bounded);
    let got = ok(store.statistics(&f).await, "statistics of a bounded range");
    assert_eq!(
        got.total, 2,
        "[from, to): the event at `from` counts, the one at `to` does not"
    );
    assert_eq!(got, EventAnalyticsReport::statistics(selected(&events, &f)));
    let empty_range = TimeRange::between(start() + Duration::days(100), start() + Duration::days(101));
    for f in [
        filter(&org, Some(&kind), empty_range),
        filter(&unique("org"), Some(&kind), wide()),
        filter(&org, Some(&unique("Nothing")), wide()),
    ] {
        let stats = ok(store.statistics(&f).await, "statistics");
        assert_eq!(stats.total, 0, "nothing selected by {f:?}");
        assert!(stats.by_day.is_empty() && stats.by_hour.is_empty() && stats.by_user.is_empty());
        assert!(ok(store.trends(&f, Interval::Day).await, "trends").is_empty());
        assert_eq!(ok(store.heatmap(&f).await, "heatmap"), Heatmap::default());
    }
}

/// Generates the [`EventAnalytics`] conformance suite: one
/// `#[tokio::test(flavor = "multi_thread", worker_threads = 4)]` per case of
/// [`event_analytics`](crate::event_analytics), each named `event_analytics_<case>`. The store
/// must implement both [`EventStore`] and [`EventAnalytics`]; the argument is a future whose
/// output is the store or a [`Held`] store, evaluated afresh in every test. The
/// `skip_unless = <bool>, factory` form skips every test where the expression is false (see
/// [`event_store_conformance!`](crate::event_store_conformance)).
///
/// ```ignore
/// mod analytics {
///     hive_testkit::event_analytics_conformance!(async { MemoryEventStore::new() });
/// }
/// ```
#[macro_export]
macro_rules! event_analytics_conformance {
    (skip_unless = $guard:expr, $factory:expr $(,)?) => {
        $crate::__hive_conformance_tests!($crate::event_analytics::hold_analytics_store, $factory, $guard, event_analytics, [
            event_analytics_statistics_match_the_reference => statistics_match_the_reference,
            event_analytics_trends_match_the_reference => trends_match_the_reference,
            event_analytics_heatmap_matches_the_reference => heatmap_matches_the_reference,
            event_analytics_filters_and_empty_ranges => filters_and_empty_ranges,
        ]);
    };
    ($factory:expr $(,)?) => {
        $crate::event_analytics_conformance!(skip_unless = true, $factory);
    };
}
