//! Analytics read from the rollups equal the reference computation
//! ([`EventAnalyticsReport`] over the events the filter matches), for random events and random
//! filters whose range bounds fall anywhere in an hour, in memory and after a durable reopen.

// Helpers outside `#[test]` functions panic on failure too, like the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use hive_domain::{
    AnalyticsFilter, EventAnalytics, EventAnalyticsReport, EventEnvelope, EventStore, Interval, Metadata, TimeRange,
};
use hive_store_memory::{DurableOptions, MemoryEventStore};
use proptest::prelude::*;
use serde_json::json;

/// Event types; the last is never stored.
const TYPES: [&str; 4] = ["PaymentCreated", "PaymentProcessed", "PaymentFailed", "NeverStored"];
/// Organizations and users of the events: none, two names, and a name spelled `unknown`.
const ORGANIZATIONS: [Option<&str>; 4] = [None, Some("org-a"), Some("org-b"), Some("unknown")];
const USERS: [Option<&str>; 4] = [None, Some("ada"), Some("bob"), Some("unknown")];
/// Organizations a filter names; the last is never stored.
const ORGANIZATION_FILTERS: [&str; 4] = ["org-a", "org-b", "unknown", "org-z"];
const INTERVALS: [Interval; 4] = [Interval::Hour, Interval::Day, Interval::Week, Interval::Month];

/// Friday 29 March 2024: five days from it span a month end and two ISO weeks.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 29, 0, 0, 0).unwrap()
}

fn event(at: DateTime<Utc>, kind: usize, organization: usize, user: usize) -> EventEnvelope {
    let metadata = Metadata {
        organization_id: ORGANIZATIONS[organization].map(str::to_owned),
        user_id: USERS[user].map(str::to_owned),
        ..Metadata::default()
    };
    EventEnvelope::new(uuid::Uuid::new_v4().to_string(), "Payment", TYPES[kind], json!({}), 1)
        .with_timestamp(at)
        .with_metadata(metadata)
}

/// An instant within half a day around five days from [`start`]: on an hour boundary, just
/// after or before one, or anywhere in the hour (to the nanosecond).
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let within_hour = prop_oneof![
        Just(Duration::zero()),
        Just(Duration::nanoseconds(1)),
        Just(Duration::hours(1) - Duration::nanoseconds(1)),
        (0i64..3600, 0i64..1_000_000_000).prop_map(|(s, n)| Duration::seconds(s) + Duration::nanoseconds(n)),
    ];
    (-12i64..132, within_hour).prop_map(|(hour, offset)| start() + Duration::hours(hour) + offset)
}

fn events() -> impl Strategy<Value = Vec<EventEnvelope>> {
    let one = (instant(), 0..TYPES.len() - 1, 0..ORGANIZATIONS.len(), 0..USERS.len());
    proptest::collection::vec(one.prop_map(|(at, kind, org, user)| event(at, kind, org, user)), 0..120)
}

fn filter() -> impl Strategy<Value = AnalyticsFilter> {
    (
        proptest::option::of(0..TYPES.len()),
        proptest::option::of(0..ORGANIZATION_FILTERS.len()),
        proptest::option::weighted(0.8, instant()),
        proptest::option::weighted(0.8, instant()),
    )
        .prop_map(|(kind, organization, from, to)| AnalyticsFilter {
            event_type: kind.map(|k| TYPES[k].to_owned()),
            organization_id: organization.map(|o| ORGANIZATION_FILTERS[o].to_owned()),
            time_range: TimeRange { from, to },
        })
}

async fn store_all(store: &MemoryEventStore, events: &[EventEnvelope]) {
    for event in events {
        store.append(&event.aggregate_id, 0, vec![event.clone()]).await.unwrap();
    }
}

/// Asserts every answer of `store` for `filter` equals the reference over `events`.
async fn assert_reference(store: &MemoryEventStore, events: &[EventEnvelope], filter: &AnalyticsFilter) {
    let selected: Vec<&EventEnvelope> = events.iter().filter(|e| filter.matches(e)).collect();
    assert_eq!(
        store.statistics(filter).await.unwrap(),
        EventAnalyticsReport::statistics(selected.iter().copied()),
        "statistics of {filter:?}"
    );
    for interval in INTERVALS {
        assert_eq!(
            store.trends(filter, interval).await.unwrap(),
            EventAnalyticsReport::trends(selected.iter().copied(), interval),
            "trends by {interval:?} of {filter:?}"
        );
    }
    assert_eq!(
        store.heatmap(filter).await.unwrap(),
        EventAnalyticsReport::heatmap(selected.iter().copied()),
        "heatmap of {filter:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn rollup_answers_equal_the_reference(
        events in events(),
        filters in proptest::collection::vec(filter(), 1..8),
    ) {
        hive_testkit::runtime().block_on(async {
            let store = MemoryEventStore::new();
            store_all(&store, &events).await;
            for filter in filters.iter().chain([&AnalyticsFilter::default()]) {
                assert_reference(&store, &events, filter).await;
            }
        });
    }
}

/// Events at uneven times over five days, every combination of type, organization and user.
fn spread() -> Vec<EventEnvelope> {
    (0..300i64)
        .map(|i| {
            let at = start() + Duration::minutes(i * 23) + Duration::seconds(i * 7 % 60);
            let i = usize::try_from(i).unwrap();
            event(at, i % 3, i % 4, i / 4 % 4)
        })
        .collect()
}

/// Filters whose bounds fall on hours, inside hours and outside the events.
fn probes() -> Vec<AnalyticsFilter> {
    let h = |hours: i64, minutes: i64| start() + Duration::hours(hours) + Duration::minutes(minutes);
    let ranges = [
        TimeRange::all(),
        TimeRange::between(h(3, 0), h(40, 0)),
        TimeRange::between(h(3, 17), h(40, 45)),
        TimeRange::between(h(10, 5), h(10, 55)),
        TimeRange {
            from: Some(h(50, 30)),
            to: None,
        },
        TimeRange {
            from: None,
            to: Some(h(20, 1)),
        },
        TimeRange::between(h(40, 0), h(3, 0)),
    ];
    ranges
        .into_iter()
        .flat_map(|range| {
            [
                AnalyticsFilter {
                    time_range: range,
                    ..AnalyticsFilter::default()
                },
                AnalyticsFilter {
                    event_type: Some(TYPES[1].to_owned()),
                    organization_id: Some("unknown".to_owned()),
                    time_range: range,
                },
            ]
        })
        .collect()
}

#[tokio::test]
async fn a_reopened_durable_store_rebuilds_its_rollups() {
    let dir = tempfile::tempdir().unwrap();
    let events = spread();
    let store = MemoryEventStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    store_all(&store, &events).await;
    let before = store.statistics(&AnalyticsFilter::default()).await.unwrap();
    assert_eq!(before.total, 300);
    store.close().await.unwrap();
    drop(store);

    let store = MemoryEventStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    assert_eq!(store.statistics(&AnalyticsFilter::default()).await.unwrap(), before);
    for filter in probes() {
        assert_reference(&store, &events, &filter).await;
    }
}
