//! Look-ups newest first.

use std::sync::Arc;

use hive_domain::{EventCriteria, EventEnvelope, Page, SortOrder, TimeRange};

use super::lookup::expect_page;
use super::SearchStore;
use crate::event_store::PROBE;
use crate::support::{append_ok, at, now_ms, ok, timed, unique};

/// With [`SortOrder::Desc`], `search`, `events_by_type` and `events_by_correlation` return the
/// exact reverse of the ascending order (equal timestamps: later global position first), offset
/// and limit apply after ordering, and the total does not change.
pub async fn lookups_newest_first<S: SearchStore + ?Sized + 'static>(store: Arc<S>) {
    let ty = unique("Newest");
    let correlation = unique("newest-correlation");
    let (a, b) = (unique("newest-a"), unique("newest-b"));
    let base = now_ms();
    let with_correlation = |e: EventEnvelope| e.with_correlation_id(correlation.clone());
    let a_events = vec![
        with_correlation(timed(&a, PROBE, &ty, 1, at(base, 10))),
        with_correlation(timed(&a, PROBE, &ty, 2, at(base, 30))),
    ];
    let b_events = vec![
        with_correlation(timed(&b, PROBE, &ty, 1, at(base, 0))),
        // Same instant as a's first event, appended after it: comes before it newest first.
        with_correlation(timed(&b, PROBE, &ty, 2, at(base, 10))),
        with_correlation(timed(&b, PROBE, &ty, 3, at(base, 40))),
    ];
    append_ok(&*store, &a, 0, a_events.clone()).await;
    append_ok(&*store, &b, 0, b_events.clone()).await;
    let (a10, a30) = (&a_events[0], &a_events[1]);
    let (b0, b10, b40) = (&b_events[0], &b_events[1], &b_events[2]);
    let newest = [b40, a30, b10, a10, b0];

    let criteria = EventCriteria {
        event_types: vec![ty.clone()],
        ..EventCriteria::default()
    };
    let desc = Page::default().in_order(SortOrder::Desc);
    let page = ok(store.search(&criteria, desc).await, "search newest first");
    expect_page(&page, &newest, 5, "search newest first");
    let page = ok(
        store.search(&criteria, Page::new(1, 2).newest_first()).await,
        "search newest first, offset 1 limit 2",
    );
    expect_page(&page, &newest[1..3], 5, "search newest first, offset 1 limit 2");
    let page = ok(
        store.search(&criteria, Page::new(4, 10).newest_first()).await,
        "search newest first, last page",
    );
    expect_page(&page, &newest[4..], 5, "search newest first, last page");
    let page = ok(store.search(&criteria, Page::default()).await, "search oldest first");
    expect_page(&page, &[b0, a10, b10, a30, b40], 5, "search oldest first (the default)");

    let range = TimeRange::between(at(base, 10), at(base, 40));
    let page = ok(
        store.events_by_type(&ty, range, desc).await,
        "events_by_type newest first",
    );
    expect_page(
        &page,
        &[a30, b10, a10],
        3,
        "events_by_type newest first in [+10s, +40s)",
    );
    let page = ok(
        store.events_by_correlation(&correlation, desc).await,
        "events_by_correlation newest first",
    );
    expect_page(&page, &newest, 5, "events_by_correlation newest first");
}
