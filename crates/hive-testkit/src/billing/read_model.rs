//! The [`PaymentReadModel`] conformance cases.
//!
//! | case | checks |
//! |---|---|
//! | [`records_round_trip`] | every field of a record reads back unchanged; unknown ids are `None` |
//! | [`upsert_keeps_the_latest_position`] | an older position is refused, an equal one overwrites |
//! | [`get_many_answers_in_the_order_asked`] | one answer per key, in order; unknown keys are `None` |
//! | [`organizations_share_payment_ids`] | two organizations' same payment id: two records, neither sees the other |
//! | [`upsert_many_keeps_the_latest_position`] | `upsert`'s rule per record, in order; the count written |
//! | [`organization_listing_order_and_paging`] | `organization_order`, offset/limit, totals, empty pages |
//! | [`statistics_match_the_reference`] | status × currency figures, rounding, daily buckets, ranges |
//! | [`trends_match_the_reference`] | daily buckets per currency, empty ranges |
//! | [`keys_page_by_keyset`] | `list_keys` ascending after a key, per organization and overall |
//! | [`sub_millisecond_instants_sort_and_filter_exactly`] | nanoseconds read back, order listings and bound statistics |
//! | [`upsert_many_spans_batches_and_skips_stale_records`] | 2 100 records in one call: stale ones skipped, none lost |

use std::sync::Arc;

use hive_billing::{
    organization_order, PaymentKey, PaymentReadModel, PaymentRecord, PaymentStatistics, PaymentStatus, PaymentView,
};
use hive_domain::{Page, TimeRange};

use super::support::{at, ok, payment, same_id_in_two_organizations};
use crate::support::unique;

pub use super::bulk_upsert::upsert_many_spans_batches_and_skips_stale_records;
pub use super::instants::sub_millisecond_instants_sort_and_filter_exactly;

async fn upsert<S: PaymentReadModel + ?Sized>(store: &S, payment: PaymentView, position: u64) -> bool {
    let what = format!("upsert(`{}` @{position})", payment.payment_id);
    ok(store.upsert(PaymentRecord { payment, position }).await, what)
}

async fn get<S: PaymentReadModel + ?Sized>(store: &S, key: &PaymentKey) -> Option<PaymentRecord> {
    ok(store.get(key).await, format_args!("get(`{key}`)"))
}

/// A varied set of payments of `org` over several days, statuses and currencies; the
/// averages of some groups need rounding half-to-even.
fn fixture(org: &str) -> Vec<PaymentView> {
    use PaymentStatus::*;
    // The same ids in every organization: keys, not ids, tell the payments apart.
    let id = |n: u32| format!("p{n:02}");
    vec![
        payment(
            &id(1),
            org,
            Completed,
            "100.00",
            "EUR",
            0,
            Some(1),
            "Cloud hosting March",
            &["hosting"],
        ),
        payment(
            &id(2),
            org,
            Completed,
            "0.01",
            "EUR",
            2,
            Some(3),
            "Cloud hosting April",
            &[],
        ),
        payment(&id(3), org, Completed, "0.02", "EUR", 4, Some(26), "Storage", &[]),
        payment(
            &id(4),
            org,
            Refunded,
            "50.00",
            "USD",
            5,
            Some(27),
            "Support plan",
            &["support"],
        ),
        payment(
            &id(5),
            org,
            PartiallyRefunded,
            "33.33",
            "USD",
            6,
            Some(28),
            "Support plan",
            &[],
        ),
        payment(&id(6), org, Pending, "10.00", "EUR", 30, None, "Pending invoice", &[]),
        payment(&id(7), org, Failed, "20.00", "EUR", 31, None, "Declined card", &[]),
        payment(&id(8), org, Completed, "1500", "JPY", 32, Some(49), "Tokyo region", &[]),
        payment(&id(9), org, Completed, "1501", "JPY", 33, Some(50), "Tokyo region", &[]),
        payment(
            &id(10),
            org,
            Completed,
            "10.00",
            "EUR",
            34,
            Some(34),
            "Same instant A",
            &[],
        ),
        payment(
            &id(11),
            org,
            Completed,
            "10.00",
            "EUR",
            34,
            Some(34),
            "Same instant B",
            &[],
        ),
    ]
}

async fn store_fixture<S: PaymentReadModel + ?Sized>(store: &S, org: &str) -> Vec<PaymentView> {
    let payments = fixture(org);
    for (position, p) in (1..).zip(&payments) {
        assert!(upsert(store, p.clone(), position).await, "first upsert must write");
    }
    payments
}

/// A stored record reads back with every field unchanged; an unknown payment is `None`.
pub async fn records_round_trip<S: PaymentReadModel + ?Sized + 'static>(store: Arc<S>) {
    let org = unique("org");
    for (position, p) in (10..).zip(fixture(&org)) {
        upsert(&*store, p.clone(), position).await;
        let back = get(&*store, &p.key()).await;
        assert_eq!(
            back,
            Some(PaymentRecord { payment: p, position }),
            "the record must read back unchanged"
        );
    }
    assert_eq!(
        get(&*store, &PaymentKey::new(&org, &unique("unknown"))).await,
        None,
        "get of an unknown payment"
    );
    assert_eq!(
        get(&*store, &PaymentKey::new(&unique("org"), "p01")).await,
        None,
        "get of a payment id another organization has"
    );
}

/// `upsert` writes unless the stored record has a greater position; equal positions overwrite.
pub async fn upsert_keeps_the_latest_position<S: PaymentReadModel + ?Sized + 'static>(store: Arc<S>) {
    let org = unique("org");
    let mut p = fixture(&org).remove(0);
    assert!(upsert(&*store, p.clone(), 5).await, "upsert into an empty slot");
    let mut older = p.clone();
    older.status = PaymentStatus::Pending;
    assert!(
        !upsert(&*store, older, 4).await,
        "an older position must not be written"
    );
    assert_eq!(get(&*store, &p.key()).await.map(|r| r.payment), Some(p.clone()));
    p.description = "rewritten".into();
    assert!(upsert(&*store, p.clone(), 5).await, "an equal position overwrites");
    p.status = PaymentStatus::Refunded;
    assert!(upsert(&*store, p.clone(), 9).await, "a newer position overwrites");
    assert_eq!(
        get(&*store, &p.key()).await,
        Some(PaymentRecord {
            payment: p,
            position: 9
        })
    );
}

/// `get_many` answers one entry per key in the order asked: the stored record, `None` for an
/// unknown payment (or another organization's payment of the same id), the same record again
/// for a key asked twice; nothing for no keys.
pub async fn get_many_answers_in_the_order_asked<S: PaymentReadModel + ?Sized + 'static>(store: Arc<S>) {
    let org = unique("org");
    let payments = store_fixture(&*store, &org).await;
    let record = |n: usize| PaymentRecord {
        payment: payments[n].clone(),
        position: n as u64 + 1,
    };
    let unknown = PaymentKey::new(&org, &unique("unknown"));
    let other = PaymentKey::new(&unique("org"), &payments[0].payment_id);
    let keys: Vec<PaymentKey> = vec![
        payments[2].key(),
        unknown,
        payments[0].key(),
        payments[2].key(),
        other,
        payments[10].key(),
    ];
    let asked: Vec<&PaymentKey> = keys.iter().collect();
    let got = ok(store.get_many(&asked).await, format_args!("get_many({keys:?})"));
    assert_eq!(
        got,
        vec![
            Some(record(2)),
            None,
            Some(record(0)),
            Some(record(2)),
            None,
            Some(record(10))
        ],
        "get_many must answer every key in the order asked, unknown keys as None"
    );
    assert_eq!(
        ok(store.get_many(&[]).await, "get_many(&[])"),
        Vec::new(),
        "get_many of no keys"
    );
}

/// `upsert_many` applies `upsert`'s rule to each record in order (an older position than
/// the stored one is not written, an equal one overwrites, a new payment is written) and
/// returns how many it wrote.
pub async fn upsert_many_keeps_the_latest_position<S: PaymentReadModel + ?Sized + 'static>(store: Arc<S>) {
    let org = unique("org");
    let payments = fixture(&org);
    let (stale_first, mut equal, stale_middle, fresh, twice_up, twice_down) = (
        payments[0].clone(),
        payments[1].clone(),
        payments[2].clone(),
        payments[3].clone(),
        payments[4].clone(),
        payments[5].clone(),
    );
    assert!(
        upsert(&*store, stale_first.clone(), 5).await,
        "upsert into an empty slot"
    );
    assert!(upsert(&*store, equal.clone(), 7).await, "upsert into an empty slot");
    assert!(
        upsert(&*store, stale_middle.clone(), 9).await,
        "upsert into an empty slot"
    );
    let older = |p: &PaymentView| {
        let mut older = p.clone();
        older.status = PaymentStatus::Pending;
        older.description = "older".into();
        older
    };
    equal.description = "rewritten".into();
    let mut twice_up_later = twice_up.clone();
    twice_up_later.description = "later".into();
    let batch = vec![
        PaymentRecord {
            payment: older(&stale_first),
            position: 4,
        },
        PaymentRecord {
            payment: equal.clone(),
            position: 7,
        },
        PaymentRecord {
            payment: fresh.clone(),
            position: 3,
        },
        PaymentRecord {
            payment: older(&stale_middle),
            position: 8,
        },
        PaymentRecord {
            payment: twice_up.clone(),
            position: 10,
        },
        PaymentRecord {
            payment: twice_up_later.clone(),
            position: 12,
        },
        PaymentRecord {
            payment: twice_down.clone(),
            position: 12,
        },
        PaymentRecord {
            payment: older(&twice_down),
            position: 10,
        },
    ];
    let written = ok(store.upsert_many(batch).await, "upsert_many");
    let expected = [
        (stale_first, 5),
        (equal, 7),
        (fresh, 3),
        (stale_middle, 9),
        (twice_up_later, 12),
        (twice_down, 12),
    ];
    for (payment, position) in expected {
        assert_eq!(
            get(&*store, &payment.key()).await,
            Some(PaymentRecord { payment, position }),
            "upsert_many: an older position must not be written, an equal or newer one must"
        );
    }
    assert_eq!(
        written, 5,
        "upsert_many must count the records written: not the two older positions nor the older second write"
    );
    assert_eq!(ok(store.upsert_many(Vec::new()).await, "upsert_many(vec![])"), 0);
}

/// `list_by_organization` sorts by `organization_order`, pages by offset/limit, counts all of
/// the organization's payments, and sees no other organization's.
pub async fn organization_listing_order_and_paging<S: PaymentReadModel + ?Sized + 'static>(store: Arc<S>) {
    let (org, other) = (unique("org"), unique("org"));
    let mut expected = store_fixture(&*store, &org).await;
    store_fixture(&*store, &other).await;
    expected.sort_by(organization_order);
    let all = ok(
        store.list_by_organization(&org, Page::new(0, 100)).await,
        "list page 0..100",
    );
    assert_eq!(all.total, expected.len() as u64, "total of the organization's payments");
    let ids = |v: &[PaymentView]| v.iter().map(|p| p.payment_id.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(&all.items),
        ids(&expected),
        "processedAt desc, unprocessed last, then paymentId asc"
    );
    let page = ok(
        store.list_by_organization(&org, Page::new(3, 4)).await,
        "list page 3..7",
    );
    assert_eq!(ids(&page.items), ids(&expected[3..7]), "offset 3, limit 4");
    assert_eq!(page.total, expected.len() as u64, "the total ignores paging");
    let last = ok(
        store.list_by_organization(&org, Page::new(10, 4)).await,
        "list page 10..14",
    );
    assert_eq!(ids(&last.items), ids(&expected[10..]), "a short last page");
    let beyond = ok(
        store.list_by_organization(&org, Page::new(50, 4)).await,
        "list beyond the end",
    );
    assert!(beyond.items.is_empty(), "a page beyond the end is empty");
    assert_eq!(beyond.total, expected.len() as u64);
    let none = ok(
        store.list_by_organization(&unique("org"), Page::new(0, 10)).await,
        "list of an empty organization",
    );
    assert_eq!(
        (none.items.len(), none.total),
        (0, 0),
        "an organization without payments"
    );
}

/// `statistics` equals [`PaymentStatistics::compute`] for several ranges, including the
/// half-open bounds and a range that excludes everything.
pub async fn statistics_match_the_reference<S: PaymentReadModel + ?Sized + 'static>(store: Arc<S>) {
    let (org, other) = (unique("org"), unique("org"));
    let payments = store_fixture(&*store, &org).await;
    store_fixture(&*store, &other).await;
    let ranges = [
        TimeRange::between(at(-1000), at(1000)),
        TimeRange::between(at(1), at(34)),
        TimeRange::between(at(3), at(3)),
        TimeRange::between(at(2000), at(3000)),
    ];
    for range in ranges {
        let got = ok(
            store.statistics(&org, range).await,
            format_args!("statistics({range:?})"),
        );
        let want = PaymentStatistics::compute(&payments, &org, &range);
        assert_eq!(got, want, "statistics over {range:?}");
    }
    let everything = ok(
        store.statistics(&org, TimeRange::between(at(-1000), at(1000))).await,
        "statistics",
    );
    let eur = &everything.by_status[&PaymentStatus::Completed];
    let figures = &eur[&super::support::currency("EUR")];
    assert_eq!(
        (
            figures.count,
            figures.total_amount.to_string(),
            figures.average_amount.to_string()
        ),
        (5, "120.03".to_owned(), "24.01".to_owned()),
        "completed EUR: count, exact total, average rounded half-to-even"
    );
    let empty = ok(
        store.statistics(&org, TimeRange::between(at(2000), at(3000))).await,
        "statistics of an empty range",
    );
    assert!(
        empty.by_status.is_empty() && empty.daily.is_empty(),
        "a range that excludes everything"
    );
}

/// `trends` equals [`PaymentStatistics::daily_buckets`].
pub async fn trends_match_the_reference<S: PaymentReadModel + ?Sized + 'static>(store: Arc<S>) {
    let org = unique("org");
    let payments = store_fixture(&*store, &org).await;
    for range in [
        TimeRange::between(at(-1000), at(1000)),
        TimeRange::between(at(24), at(48)),
        TimeRange::between(at(-10), at(0)),
    ] {
        let got = ok(store.trends(&org, range).await, format_args!("trends({range:?})"));
        assert_eq!(
            got,
            PaymentStatistics::daily_buckets(&payments, &org, &range),
            "trends over {range:?}"
        );
    }
    let none = ok(
        store.trends(&unique("org"), TimeRange::between(at(0), at(100))).await,
        "trends",
    );
    assert!(none.is_empty(), "an organization without payments has no buckets");
}

/// Two organizations may hold the same payment id: each has its own record, listings,
/// statistics and keys, and a write to one never touches the other.
pub async fn organizations_share_payment_ids<S: PaymentReadModel + ?Sized + 'static>(store: Arc<S>) {
    let (ours, theirs) = same_id_in_two_organizations();
    let (a, b) = (ours.organization_id.clone(), theirs.organization_id.clone());
    assert!(upsert(&*store, ours.clone(), 10).await);
    assert!(
        upsert(&*store, theirs.clone(), 3).await,
        "another organization's payment of the same id is a new record, whatever the positions"
    );
    assert_eq!(get(&*store, &ours.key()).await.map(|r| r.payment), Some(ours.clone()));
    assert_eq!(
        get(&*store, &theirs.key()).await.map(|r| r.payment),
        Some(theirs.clone())
    );
    let listed = ok(store.list_by_organization(&a, Page::new(0, 10)).await, "list");
    assert_eq!(
        listed.items,
        vec![ours.clone()],
        "each organization lists its own payment only"
    );
    let keys = ok(store.list_keys(Some(&b), None, 10).await, "list_keys");
    assert_eq!(keys, vec![theirs.key()]);
    let range = TimeRange::between(at(0), at(100));
    let stats = ok(store.statistics(&b, range).await, "statistics");
    assert_eq!(stats, PaymentStatistics::compute(&[theirs], &b, &range));
}

/// `list_keys` pages keys ascending after a key, for one organization or all.
pub async fn keys_page_by_keyset<S: PaymentReadModel + ?Sized + 'static>(store: Arc<S>) {
    let org = unique("org");
    let mut keys: Vec<PaymentKey> = store_fixture(&*store, &org)
        .await
        .iter()
        .map(PaymentView::key)
        .collect();
    keys.sort();
    let first = ok(store.list_keys(Some(&org), None, 4).await, "list_keys first page");
    assert_eq!(first, keys[..4].to_vec(), "the first 4 keys, ascending");
    let next = ok(
        store.list_keys(Some(&org), Some(&keys[3]), 100).await,
        "list_keys after",
    );
    assert_eq!(next, keys[4..].to_vec(), "the keys after the 4th");
    let none = ok(store.list_keys(Some(&org), keys.last(), 10).await, "list_keys end");
    assert!(none.is_empty(), "nothing after the last key");
    let mine = |key: &PaymentKey| key.organization_id() == org;
    let mut seen = Vec::new();
    // Start just before this organization's keys: `{org}/` sorts before every `{org}/{id}`.
    let mut after = Some(PaymentKey::new(&org, ""));
    loop {
        let page = ok(
            store.list_keys(None, after.as_ref(), 3).await,
            "list_keys of all organizations",
        );
        let Some(last) = page.last().cloned() else { break };
        seen.extend(page.into_iter().filter(|key| mine(key)));
        if !mine(&last) {
            break;
        }
        after = Some(last);
    }
    assert_eq!(
        seen, keys,
        "walking every organization's keys finds this organization's, in order"
    );
}
