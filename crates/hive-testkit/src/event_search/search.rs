//! `search` by criteria, and paging through its answers.

use std::sync::Arc;

use hive_domain::{EventCriteria, EventEnvelope, Metadata, Page, TimeRange};
use serde_json::{json, Value};
use uuid::Uuid;

use super::lookup::expect_page;
use super::SearchStore;
use crate::support::{append_ok, at, now_ms, ok, rich_and_plain, timed, unique, unpositioned};

/// Runs `search` and checks the answer.
async fn expect_search<S: SearchStore + ?Sized>(
    store: &S,
    criteria: EventCriteria,
    expected: &[&EventEnvelope],
    case: &str,
) {
    let page = ok(
        store.search(&criteria, Page::first(100)).await,
        format_args!("search ({case})"),
    );
    expect_page(&page, expected, expected.len() as u64, &format!("search {case}"));
}

/// `search` honours every criterion — aggregate type and id, event types, organization, user,
/// correlation, time range, full text over data and metadata (case-insensitive, every word) —
/// alone and combined, oldest first, with the right total.
pub async fn search_by_criteria<S: SearchStore + ?Sized + 'static>(store: Arc<S>) {
    let (ty, other_ty) = (unique("Searched"), unique("SearchedOther"));
    let (org1, org2, user1, user2) = (unique("org"), unique("org"), unique("user"), unique("user"));
    let (p1, p2, p3, p4) = (unique("p1"), unique("p2"), unique("p3"), unique("p4"));
    let correlation = unique("correlation");
    let base = now_ms();
    let probe = |stream: &str, version, event_type, org: &str, user: &str, seconds, source, data: Value| {
        let aggregate_type = if stream == p4 { &other_ty } else { &ty };
        let mut envelope = timed(stream, aggregate_type, event_type, version, at(base, seconds)).with_metadata(
            Metadata::default()
                .with_organization(org)
                .with_user(user)
                .with_source(source),
        );
        envelope.event_data = data;
        if stream == p2 {
            envelope = envelope.with_correlation_id(&correlation);
        }
        envelope
    };
    #[rustfmt::skip]
    let sent = [
        probe(&p1, 1, "Created", &org1, &user1, 0, "http", json!({"amount": "10.00", "note": "first order"})),
        probe(&p1, 2, "Failed", &org1, &user1, 10, "checkout", json!({"reason": "Card DECLINED by issuer"})),
        probe(&p2, 1, "Created", &org2, &user2, 20, "http", json!({"note": "gift wrapped"})),
        probe(&p2, 2, "Refunded", &org2, &user1, 30, "checkout", json!({"reason": "customer request"})),
        probe(&p3, 1, "Failed", &org1, &user2, 40, "cli", json!({"reason": "insufficient funds"})),
        probe(&p4, 1, "Created", &org1, &user1, 5, "checkout", json!({"note": "declined elsewhere"})),
    ];
    for envelope in &sent {
        let stream = envelope.aggregate_id.clone();
        append_ok(&*store, &stream, envelope.version - 1, vec![envelope.clone()]).await;
    }
    let [e1, e2, e3, e4, e5, e6] = [&sent[0], &sent[1], &sent[2], &sent[3], &sent[4], &sent[5]];

    // Every case is scoped by this test's aggregate type or organization, both fresh.
    let typed = |set: &dyn Fn(&mut EventCriteria)| {
        let mut criteria = EventCriteria {
            aggregate_type: Some(ty.clone()),
            ..EventCriteria::default()
        };
        set(&mut criteria);
        criteria
    };
    let in_org1 = |set: &dyn Fn(&mut EventCriteria)| {
        let mut criteria = EventCriteria {
            organization_id: Some(org1.clone()),
            ..EventCriteria::default()
        };
        set(&mut criteria);
        criteria
    };
    let some = |s: &str| Some(s.to_owned());
    let types = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    let between = |from, to| TimeRange::between(at(base, from), at(base, to));
    #[rustfmt::skip]
    let cases: Vec<(&str, EventCriteria, Vec<&EventEnvelope>)> = vec![
        ("by aggregate type", typed(&|_| {}), vec![e1, e2, e3, e4, e5]),
        ("by aggregate type and id", typed(&|c| c.aggregate_id = some(&p2)), vec![e3, e4]),
        ("by one event type", typed(&|c| c.event_types = types(&["Failed"])), vec![e2, e5]),
        ("by two event types", typed(&|c| c.event_types = types(&["Created", "Refunded"])), vec![e1, e3, e4]),
        ("by organization across aggregate types", in_org1(&|_| {}), vec![e1, e6, e2, e5]),
        ("by aggregate type and organization", typed(&|c| c.organization_id = some(&org1)), vec![e1, e2, e5]),
        ("by user", typed(&|c| c.user_id = some(&user1)), vec![e1, e2, e4]),
        ("by organization and user", in_org1(&|c| c.user_id = some(&user2)), vec![e5]),
        ("by correlation id", typed(&|c| c.correlation_id = some(&correlation)), vec![e3, e4]),
        ("by time range [+10s, +30s)", typed(&|c| c.time_range = between(10, 30)), vec![e2, e3]),
        ("by text in eventData, any case", in_org1(&|c| c.text = some("declined")), vec![e6, e2]),
        ("by aggregate type and text", typed(&|c| c.text = some("declined")), vec![e2]),
        ("by text in metadata.source", typed(&|c| c.text = some("CHECKOUT")), vec![e2, e4]),
        ("by two words of one event", typed(&|c| c.text = some("declined Issuer")), vec![e2]),
        ("by words of two events (every word must occur)", typed(&|c| c.text = some("declined funds")), vec![]),
        ("by text and user", typed(&|c| { c.text = some("customer"); c.user_id = some(&user1) }), vec![e4]),
        (
            "by type, event type, organization and time range",
            typed(&|c| {
                c.event_types = types(&["Failed"]);
                c.organization_id = some(&org1);
                c.time_range = between(0, 20);
            }),
            vec![e2],
        ),
    ];
    for (case, criteria, expected) in cases {
        expect_search(&*store, criteria, &expected, case).await;
    }
}

/// `search` pages with offset and limit in a stable order (timestamp, then global order) and
/// reports the total of all matches on every page, also past the end.
pub async fn search_pages_and_totals<S: SearchStore + ?Sized + 'static>(store: Arc<S>) {
    let aggregate_type = unique("Paged");
    let event_type = unique("PagedEvent");
    let base = now_ms();
    let streams: Vec<String> = (0..5).map(|i| unique(&format!("paged-{i}"))).collect();
    let mut all = Vec::new();
    for (s, stream) in streams.iter().enumerate() {
        let events: Vec<EventEnvelope> = (0..5_i64)
            .map(|v| {
                let seconds = v * 5 + i64::try_from(s).unwrap_or_default();
                timed(stream, &aggregate_type, &event_type, v as u64 + 1, at(base, seconds))
            })
            .collect();
        append_ok(&*store, stream, 0, events.clone()).await;
        all.extend(events);
    }
    all.sort_by_key(|e| e.timestamp);
    let criteria = EventCriteria {
        aggregate_type: Some(aggregate_type.clone()),
        ..EventCriteria::default()
    };
    let search = |page: Page| {
        let (store, criteria) = (Arc::clone(&store), criteria.clone());
        async move { ok(store.search(&criteria, page).await, format_args!("search {page:?}")) }
    };
    let refs: Vec<&EventEnvelope> = all.iter().collect();
    for (offset, limit, range) in [
        (0, 10, 0..10),
        (10, 10, 10..20),
        (20, 10, 20..25),
        (0, 1, 0..1),
        (24, 5, 24..25),
    ] {
        let page = search(Page::new(offset, limit)).await;
        expect_page(
            &page,
            &refs[range],
            25,
            &format!("search offset {offset} limit {limit} of 25"),
        );
    }
    for offset in [25, 100] {
        let page = search(Page::new(offset, 10)).await;
        expect_page(&page, &[], 25, &format!("search offset {offset} past the end of 25"));
    }
    let mut walked = Vec::new();
    for offset in (0..25).step_by(7) {
        walked.extend(search(Page::new(offset, 7)).await.items);
    }
    let walked_ids: Vec<Uuid> = walked.iter().map(|e| e.event_id).collect();
    let all_ids: Vec<Uuid> = all.iter().map(|e| e.event_id).collect();
    assert_eq!(
        walked_ids, all_ids,
        "walking pages of 7 must visit every match once, in order"
    );
    let page = ok(
        store
            .events_by_type(&event_type, TimeRange::all(), Page::new(5, 5))
            .await,
        "events_by_type",
    );
    expect_page(&page, &refs[5..10], 25, "events_by_type offset 5 limit 5 of 25");
}

/// `search` returns the envelopes `append` returned, every field unchanged, with their global
/// positions when it gives any.
pub async fn search_returns_envelopes_unchanged<S: SearchStore + ?Sized + 'static>(store: Arc<S>) {
    let stream = unique("search-round-trip");
    let aggregate_type = unique("SearchRoundTrip");
    let stored = append_ok(&*store, &stream, 0, rich_and_plain(&stream, &aggregate_type)).await;
    let criteria = EventCriteria {
        aggregate_type: Some(aggregate_type.clone()),
        ..EventCriteria::default()
    };
    let found = ok(
        store.search(&criteria, Page::first(10)).await,
        "search by aggregate type",
    );
    assert_eq!(
        found.total, 2,
        "search by a fresh aggregate type must count the 2 events"
    );
    assert_eq!(
        found.items.len(),
        2,
        "search by a fresh aggregate type must return the 2 events"
    );
    for (f, s) in found.items.iter().zip(&stored) {
        assert_eq!(unpositioned(f), unpositioned(s), "search returned an altered envelope");
        if let Some(position) = f.global_position {
            assert_eq!(
                Some(position),
                s.global_position,
                "search returned a wrong global position"
            );
        }
    }
}
