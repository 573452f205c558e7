//! Injection: `$`-prefixed and dotted keys in `eventData` and `metadata` are stored and read
//! back verbatim (never taken as update or query operators), and criteria text or identifiers
//! with regex metacharacters or operator syntax match literally — the same events as the
//! reference semantics of `EventCriteria::matches`. Skipped (with a notice) without
//! `HIVE_MONGODB_URI`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{drop_database, fresh_default, server};
use futures::TryStreamExt;
use hive_domain::{EventCriteria, EventEnvelope, EventSearch, EventStore, Metadata, Page};
use serde_json::{json, Value};

fn hostile_data() -> Value {
    json!({
        "$where": "function() { return true; }",
        "$set": {"organizationId": "org-b"},
        "a.b": {"$ne": null},
        "nested": {"$gt": "", "x.y": [{"$regex": ".*"}], "$": 1},
        "note": "abc payment (urgent) costs $5"
    })
}

fn hostile_metadata() -> Metadata {
    let mut metadata = Metadata::default().with_organization("org-a").with_user("u");
    metadata.extra.insert("$where".into(), json!("sleep(1000)"));
    metadata.extra.insert("k.dot".into(), json!({"$in": ["x"]}));
    metadata
}

/// Three streams: the hostile one, and two whose text a regex would (wrongly) match.
async fn seed(events: &impl EventStore) -> Vec<EventEnvelope> {
    let first = EventEnvelope::new("inj-1", "Payment", "PaymentCreated", hostile_data(), 1)
        .with_metadata(hostile_metadata())
        .with_correlation_id("corr.*");
    let meta = Metadata::default().with_organization("org-a");
    let second = EventEnvelope::new(
        "inj-2",
        "Payment",
        "PaymentCreated",
        json!({"note": "abbc payments"}),
        1,
    )
    .with_metadata(meta.clone())
    .with_correlation_id("corr-2");
    let third = EventEnvelope::new("inj-3", "Payment", "PaymentCreated", json!({"note": "a c pay"}), 1)
        .with_metadata(meta)
        .with_correlation_id("corrX");
    let mut stored = Vec::new();
    for event in [first, second, third] {
        let id = event.aggregate_id.clone();
        stored.extend(events.append(&id, 0, vec![event]).await.unwrap());
    }
    stored
}

#[tokio::test(flavor = "multi_thread")]
async fn dollar_and_dotted_keys_are_stored_and_read_back_verbatim() {
    if !server() {
        return;
    }
    let store = fresh_default().await;
    let _drop = drop_database(store.clone());
    let events = store.event_store();
    let stored = seed(&events).await;
    let read: Vec<EventEnvelope> = events.read_stream("inj-1", 0).try_collect().await.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].event_data, hostile_data());
    assert_eq!(read[0].metadata, hostile_metadata());
    assert_eq!(read[0], stored[0]);
    let all = events.read_all(0, 10).await.unwrap();
    assert_eq!(all[0].event_data, hostile_data());
}

#[tokio::test(flavor = "multi_thread")]
async fn criteria_with_regex_or_operator_syntax_match_literally() {
    if !server() {
        return;
    }
    let store = fresh_default().await;
    let _drop = drop_database(store.clone());
    let events = store.event_store();
    let stored = seed(&events).await;
    let texts = [
        "a.c", "ab.*c", "pay.*", "(urgent)", "$5", "^abc$", "abc|pay", "payment", ".*", "$where",
    ];
    let mut criteria_list: Vec<EventCriteria> = texts
        .iter()
        .map(|text| EventCriteria {
            text: Some((*text).into()),
            ..EventCriteria::default()
        })
        .collect();
    for id in ["corr.*", "corr.", "{\"$ne\": null}", "inj-.*", "$where"] {
        criteria_list.push(EventCriteria {
            correlation_id: Some(id.into()),
            ..EventCriteria::default()
        });
        criteria_list.push(EventCriteria {
            aggregate_id: Some(id.into()),
            ..EventCriteria::default()
        });
        criteria_list.push(EventCriteria {
            organization_id: Some(id.into()),
            ..EventCriteria::default()
        });
    }
    for criteria in &criteria_list {
        let page = events.search(criteria, Page::new(0, 100)).await.unwrap();
        let got: Vec<&str> = page.items.iter().map(|e| e.aggregate_id.as_str()).collect();
        let expected: Vec<&str> = stored
            .iter()
            .filter(|e| criteria.matches(e))
            .map(|e| e.aggregate_id.as_str())
            .collect();
        assert_eq!(got, expected, "{criteria:?}");
        assert_eq!(page.total, expected.len() as u64, "{criteria:?}");
    }
    let literal = EventCriteria {
        correlation_id: Some("corr.*".into()),
        ..EventCriteria::default()
    };
    let page = events.search(&literal, Page::new(0, 100)).await.unwrap();
    assert_eq!(page.items.len(), 1, "`corr.*` is one correlation id, not a pattern");
    let regex_like = EventCriteria {
        text: Some("a.c".into()),
        ..EventCriteria::default()
    };
    let page = events.search(&regex_like, Page::new(0, 100)).await.unwrap();
    let ids: Vec<&str> = page.items.iter().map(|e| e.aggregate_id.as_str()).collect();
    assert_eq!(
        ids,
        ["inj-3"],
        "`a.c` is the words `a` and `c`, not a regex matching `abc`/`abbc`"
    );
}
