//! The read-model case on instants finer than a millisecond (part of
//! [`read_model`](super::read_model)).

use std::sync::Arc;

use chrono::Duration;
use hive_billing::{PaymentReadModel, PaymentRecord, PaymentStatistics, PaymentStatus, PaymentView};
use hive_domain::{Page, TimeRange};

use super::support::{at, ok, payment};
use crate::support::unique;

/// Instants with sub-millisecond digits read back, sort and filter exactly: a store whose
/// dates keep only milliseconds (BSON, Elasticsearch `date`) must keep the rest beside them.
/// Records whose `processedAt` differ by 300 ns list in that order, and statistics ranges
/// bounded between them count exactly the reference's payments.
pub async fn sub_millisecond_instants_sort_and_filter_exactly<S: PaymentReadModel + ?Sized>(store: Arc<S>) {
    let org = unique("org-nanos");
    let instant = |nanos: i64| at(10) + Duration::nanoseconds(nanos);
    let view = |name: &str, value: &str, nanos: i64| -> PaymentView {
        let mut view = payment(
            &format!("{org}-{name}"),
            &org,
            PaymentStatus::Completed,
            value,
            "EUR",
            10,
            Some(10),
            "Instants",
            &[],
        );
        view.created_at = instant(nanos);
        view.processed_at = Some(instant(nanos));
        view.updated_at = instant(nanos);
        view
    };
    let payments = [
        view("a", "1.00", 100),
        view("b", "2.00", 900_000),
        view("c", "4.00", 400),
        view("d", "8.00", 1_000_400),
    ];
    for (position, p) in (1..).zip(&payments) {
        let record = PaymentRecord {
            payment: p.clone(),
            position,
        };
        let what = format!("upsert(`{}`)", p.payment_id);
        ok(store.upsert(record.clone()).await, &what);
        let read = ok(store.get(&p.key()).await, format_args!("get(`{}`)", p.payment_id));
        assert_eq!(read, Some(record), "`{}` reads back to the nanosecond", p.payment_id);
    }
    let listed = ok(
        store.list_by_organization(&org, Page::first(10)).await,
        "list_by_organization",
    );
    let ids: Vec<&str> = listed.items.iter().map(|p| p.payment_id.as_str()).collect();
    let expected: Vec<String> = ["d", "b", "c", "a"].iter().map(|n| format!("{org}-{n}")).collect();
    assert_eq!(ids, expected, "processedAt descending to the nanosecond");
    let ranges = [
        TimeRange::between(instant(400), instant(900_000)),
        TimeRange::between(instant(101), instant(1_000_401)),
        TimeRange::between(instant(100), instant(400)),
        TimeRange {
            from: Some(instant(399)),
            to: None,
        },
    ];
    for range in ranges {
        assert_eq!(
            ok(
                store.statistics(&org, range).await,
                format_args!("statistics({range:?})")
            ),
            PaymentStatistics::compute(&payments, &org, &range),
            "statistics over {range:?}"
        );
    }
}
