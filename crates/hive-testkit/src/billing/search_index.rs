//! The [`PaymentSearchIndex`] conformance cases.
//!
//! | case | checks |
//! |---|---|
//! | [`documents_round_trip`] | index, get, delete; unknown keys |
//! | [`organizations_share_payment_ids`] | two organizations' same payment id: two documents, `list_keys` |
//! | [`bulk_reports_every_item`] | indexed and stale items; a greater stored position wins |
//! | [`filters_match_the_reference`] | organization, statuses, currencies, amount and date ranges, order, paging |
//! | [`fuzzy_text_matches_like_fuzziness_auto`] | edit distances per term length, fields, boosts |
//! | [`suggestions_complete_prefixes`] | prefix completion on descriptions, grouping, scores, size |

use std::collections::BTreeSet;
use std::sync::Arc;

use hive_billing::{
    PaymentKey, PaymentSearchCriteria, PaymentSearchDocument, PaymentSearchIndex, PaymentSearchResults, PaymentStatus,
    Suggestion,
};
use hive_domain::TimeRange;

use super::support::{amount, at, currency, ok, payment, same_id_in_two_organizations};
use crate::support::unique;

fn documents(org: &str) -> Vec<PaymentSearchDocument> {
    use PaymentStatus::*;
    let id = |n: u32| format!("{org}-p{n:02}");
    [
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
            "250.00",
            "USD",
            2,
            Some(3),
            "Cloud hosting April",
            &["cloud"],
        ),
        payment(
            &id(3),
            org,
            Pending,
            "15.50",
            "EUR",
            4,
            None,
            "Object storage",
            &["storage"],
        ),
        payment(
            &id(4),
            org,
            Failed,
            "99.99",
            "EUR",
            5,
            None,
            "Support plan",
            &["support", "premium"],
        ),
        payment(&id(5), org, Refunded, "1000", "JPY", 6, Some(7), "Tokyo region", &[]),
        payment(
            &id(6),
            org,
            Completed,
            "15.50",
            "EUR",
            8,
            Some(9),
            "Backup storage",
            &["backup", "march"],
        ),
        payment(
            &id(7),
            org,
            PartiallyRefunded,
            "42.00",
            "EUR",
            10,
            Some(11),
            "Cloud hosting March",
            &[],
        ),
    ]
    .into_iter()
    .zip(1..)
    .map(|(p, position)| PaymentSearchDocument::new(p, position))
    .collect()
}

async fn store_documents<S: PaymentSearchIndex + ?Sized>(store: &S, org: &str) -> Vec<PaymentSearchDocument> {
    let docs = documents(org);
    let report = ok(store.index(docs.clone()).await, "bulk index");
    assert!(report.failed.is_empty(), "bulk index failures: {:?}", report.failed);
    docs
}

fn ids(results: &PaymentSearchResults) -> Vec<String> {
    results.items.iter().map(|i| i.payment.payment_id.clone()).collect()
}

fn criteria(org: &str) -> PaymentSearchCriteria {
    PaymentSearchCriteria {
        organization_id: org.to_owned(),
        limit: 100,
        ..PaymentSearchCriteria::default()
    }
}

async fn search<S: PaymentSearchIndex + ?Sized>(store: &S, c: &PaymentSearchCriteria) -> PaymentSearchResults {
    ok(store.search(c).await, format_args!("search({c:?})"))
}

/// An indexed document reads back unchanged and can be deleted; unknown ids are absent.
pub async fn documents_round_trip<S: PaymentSearchIndex + ?Sized + 'static>(store: Arc<S>) {
    let org = unique("org");
    for doc in store_documents(&*store, &org).await {
        assert_eq!(
            ok(store.get(&doc.payment.key()).await, "get"),
            Some(doc),
            "the document must read back unchanged"
        );
    }
    let first = PaymentKey::new(&org, &format!("{org}-p01"));
    assert!(ok(store.delete(&first).await, "delete"), "delete of a stored document");
    assert_eq!(ok(store.get(&first).await, "get"), None, "a deleted document is gone");
    assert!(
        !ok(store.delete(&first).await, "delete"),
        "a second delete finds nothing"
    );
    assert_eq!(
        ok(store.get(&PaymentKey::new(&org, &unique("unknown"))).await, "get"),
        None
    );
}

/// Two organizations may hold the same payment id: two documents, each found, listed and
/// deleted under its own key; `list_keys` pages the index's keys ascending, per organization.
pub async fn organizations_share_payment_ids<S: PaymentSearchIndex + ?Sized + 'static>(store: Arc<S>) {
    let (ours, theirs) = same_id_in_two_organizations();
    let (a, b) = (ours.organization_id.clone(), theirs.organization_id.clone());
    let (ours, theirs) = (
        PaymentSearchDocument::new(ours, 5),
        PaymentSearchDocument::new(theirs, 1),
    );
    let report = ok(store.index(vec![ours.clone(), theirs.clone()]).await, "bulk index");
    assert_eq!(
        report.indexed,
        vec![ours.payment.key(), theirs.payment.key()],
        "the same payment id in two organizations is two documents, neither stale"
    );
    assert_eq!(ok(store.get(&ours.payment.key()).await, "get"), Some(ours.clone()));
    assert_eq!(ok(store.get(&theirs.payment.key()).await, "get"), Some(theirs.clone()));
    let found = search(&*store, &criteria(&b)).await;
    assert_eq!(
        ids(&found),
        vec!["pay-1".to_owned()],
        "each organization finds its own only"
    );
    assert_eq!(found.items[0].payment, theirs.payment);
    let docs = store_documents(&*store, &a).await;
    let mut keys: Vec<PaymentKey> = docs.iter().map(|d| d.payment.key()).collect();
    keys.push(ours.payment.key());
    keys.sort();
    let first = ok(store.list_keys(Some(&a), None, 3).await, "list_keys first page");
    assert_eq!(first, keys[..3].to_vec(), "the first 3 keys, ascending");
    let rest = ok(store.list_keys(Some(&a), Some(&keys[2]), 100).await, "list_keys after");
    assert_eq!(
        rest,
        keys[3..].to_vec(),
        "the keys after the 3rd, none of another organization"
    );
    assert!(ok(store.delete(&ours.payment.key()).await, "delete"));
    assert_eq!(
        ok(store.get(&theirs.payment.key()).await, "get"),
        Some(theirs),
        "deleting one organization's payment leaves the other's"
    );
}

/// A bulk write reports every item: written, or stale when a greater position is stored.
pub async fn bulk_reports_every_item<S: PaymentSearchIndex + ?Sized + 'static>(store: Arc<S>) {
    let org = unique("org");
    let docs = documents(&org);
    let report = ok(store.index(docs.clone()).await, "bulk index");
    let written: BTreeSet<_> = report.indexed.iter().cloned().collect();
    let all: BTreeSet<_> = docs.iter().map(|d| d.payment.key()).collect();
    assert_eq!(written, all, "every document is reported indexed");
    assert!(report.stale.is_empty() && report.failed.is_empty());
    let mut newer = docs[0].clone();
    newer.position = 50;
    newer.payment.status = PaymentStatus::Refunded;
    let mut older = docs[1].clone();
    older.position = 0;
    older.payment.description = "stale".into();
    let report = ok(store.index(vec![newer.clone(), older.clone()]).await, "bulk index");
    assert_eq!(report.indexed, vec![newer.payment.key()]);
    assert_eq!(report.stale, vec![older.payment.key()]);
    assert_eq!(
        ok(store.get(&older.payment.key()).await, "get"),
        Some(docs[1].clone()),
        "a stale write changes nothing"
    );
    assert_eq!(ok(store.get(&newer.payment.key()).await, "get"), Some(newer));
}

/// Filters, order and paging without text equal [`PaymentSearchCriteria::search`]; scores are 0.
pub async fn filters_match_the_reference<S: PaymentSearchIndex + ?Sized + 'static>(store: Arc<S>) {
    let (org, other) = (unique("org"), unique("org"));
    let docs = store_documents(&*store, &org).await;
    store_documents(&*store, &other).await;
    let base = criteria(&org);
    let cases = [
        base.clone(),
        PaymentSearchCriteria {
            statuses: vec![PaymentStatus::Completed, PaymentStatus::Refunded],
            ..base.clone()
        },
        PaymentSearchCriteria {
            currencies: vec![currency("EUR")],
            ..base.clone()
        },
        PaymentSearchCriteria {
            min_amount: Some(amount("15.50").value()),
            max_amount: Some(amount("100.00").value()),
            ..base.clone()
        },
        PaymentSearchCriteria {
            processed: TimeRange::between(at(1), at(9)),
            ..base.clone()
        },
        PaymentSearchCriteria {
            offset: 2,
            limit: 3,
            ..base.clone()
        },
        PaymentSearchCriteria {
            offset: 40,
            limit: 3,
            ..base.clone()
        },
        PaymentSearchCriteria {
            statuses: vec![PaymentStatus::Pending],
            currencies: vec![currency("USD")],
            ..base.clone()
        },
        criteria(&unique("org")),
    ];
    for case in cases {
        let got = search(&*store, &case).await;
        let want = case.search(&docs);
        assert_eq!(ids(&got), ids(&want), "matches and order of {case:?}");
        assert_eq!(got.total, want.total, "total of {case:?}");
        assert!(
            got.items.iter().all(|i| i.score == 0.0),
            "without text every score is 0"
        );
    }
}

/// Free text matches description, payment id and tags with `fuzziness: AUTO`, and ranks a
/// description match (weight 2) above an equal payment-id or tag match.
pub async fn fuzzy_text_matches_like_fuzziness_auto<S: PaymentSearchIndex + ?Sized + 'static>(store: Arc<S>) {
    let org = unique("org");
    let docs = store_documents(&*store, &org).await;
    let text = |t: &str| PaymentSearchCriteria {
        text: Some(t.to_owned()),
        ..criteria(&org)
    };
    let set = |r: &PaymentSearchResults| ids(r).into_iter().collect::<BTreeSet<_>>();
    let expect = |ns: &[u32]| ns.iter().map(|n| format!("{org}-p{n:02}")).collect::<BTreeSet<_>>();
    for (query, want) in [
        ("hosting", vec![1, 2, 7]),
        ("HOSTNIG", vec![1, 2, 7]), // one transposition
        ("hostxxg", vec![1, 2, 7]), // two edits on a 7-letter term
        ("hoxxxng", vec![]),        // three edits
        ("storag", vec![3, 6]),     // one deletion
        ("premium", vec![4]),       // a tag
        ("tokio", vec![5]),         // one substitution on a 5-letter term
        ("tpkio", vec![]),          // two substitutions on a 5-letter term
        ("ok", vec![]),             // 2-letter terms must match exactly
        ("march backup", vec![1, 6, 7]),
        ("zzzzzz", vec![]),
    ] {
        let got = search(&*store, &text(query)).await;
        let reference = text(query).search(&docs);
        assert_eq!(set(&got), expect(&want), "matches of {query:?}");
        assert_eq!(set(&reference), expect(&want), "reference matches of {query:?}");
        assert_eq!(got.total, want.len() as u64, "total of {query:?}");
    }
    let by_id = search(&*store, &text(&format!("{org}-p04"))).await;
    assert_eq!(
        ids(&by_id).first(),
        Some(&format!("{org}-p04")),
        "a payment id matches as a whole, the exact one first"
    );
    assert_eq!(by_id.total, 7, "the other ids are within two edits of it");
    let ranked = search(&*store, &text("march")).await;
    assert_eq!(
        ids(&ranked),
        vec![format!("{org}-p07"), format!("{org}-p01"), format!("{org}-p06")],
        "description matches (weight 2; newest processedAt first among equals) rank above a tag match"
    );
    let filtered = search(
        &*store,
        &PaymentSearchCriteria {
            currencies: vec![currency("USD")],
            ..text("hosting")
        },
    )
    .await;
    assert_eq!(ids(&filtered), vec![format!("{org}-p02")], "text and filters combine");
}

/// Suggestions complete a prefix of any word of the organization's descriptions, grouped by
/// description with the number of payments as score, best first, at most `size`.
pub async fn suggestions_complete_prefixes<S: PaymentSearchIndex + ?Sized + 'static>(store: Arc<S>) {
    let (org, other) = (unique("org"), unique("org"));
    let docs = store_documents(&*store, &org).await;
    store_documents(&*store, &other).await;
    let suggest = |prefix: &str, size: usize| {
        let store = Arc::clone(&store);
        let (org, prefix) = (org.clone(), prefix.to_owned());
        async move {
            ok(
                store.suggest(&org, &prefix, size).await,
                format_args!("suggest({prefix:?})"),
            )
        }
    };
    let texts = |s: &[Suggestion]| s.iter().map(|x| (x.text.clone(), x.score)).collect::<Vec<_>>();
    assert_eq!(
        texts(&suggest("clo", 10).await),
        vec![
            ("Cloud hosting March".to_owned(), 2.0),
            ("Cloud hosting April".to_owned(), 1.0)
        ],
        "grouped by description, counted, best first"
    );
    assert_eq!(
        texts(&suggest("STOR", 10).await),
        vec![("Backup storage".to_owned(), 1.0), ("Object storage".to_owned(), 1.0)],
        "a prefix of a later word; ties by text"
    );
    assert_eq!(
        texts(&suggest("cloud hosting m", 10).await),
        vec![("Cloud hosting March".to_owned(), 2.0)]
    );
    assert_eq!(suggest("clo", 1).await.len(), 1, "at most `size`");
    assert!(suggest("xyz", 10).await.is_empty(), "no completion");
    assert!(suggest("loud", 10).await.is_empty(), "only prefixes of words complete");
    for prefix in ["clo", "STOR", "cloud hosting m", "xyz"] {
        assert_eq!(
            texts(&suggest(prefix, 10).await),
            texts(&Suggestion::suggest(&docs, &org, prefix, 10)),
            "reference suggestions of {prefix:?}"
        );
    }
}
