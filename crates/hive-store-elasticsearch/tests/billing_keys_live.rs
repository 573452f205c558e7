//! Payment keys and metadata on a live `payments` index (`HIVE_ELASTICSEARCH_URL`; skipped
//! without it): two organizations' same payment id are two documents for both ports, metadata
//! values are searched as tags without growing the mapping, and an index written by the
//! previous version (documents under the payment id alone, the old mapping) takes the new
//! mapping and is rebuilt by a reset.

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{TimeZone, Utc};
use common::live::{delete_indices, fresh, raw, server};
use elasticsearch::http::Method;
use hive_billing::{
    Amount, PaymentKey, PaymentReadModel, PaymentRecord, PaymentSearchCriteria, PaymentSearchDocument,
    PaymentSearchIndex, PaymentView,
};
use hive_domain::Page;
use hive_testkit::billing::pending_payment;
use serde_json::{json, Value};

fn view(org: &str, id: &str, description: &str, metadata: &[(&str, &str)]) -> PaymentView {
    PaymentView {
        amount: "12.50".parse::<Amount>().unwrap(),
        description: description.into(),
        tags: vec!["cloud".into()],
        metadata: metadata
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..pending_payment(org, id, Utc.with_ymd_and_hms(2025, 2, 3, 10, 0, 0).unwrap())
    }
}

fn record(payment: PaymentView, position: u64) -> PaymentRecord {
    PaymentRecord { payment, position }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_organizations_with_the_same_payment_id_are_two_documents() {
    if !server() {
        return;
    }
    let store = fresh().await;
    let _delete = delete_indices(store.clone());
    let (read_model, index) = (store.payment_read_model(), store.payment_search_index());
    read_model.ensure_index().await.unwrap();
    let (ours, theirs) = (PaymentKey::new("org-a", "pay-1"), PaymentKey::new("org-b", "pay-1"));
    let our_view = view("org-a", "pay-1", "Ours", &[]);
    let their_view = view("org-b", "pay-1", "Theirs", &[]);
    // A greater position in one organization never makes the other's write stale.
    assert!(read_model.upsert(record(our_view.clone(), 9)).await.unwrap());
    assert!(read_model.upsert(record(their_view.clone(), 2)).await.unwrap());
    assert_eq!(read_model.get(&ours).await.unwrap(), Some(record(our_view.clone(), 9)));
    assert_eq!(
        read_model.get(&theirs).await.unwrap(),
        Some(record(their_view.clone(), 2))
    );
    let other = PaymentKey::new("org-a", "pay-2");
    assert_eq!(
        read_model.get_many(&[&theirs, &other, &ours]).await.unwrap(),
        vec![
            Some(record(their_view.clone(), 2)),
            None,
            Some(record(our_view.clone(), 9))
        ]
    );
    let listed = read_model.list_by_organization("org-b", Page::first(10)).await.unwrap();
    assert_eq!((listed.total, listed.items), (1, vec![their_view.clone()]));

    // The search index writes the same documents under the same keys.
    let report = index
        .index(vec![
            PaymentSearchDocument::new(view("org-a", "pay-2", "Ours too", &[]), 3),
            PaymentSearchDocument::new(their_view.clone(), 2),
        ])
        .await
        .unwrap();
    assert_eq!(report.indexed, vec![other.clone(), theirs.clone()]);
    assert_eq!(
        index.get(&ours).await.unwrap(),
        Some(PaymentSearchDocument::new(our_view.clone(), 9))
    );
    let keys = index.list_keys(None, None, 10).await.unwrap();
    assert_eq!(
        keys,
        vec![ours.clone(), other.clone(), theirs.clone()],
        "ascending key text"
    );
    assert_eq!(
        read_model.list_keys(None, None, 10).await.unwrap(),
        keys,
        "one index, two ports"
    );
    assert_eq!(
        read_model.list_keys(Some("org-a"), Some(&ours), 10).await.unwrap(),
        vec![other.clone()]
    );
    assert_eq!(
        index.list_keys(Some("org-b"), None, 10).await.unwrap(),
        vec![theirs.clone()]
    );
    assert_eq!(index.list_keys(None, None, 2).await.unwrap(), keys[..2].to_vec());
    let criteria = PaymentSearchCriteria {
        organization_id: "org-b".into(),
        text: Some("pay-1".into()),
        limit: 10,
        ..PaymentSearchCriteria::default()
    };
    let found = index.search(&criteria).await.unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.items[0].payment, their_view);
    assert!(index.delete(&ours).await.unwrap());
    assert_eq!(read_model.get(&ours).await.unwrap(), None);
    assert_eq!(read_model.get(&theirs).await.unwrap(), Some(record(their_view, 2)));
    // A deleted document can be written back at its own position (what `search sync` does):
    // the delete leaves no tombstone of a greater version.
    let back = index
        .index(vec![PaymentSearchDocument::new(our_view.clone(), 9)])
        .await
        .unwrap();
    assert_eq!(
        (back.indexed, back.stale),
        (vec![ours.clone()], vec![]),
        "written back, not stale"
    );
    assert_eq!(read_model.get(&ours).await.unwrap(), Some(record(our_view, 9)));
    assert!(!index.delete(&PaymentKey::new("org-a", "pay-none")).await.unwrap());
}

/// The `properties` of the payments index's mapping.
async fn properties(store: &hive_store_elasticsearch::EsStore) -> Value {
    let name = &store.options().payments_index;
    let (status, mapping) = raw(store, Method::Get, &format!("/{name}/_mapping"), None).await;
    assert_eq!(status, 200, "{mapping}");
    mapping[name.as_str()]["mappings"]["properties"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_values_are_searched_as_tags_and_never_grow_the_mapping() {
    if !server() {
        return;
    }
    let store = fresh().await;
    let _delete = delete_indices(store.clone());
    let index = store.payment_search_index();
    index.ensure_index().await.unwrap();
    let documents = vec![
        PaymentSearchDocument::new(view("org-1", "p-1", "Invoice", &[("costCenter", "Marketing")]), 1),
        PaymentSearchDocument::new(
            view("org-1", "p-2", "Invoice", &[("project", "Apollo"), ("n", "42")]),
            2,
        ),
        PaymentSearchDocument::new(view("org-1", "p-3", "Invoice", &[]), 3),
    ];
    assert!(index.index(documents.clone()).await.unwrap().is_success());
    assert_eq!(
        index
            .get(&PaymentKey::new("org-1", "p-2"))
            .await
            .unwrap()
            .unwrap()
            .payment
            .metadata,
        BTreeMap::from([
            ("n".to_owned(), "42".to_owned()),
            ("project".to_owned(), "Apollo".to_owned())
        ]),
        "metadata reads back"
    );
    let ids = |results: &hive_billing::PaymentSearchResults| {
        results
            .items
            .iter()
            .map(|i| i.payment.payment_id.clone())
            .collect::<BTreeSet<_>>()
    };
    for (text, want) in [
        ("marketing", vec!["p-1"]),
        ("MARKETNIG", vec!["p-1"]), // a transposition, as for tags
        ("apollo", vec!["p-2"]),
        ("42", vec!["p-2"]),
        ("costCenter", vec![]), // keys are not searched
        ("project", vec![]),
        ("cloud", vec!["p-1", "p-2", "p-3"]), // the tags still are
    ] {
        let criteria = PaymentSearchCriteria {
            organization_id: "org-1".into(),
            text: Some(text.into()),
            limit: 10,
            ..PaymentSearchCriteria::default()
        };
        let got = index.search(&criteria).await.unwrap();
        let reference = criteria.search(&documents);
        let want: BTreeSet<String> = want.into_iter().map(str::to_owned).collect();
        assert_eq!(ids(&got), want, "matches of {text:?}");
        assert_eq!(ids(&reference), want, "reference matches of {text:?}");
    }
    let properties = properties(&store).await;
    assert_eq!(properties["metadata"], json!({"type": "object", "enabled": false}));
    for key in ["costCenter", "project", "n"] {
        assert!(
            !properties.to_string().contains(&format!("\"{key}\"")),
            "metadata key {key} added to the mapping: {properties}"
        );
    }
}

/// The payments mapping of the previous version: no `paymentKey`, `metadata` or `searchTags`.
fn previous_mapping() -> Value {
    let mut mapping = hive_store_elasticsearch::mapping::payments();
    let properties = mapping["properties"].as_object_mut().unwrap();
    for field in ["paymentKey", "metadata", "searchTags"] {
        properties.remove(field).unwrap();
    }
    mapping
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_of_the_previous_version_takes_the_new_mapping_and_is_rebuilt_by_a_reset() {
    if !server() {
        return;
    }
    let store = fresh().await;
    let _delete = delete_indices(store.clone());
    let name = store.options().payments_index.clone();
    // What the previous version created: its template, its index, a document under the id.
    let template = json!({
        "index_patterns": [format!("{name}*")],
        "priority": 200,
        "template": {
            "settings": {"analysis": hive_store_elasticsearch::mapping::payments_analysis()},
            "mappings": previous_mapping()
        }
    });
    let (status, answer) = raw(&store, Method::Put, &format!("/_index_template/{name}"), Some(template)).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = raw(&store, Method::Put, &format!("/{name}"), None).await;
    assert_eq!(status, 200, "{answer}");
    let legacy = view("org-1", "pay-1", "Legacy", &[]);
    let mut source = serde_json::to_value(PaymentSearchDocument::new(legacy.clone(), 4)).unwrap();
    source.as_object_mut().unwrap().remove("metadata");
    let path = format!("/{name}/_doc/pay-1?version=4&version_type=external_gte&refresh=true");
    let (status, answer) = raw(&store, Method::Put, &path, Some(source)).await;
    assert!(status < 300, "{answer}");

    // At start: the service ensures the index (it gains the new fields), then the projection
    // (version 2 now) resets and rebuilds.
    let (read_model, index) = (store.payment_read_model(), store.payment_search_index());
    read_model.ensure_index().await.unwrap();
    let gained = properties(&store).await;
    assert_eq!(gained["paymentKey"], json!({"type": "keyword"}));
    assert_eq!(gained["metadata"], json!({"type": "object", "enabled": false}));
    read_model.reset().await.unwrap();
    let (status, _) = raw(&store, Method::Get, &format!("/{name}/_doc/pay-1"), None).await;
    assert_eq!(status, 404, "the document under the payment id alone is gone");
    let rebuilt = view("org-1", "pay-1", "Legacy", &[("source", "import")]);
    assert!(
        read_model.upsert(record(rebuilt.clone(), 4)).await.unwrap(),
        "the same position again, at once"
    );
    let key = PaymentKey::new("org-1", "pay-1");
    assert_eq!(read_model.get(&key).await.unwrap(), Some(record(rebuilt.clone(), 4)));
    assert_eq!(index.list_keys(None, None, 10).await.unwrap(), vec![key]);
    let criteria = PaymentSearchCriteria {
        organization_id: "org-1".into(),
        text: Some("import".into()),
        limit: 10,
        ..PaymentSearchCriteria::default()
    };
    assert_eq!(index.search(&criteria).await.unwrap().items[0].payment, rebuilt);
    let recreated = properties(&store).await;
    assert_eq!(
        recreated["searchTags"]["type"], "keyword",
        "recreated from the new template"
    );
}
