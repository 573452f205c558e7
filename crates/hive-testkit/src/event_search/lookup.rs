//! Look-ups by event type and time range, by correlation id, and look-ups that find nothing.

use std::sync::Arc;

use chrono::Duration;
use hive_domain::{EventCriteria, EventEnvelope, EventPage, Page, TimeRange};
use uuid::Uuid;

use super::SearchStore;
use crate::event_store::PROBE;
use crate::support::{append_ok, at, now_ms, ok, timed, unique, unpositioned};

/// Asserts a look-up answer holds exactly `expected` (by event id, in order) and `total`.
pub(super) fn expect_page(page: &EventPage, expected: &[&EventEnvelope], total: u64, case: &str) {
    let got: Vec<Uuid> = page.items.iter().map(|e| e.event_id).collect();
    let want: Vec<Uuid> = expected.iter().map(|e| e.event_id).collect();
    if got != want {
        let describe = |events: &mut dyn Iterator<Item = &EventEnvelope>| -> Vec<String> {
            events
                .map(|e| format!("{} v{} {} @{}", e.aggregate_id, e.version, e.event_type, e.timestamp))
                .collect()
        };
        panic!(
            "{case}: wrong events or order (oldest first, then global order)\n  expected: {:#?}\n  got: {:#?}",
            describe(&mut expected.iter().copied()),
            describe(&mut page.items.iter())
        );
    }
    for (item, sent) in page.items.iter().zip(expected) {
        assert_eq!(
            unpositioned(item),
            unpositioned(sent),
            "{case}: an envelope came back altered"
        );
    }
    assert_eq!(page.total, total, "{case}: wrong total");
}

/// `events_by_type` returns the events of that type whose timestamp lies in the half-open range
/// `[from, to)`, oldest first, with paging and a total.
pub async fn events_by_type_in_time_range<S: SearchStore + ?Sized + 'static>(store: Arc<S>) {
    let ty = unique("Typed");
    let other_ty = unique("OtherTyped");
    let (a, b) = (unique("by-type-a"), unique("by-type-b"));
    let base = now_ms();
    let a_events = vec![
        timed(&a, PROBE, &ty, 1, at(base, 20)),
        timed(&a, PROBE, &other_ty, 2, at(base, 15)),
        timed(&a, PROBE, &ty, 3, at(base, 30)),
    ];
    let b_events = vec![
        timed(&b, PROBE, &ty, 1, at(base, 0)),
        timed(&b, PROBE, &ty, 2, at(base, 10)),
        timed(&b, PROBE, &ty, 3, at(base, 40)),
    ];
    append_ok(&*store, &a, 0, a_events.clone()).await;
    append_ok(&*store, &b, 0, b_events.clone()).await;
    let (a20, a15, a30) = (&a_events[0], &a_events[1], &a_events[2]);
    let (b0, b10, b40) = (&b_events[0], &b_events[1], &b_events[2]);

    let by_type = |event_type: String, range: TimeRange, page: Page| {
        let store = Arc::clone(&store);
        async move { ok(store.events_by_type(&event_type, range, page).await, "events_by_type") }
    };
    let range = TimeRange::between(at(base, 10), at(base, 30));
    let page = by_type(ty.clone(), range, Page::default()).await;
    expect_page(&page, &[b10, a20], 2, "events_by_type in [+10s, +30s)");
    let page = by_type(ty.clone(), TimeRange::all(), Page::default()).await;
    expect_page(&page, &[b0, b10, a20, a30, b40], 5, "events_by_type over all time");
    let from_only = TimeRange {
        from: Some(at(base, 30)),
        to: None,
    };
    let page = by_type(ty.clone(), from_only, Page::default()).await;
    expect_page(&page, &[a30, b40], 2, "events_by_type from +30s on");
    let to_only = TimeRange {
        from: None,
        to: Some(at(base, 10)),
    };
    let page = by_type(ty.clone(), to_only, Page::default()).await;
    expect_page(&page, &[b0], 1, "events_by_type before +10s");
    let page = by_type(other_ty, range, Page::default()).await;
    expect_page(&page, &[a15], 1, "events_by_type of the other type in [+10s, +30s)");
    let page = by_type(ty, TimeRange::all(), Page::new(1, 2)).await;
    expect_page(&page, &[b10, a20], 5, "events_by_type over all time, offset 1 limit 2");
}

/// `events_by_correlation` returns every event sharing the id, across streams and aggregate
/// types, oldest first (equal timestamps in append order), with paging and a total.
pub async fn events_by_correlation_across_aggregates<S: SearchStore + ?Sized + 'static>(store: Arc<S>) {
    let correlation = unique("correlation");
    let other_correlation = unique("correlation-other");
    let (a, b, c) = (unique("corr-a"), unique("corr-b"), unique("corr-c"));
    let base = now_ms();
    let a_events = vec![
        timed(&a, "CorrelatedOrder", "Placed", 1, at(base, 5)).with_correlation_id(&correlation),
        timed(&a, "CorrelatedOrder", "Shipped", 2, at(base, 15)).with_correlation_id(&other_correlation),
    ];
    let b_events = vec![
        timed(&b, "CorrelatedPayment", "Authorized", 1, at(base, 0)).with_correlation_id(&correlation),
        timed(&b, "CorrelatedPayment", "Captured", 2, at(base, 10)).with_correlation_id(&correlation),
    ];
    let c_events = vec![timed(&c, "CorrelatedInvoice", "Issued", 1, at(base, 10)).with_correlation_id(&correlation)];
    append_ok(&*store, &a, 0, a_events.clone()).await;
    append_ok(&*store, &b, 0, b_events.clone()).await;
    append_ok(&*store, &c, 0, c_events.clone()).await;
    let expected = [&b_events[0], &a_events[0], &b_events[1], &c_events[0]];

    let page = ok(
        store.events_by_correlation(&correlation, Page::default()).await,
        "events_by_correlation",
    );
    expect_page(&page, &expected, 4, "events_by_correlation across 3 aggregates");
    let page = ok(
        store.events_by_correlation(&correlation, Page::new(1, 2)).await,
        "events_by_correlation",
    );
    expect_page(&page, &expected[1..3], 4, "events_by_correlation, offset 1 limit 2");
    let page = ok(
        store.events_by_correlation(&other_correlation, Page::default()).await,
        "events_by_correlation",
    );
    expect_page(&page, &[&a_events[1]], 1, "events_by_correlation of the other id");
}

/// Look-ups that match nothing return an empty page with a total of 0.
pub async fn lookups_without_match_are_empty<S: SearchStore + ?Sized + 'static>(store: Arc<S>) {
    let nothing = EventCriteria {
        aggregate_type: Some(unique("Nothing")),
        ..EventCriteria::default()
    };
    for page in [Page::first(10), Page::new(50, 10)] {
        let found = ok(
            store.search(&nothing, page).await,
            "search for an unknown aggregate type",
        );
        expect_page(
            &found,
            &[],
            0,
            &format!("search for an unknown aggregate type, {page:?}"),
        );
    }
    let found = ok(
        store
            .events_by_type(&unique("NoSuchType"), TimeRange::all(), Page::default())
            .await,
        "events_by_type",
    );
    expect_page(&found, &[], 0, "events_by_type of an unknown type");
    let found = ok(
        store
            .events_by_correlation(&unique("no-such-correlation"), Page::default())
            .await,
        "events_by_correlation",
    );
    expect_page(&found, &[], 0, "events_by_correlation of an unknown id");

    let ty = unique("Lonely");
    let stream = unique("lonely");
    let base = now_ms();
    let only = timed(&stream, PROBE, &ty, 1, base);
    append_ok(&*store, &stream, 0, vec![only.clone()]).await;
    let cases = [
        (TimeRange::between(at(base, 1), at(base, 2)), false, "a later range"),
        (
            TimeRange::between(at(base, -1), base),
            false,
            "a range ending at the event (exclusive)",
        ),
        (TimeRange::between(base, base), false, "an empty range"),
        (
            TimeRange::between(base, base + Duration::milliseconds(1)),
            true,
            "a range starting at the event",
        ),
    ];
    for (range, hit, case) in cases {
        let found = ok(
            store.events_by_type(&ty, range, Page::default()).await,
            "events_by_type",
        );
        let expected: &[&EventEnvelope] = if hit { &[&only] } else { &[] };
        expect_page(
            &found,
            expected,
            expected.len() as u64,
            &format!("events_by_type in {case}"),
        );
    }
}
