//! The read-model case on large `upsert_many` batches (part of
//! [`read_model`](super::read_model)).

use std::sync::Arc;

use hive_billing::{PaymentKey, PaymentReadModel, PaymentRecord, PaymentStatus};

use super::support::{ok, payment};
use crate::support::unique;

/// Records in the batch: more than two requests' worth for adapters that split a batch by
/// 500 or by 1 000.
const RECORDS: u64 = 2_100;

/// One `upsert_many` of 2 100 records, some of them stale (stored earlier at a greater
/// position) at the start, the end and around every 500th and 1 000th record: the stale ones
/// are skipped and counted out, none after them is lost, `get_many` reads every one back in the
/// order asked (an id asked twice answered twice), and `list_ids` pages through exactly them.
pub async fn upsert_many_spans_batches_and_skips_stale_records<S: PaymentReadModel + ?Sized>(store: Arc<S>) {
    let org = unique("org-bulk");
    let id = |n: u64| format!("{org}-p{n:05}");
    let record = |n: u64, position: u64| PaymentRecord {
        payment: payment(
            &id(n),
            &org,
            PaymentStatus::Completed,
            "1.00",
            "EUR",
            i64::try_from(n % 100).unwrap_or_default(),
            Some(100),
            "Bulk",
            &[],
        ),
        position,
    };
    let stale = [0, 499, 500, 501, 999, 1_000, 1_001, RECORDS - 1];
    for n in stale {
        assert!(
            ok(
                store.upsert(record(n, 100_000)).await,
                format_args!("upsert(`{}`)", id(n))
            ),
            "a new record is written"
        );
    }
    let records: Vec<PaymentRecord> = (0..RECORDS).map(|n| record(n, n + 1)).collect();
    let written = ok(store.upsert_many(records).await, "upsert_many");
    assert_eq!(
        written,
        RECORDS as usize - stale.len(),
        "every record but the stale ones"
    );

    let keys: Vec<PaymentKey> = (0..RECORDS).map(|n| PaymentKey::new(&org, &id(n))).collect();
    let mut asked: Vec<&PaymentKey> = keys.iter().collect();
    asked.push(&keys[3]);
    let got = ok(store.get_many(&asked).await, "get_many");
    let positions: Vec<Option<u64>> = got.iter().map(|r| r.as_ref().map(|r| r.position)).collect();
    let mut expected: Vec<Option<u64>> = (0..RECORDS)
        .map(|n| Some(if stale.contains(&n) { 100_000 } else { n + 1 }))
        .collect();
    expected.push(Some(4));
    assert_eq!(positions, expected, "the stale records kept their greater position");

    let mut walked = Vec::new();
    let mut after: Option<PaymentKey> = None;
    loop {
        let page = ok(
            store.list_keys(Some(&org), after.as_ref(), 500).await,
            format_args!("list_keys after {after:?}"),
        );
        let Some(last) = page.last().cloned() else { break };
        walked.extend(page);
        after = Some(last);
    }
    let mut ascending = keys;
    ascending.sort();
    assert_eq!(walked, ascending, "list_keys pages through every record, ascending");
}
