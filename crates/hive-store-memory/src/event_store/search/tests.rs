use chrono::{Duration, TimeZone, Utc};
use hive_domain::{event_order, EventEnvelope, EventStoreError, Metadata, SortOrder, TimeRange};
use serde_json::json;

use super::super::bodies::{Bodies, LogBodies, Placed};
use super::super::streams::random_key;
use super::*;

fn state() -> State {
    let mut state = State::default();
    let day = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
    for i in 0..30u64 {
        let event = EventEnvelope::new(
            format!("s{}", i % 3),
            "Payment",
            format!("E{}", i % 5),
            json!({}),
            i / 3 + 1,
        )
        .with_timestamp(day + Duration::hours(i as i64 * 5) - Duration::minutes(i as i64 % 2 * 600))
        .with_correlation_id(format!("c{}", i % 10))
        .with_metadata(Metadata::default().with_organization(format!("o{}", i % 2)));
        state.commit(vec![event]).unwrap();
    }
    state
}

/// The events of `state` indexed again over a log whose bytes are all gone: every body
/// read fails, so a look-up that succeeds read none.
fn without_bodies(state: &State) -> State {
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::File::create(dir.path().join("gone.log")).unwrap();
    let bodies = Bodies::Log(LogBodies::new(file, "gone.log", 0));
    let mut blind = State::new(bodies, random_key());
    let events: Vec<_> = state.bodies.range(0, state.head() as usize).unwrap();
    let starts: Vec<u64> = (0..events.len() as u64).map(|i| i * 100).collect();
    let placed = Placed {
        starts: &starts,
        record: 0,
        end: events.len() as u64 * 100,
        cache: false,
    };
    blind.index_batch(&events, placed).unwrap();
    blind
}

#[test]
fn the_columns_decide_without_reading_bodies() {
    let state = without_bodies(&state());
    let past_the_end = Page::new(1_000, 10);
    let decided = [
        (
            "organization",
            EventCriteria {
                organization_id: Some("o1".into()),
                ..Default::default()
            },
            15,
        ),
        (
            "stream",
            EventCriteria {
                aggregate_id: Some("s0".into()),
                ..Default::default()
            },
            10,
        ),
        (
            "types",
            EventCriteria {
                event_types: vec!["E1".into(), "E2".into()],
                ..Default::default()
            },
            12,
        ),
        (
            "unknown type",
            EventCriteria {
                event_types: vec!["nope".into()],
                ..Default::default()
            },
            0,
        ),
        (
            "user",
            EventCriteria {
                user_id: Some("u".into()),
                ..Default::default()
            },
            0,
        ),
    ];
    for (what, criteria, total) in decided {
        let page = state.search(&criteria, past_the_end).unwrap();
        assert_eq!(page.total, total, "{what}");
    }
    let page = state.search(&EventCriteria::default(), Page::new(0, 1));
    assert!(
        matches!(page, Err(EventStoreError::Backend(_))),
        "the page's body is read: {page:?}"
    );
    let text = EventCriteria {
        text: Some("x".into()),
        ..Default::default()
    };
    assert!(
        state.search(&text, past_the_end).is_err(),
        "text is confirmed on the bodies"
    );
    let correlation = EventCriteria {
        correlation_id: Some("c3".into()),
        ..Default::default()
    };
    assert!(
        state.search(&correlation, past_the_end).is_err(),
        "so are correlation hash hits"
    );
}

#[test]
fn results_equal_the_reference_scan() {
    let state = state();
    let start = Utc.with_ymd_and_hms(2024, 5, 2, 3, 0, 0).unwrap();
    let criteria = [
        EventCriteria::default(),
        EventCriteria {
            event_types: vec!["E1".into(), "E2".into(), "E1".into()],
            ..Default::default()
        },
        EventCriteria {
            time_range: TimeRange::between(start, start + Duration::hours(40)),
            organization_id: Some("o0".into()),
            ..Default::default()
        },
        EventCriteria {
            time_range: TimeRange {
                from: Some(start),
                to: None,
            },
            ..Default::default()
        },
        EventCriteria {
            time_range: TimeRange::between(start, start),
            ..Default::default()
        },
    ];
    for c in &criteria {
        let all = state.read_all(0, 1_000).unwrap();
        let mut want: Vec<&EventEnvelope> = all.iter().filter(|e| c.matches(e)).collect();
        for order in [SortOrder::Asc, SortOrder::Desc] {
            want.sort_by(|a, b| order.apply(event_order(a, b)));
            for (offset, limit) in [(0, 100), (0, 4), (3, 5), (29, 10), (40, 1)] {
                let got = state.search(c, Page::new(offset, limit).in_order(order)).unwrap();
                assert_eq!(got.total, want.len() as u64);
                let expected: Vec<EventEnvelope> = want
                    .iter()
                    .skip(offset as usize)
                    .take(limit as usize)
                    .map(|e| (*e).clone())
                    .collect();
                assert_eq!(got.items, expected, "{c:?} {order:?} {offset} {limit}");
            }
        }
    }
}

/// Chunks wholly outside a time range are skipped; an event out of timestamp order is
/// still found in its chunk.
#[test]
fn time_ranges_skip_chunks_but_not_their_stragglers() {
    let mut state = State::default();
    let day = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    let count = 3 * CHUNK as i64;
    let events: Vec<EventEnvelope> = (0..count)
        .map(|i| {
            // Event 2.5 chunks in carries the first chunk's instants.
            let minutes = if i == count * 5 / 6 { 7 } else { i };
            EventEnvelope::new(format!("s{i}"), "Payment", "E", json!({}), 1)
                .with_timestamp(day + Duration::minutes(minutes))
        })
        .collect();
    state.commit(events).unwrap();
    let early = EventCriteria {
        time_range: TimeRange::between(day + Duration::minutes(5), day + Duration::minutes(10)),
        ..Default::default()
    };
    let page = state.search(&early, Page::new(0, 100)).unwrap();
    assert_eq!(page.total, 6);
    let positions: Vec<_> = page.items.iter().filter_map(|e| e.global_position).collect();
    assert_eq!(positions, [6, 7, 8, count as u64 * 5 / 6 + 1, 9, 10]);
    let late = EventCriteria {
        time_range: TimeRange {
            from: Some(day + Duration::minutes(count - 2)),
            to: None,
        },
        ..Default::default()
    };
    assert_eq!(state.search(&late, Page::new(0, 100)).unwrap().total, 2);
}

/// Many events share a timestamp: descending pages are the exact reverse of the ascending
/// order (ties newest position first), cut after ordering.
#[test]
fn descending_pages_reverse_the_ascending_order_ties_included() {
    let mut state = State::default();
    let at = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
    for i in 0..40i64 {
        // Four distinct instants, committed out of timestamp order.
        let event = EventEnvelope::new(format!("s{i}"), "Payment", "E", json!({}), 1)
            .with_timestamp(at + Duration::seconds((i * 7) % 4));
        state.commit(vec![event]).unwrap();
    }
    let criteria = EventCriteria {
        event_types: vec!["E".into()],
        ..Default::default()
    };
    let ascending = state.search(&criteria, Page::new(0, 100)).unwrap().items;
    let mut reversed = ascending.clone();
    reversed.reverse();
    let descending = state.search(&criteria, Page::new(0, 100).newest_first()).unwrap();
    assert_eq!(descending.total, 40);
    assert_eq!(descending.items, reversed);
    assert_eq!(
        descending.items[..2]
            .iter()
            .map(|e| e.global_position)
            .collect::<Vec<_>>(),
        [Some(38), Some(34)],
        "the latest instant first, its greatest position first"
    );
    let mut paged = Vec::new();
    for offset in (0..45).step_by(6) {
        let page = state.search(&criteria, Page::new(offset, 6).newest_first()).unwrap();
        assert_eq!(page.total, 40, "the total does not depend on the page");
        paged.extend(page.items);
    }
    assert_eq!(paged, reversed);
}
