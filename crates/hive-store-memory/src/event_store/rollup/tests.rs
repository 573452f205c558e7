use std::cell::RefCell;

use chrono::{Duration, TimeZone};
use hive_domain::{EventAnalyticsReport, EventEnvelope, Metadata, TimeRange};
use serde_json::json;

use super::interner::ABSENT;
use super::*;

fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, day, hour, minute, 0).unwrap()
}

fn event(timestamp: DateTime<Utc>, event_type: &str, organization: Option<&str>, user: Option<&str>) -> EventEnvelope {
    let metadata = Metadata {
        organization_id: organization.map(str::to_owned),
        user_id: user.map(str::to_owned),
        ..Metadata::default()
    };
    EventEnvelope::new("s", "T", event_type, json!({}), 1)
        .with_timestamp(timestamp)
        .with_metadata(metadata)
}

/// Rollups of `events`, with the events as the source of the edge hours.
fn rolled(events: &[EventEnvelope]) -> Rollups {
    let mut rollups = Rollups::default();
    for e in events {
        rollups.add(
            e.timestamp,
            &e.event_type,
            e.metadata.organization_id.as_deref(),
            e.metadata.user_id.as_deref(),
        );
    }
    rollups
}

fn matching(events: &[EventEnvelope], filter: &AnalyticsFilter) -> Vec<EventEnvelope> {
    events.iter().filter(|e| filter.matches(e)).cloned().collect()
}

#[test]
fn events_of_one_hour_and_key_share_a_cell() {
    let rollups = rolled(&[
        event(at(30, 10, 5), "B", Some("o1"), Some("u1")),
        event(at(30, 10, 59), "A", None, None),
        event(at(30, 10, 20), "B", Some("o1"), Some("u1")),
        event(at(30, 11, 0), "A", Some("o1"), None),
    ]);
    let ten = &rollups.hours[&at(30, 10, 0)];
    let (b, a, o1, u1) = (1, 2, 1, 1); // ids in order of first sight
    assert_eq!(
        ten.as_slice(),
        [
            Cell {
                event_type: b,
                organization: o1,
                user: u1,
                count: 2
            },
            Cell {
                event_type: a,
                organization: ABSENT,
                user: ABSENT,
                count: 1
            },
        ],
        "sorted by type id, one cell per key"
    );
    assert_eq!(rollups.hours[&at(30, 11, 0)].len(), 1);
}

#[test]
fn an_hour_keeps_at_most_an_eighth_of_its_cells_spare() {
    let mut rollups = Rollups::default();
    for user in 0..1000 {
        rollups.add(at(30, 10, 0), "A", None, Some(&format!("u{user}")));
        let cells = &rollups.hours[&at(30, 10, 0)];
        assert!(
            cells.capacity() - cells.len() <= cells.len() / 8 + 1,
            "{user}: {}",
            cells.capacity()
        );
    }
}

#[test]
fn a_selection_reads_the_runs_of_its_type_and_organization() {
    let mut events = Vec::new();
    for (kind, org, user) in [
        ("A", "o1", "u1"),
        ("A", "o2", "u1"),
        ("A", "o2", "u2"),
        ("B", "o2", "u1"),
    ] {
        events.push(event(at(30, 10, 0), kind, Some(org), Some(user)));
    }
    let rollups = rolled(&events);
    let count = |event_type: Option<&str>, organization: Option<&str>| -> u32 {
        let filter = AnalyticsFilter {
            event_type: event_type.map(str::to_owned),
            organization_id: organization.map(str::to_owned),
            ..AnalyticsFilter::default()
        };
        let Some(selection) = rollups.selection(&filter) else {
            return 0;
        };
        let hours = (std::ops::Bound::Unbounded, std::ops::Bound::Unbounded);
        rollups
            .cells(hours, selection)
            .flat_map(|(_, cells)| cells.map(|c| c.count))
            .sum()
    };
    assert_eq!(count(Some("A"), Some("o2")), 2);
    assert_eq!(count(Some("A"), None), 3);
    assert_eq!(count(None, Some("o2")), 3);
    assert_eq!(count(Some("B"), Some("o1")), 0);
    assert_eq!(count(Some("C"), None), 0, "an unknown type selects nothing");
    assert_eq!(count(None, None), 4);
}

#[test]
fn edge_hours_are_counted_from_the_events_of_their_part_only() {
    let events = [
        event(at(30, 10, 15), "A", Some("o1"), Some("u1")),
        event(at(30, 10, 45), "A", None, Some("u2")),
        event(at(30, 11, 30), "A", Some("unknown"), None),
        event(at(30, 12, 5), "A", Some("o1"), Some("u1")),
        event(at(30, 12, 30), "A", Some("o1"), Some("u1")),
    ];
    let rollups = rolled(&events);
    let filter = AnalyticsFilter {
        time_range: TimeRange::between(at(30, 10, 30), at(30, 12, 10)),
        ..AnalyticsFilter::default()
    };
    let asked = RefCell::new(Vec::new());
    let edges = |f: &AnalyticsFilter| {
        asked.borrow_mut().push(f.time_range);
        Ok(matching(&events, f))
    };
    let got = rollups.statistics(&filter, edges).unwrap();
    assert_eq!(got, EventAnalyticsReport::statistics(&matching(&events, &filter)));
    assert_eq!(got.total, 3);
    assert_eq!(got.by_organization["unknown"], 2, "no organization and `unknown` merge");
    assert_eq!(
        asked.into_inner(),
        [
            TimeRange::between(at(30, 10, 30), at(30, 11, 0)),
            TimeRange::between(at(30, 12, 0), at(30, 12, 10))
        ]
    );
}

#[test]
fn trends_and_heatmap_derive_from_hour_starts() {
    // Sunday 31 March and Monday 1 April: two ISO weeks, two months.
    let events: Vec<_> = (0..40)
        .map(|i| event(at(31, 0, 0) + Duration::minutes(i * 47), "A", Some("o1"), None))
        .collect();
    let rollups = rolled(&events);
    let filter = AnalyticsFilter::default();
    for interval in [Interval::Hour, Interval::Day, Interval::Week, Interval::Month] {
        assert_eq!(
            rollups.trends(&filter, interval, |f| Ok(matching(&events, f))).unwrap(),
            EventAnalyticsReport::trends(&events, interval),
            "{interval:?}"
        );
    }
    assert_eq!(
        rollups
            .heatmap(&filter, |_| unreachable!("no edge hour in an unbounded range"))
            .unwrap(),
        EventAnalyticsReport::heatmap(&events)
    );
}

#[test]
fn an_overflowing_count_makes_queries_count_the_events() {
    let events = [
        event(at(30, 10, 0), "A", Some("o1"), None),
        event(at(30, 10, 1), "A", Some("o1"), None),
    ];
    let mut rollups = rolled(&events[..1]);
    if let Some(cells) = rollups.hours.get_mut(&at(30, 10, 0)) {
        cells[0].count = u32::MAX;
    }
    rollups.add(events[1].timestamp, "A", Some("o1"), None);
    assert!(
        rollups.overflowed && rollups.hours.is_empty(),
        "the buckets are given up"
    );
    let filter = AnalyticsFilter {
        time_range: TimeRange::between(at(30, 0, 0), at(31, 0, 0)),
        ..AnalyticsFilter::default()
    };
    let got = rollups.statistics(&filter, |f| Ok(matching(&events, f))).unwrap();
    assert_eq!(got.total, 2);
    assert_eq!(got, EventAnalyticsReport::statistics(&events));
}
