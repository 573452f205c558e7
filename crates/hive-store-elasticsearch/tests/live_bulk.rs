//! The bulk writer on a live cluster: every path (create index, index, versioned index, update
//! with upsert, delete, refresh, flush by size and by interval) and per-item errors, as the
//! engine itself answers them. The 429-per-item retry is a contract test
//! (`bulk_contract.rs`): a live node does not refuse items on demand.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::live::server;
use hive_store_elasticsearch::{BulkOp, BulkOutcome, BulkWriter, EsClient, EsError};
use serde_json::{json, Value};

/// A writer on the live cluster flushing every `max_ops`, and a fresh index name.
fn writer(max_ops: usize) -> (BulkWriter, String) {
    let url = std::env::var(hive_testkit::backend::ELASTICSEARCH).unwrap();
    let client = EsClient::new(&url, Duration::from_secs(30)).unwrap();
    let index = format!("hive-test-{}-bulk", uuid::Uuid::new_v4().simple());
    (BulkWriter::new(client, max_ops), index)
}

fn mapping() -> Value {
    json!({"dynamic": false, "properties": {"n": {"type": "long"}, "name": {"type": "keyword"}}})
}

/// `(action, id, result or error type)` of every item.
fn summary(outcome: &BulkOutcome) -> Vec<(String, String, String)> {
    outcome
        .items
        .iter()
        .map(|item| {
            let what = item
                .result
                .clone()
                .or_else(|| item.error.as_ref().map(|(kind, _)| kind.clone()))
                .unwrap_or_default();
            (item.action.clone(), item.id.clone(), what)
        })
        .collect()
}

fn row(action: &str, id: &str, what: &str) -> (String, String, String) {
    (action.into(), id.into(), what.into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_and_its_outcome_on_a_live_engine() {
    if !server() {
        return;
    }
    let (writer, index) = writer(3);
    writer.create_index(&index, mapping()).await.unwrap();
    writer.create_index(&index, mapping()).await.unwrap(); // an existing index is fine

    // Flush by size: the third push sends all three.
    let doc = |n: u64| json!({"n": n, "name": format!("doc-{n}")});
    assert!(writer
        .push(BulkOp::Index {
            index: index.clone(),
            id: "a".into(),
            doc: doc(1)
        })
        .await
        .unwrap()
        .is_none());
    let upsert = BulkOp::Upsert {
        index: index.clone(),
        id: "b".into(),
        doc: json!({"n": 2}),
    };
    assert!(writer.push(upsert).await.unwrap().is_none());
    let versioned = BulkOp::IndexVersioned {
        index: index.clone(),
        id: "c".into(),
        doc: doc(3),
        version: 10,
    };
    let flushed = writer.push(versioned).await.unwrap().expect("flushed at 3 operations");
    assert_eq!(
        summary(&flushed),
        [
            row("index", "a", "created"),
            row("update", "b", "created"),
            row("index", "c", "created")
        ]
    );

    // Update of an existing document merges; a lower external version is refused per item;
    // a value the mapping cannot take is a typed mapping error; deletes of present and
    // missing documents both succeed.
    let ops = vec![
        BulkOp::Upsert {
            index: index.clone(),
            id: "b".into(),
            doc: json!({"name": "merged"}),
        },
        BulkOp::IndexVersioned {
            index: index.clone(),
            id: "c".into(),
            doc: doc(4),
            version: 9,
        },
        BulkOp::Index {
            index: index.clone(),
            id: "bad".into(),
            doc: json!({"n": "not a number"}),
        },
        BulkOp::Delete {
            index: index.clone(),
            id: "a".into(),
        },
        BulkOp::Delete {
            index: index.clone(),
            id: "missing".into(),
        },
    ];
    let outcome = writer.send(ops, Some("true")).await.unwrap();
    assert_eq!(
        summary(&outcome),
        [
            row("update", "b", "updated"),
            row("index", "c", "version_conflict_engine_exception"),
            row("index", "bad", "mapper_parsing_exception"),
            row("delete", "a", "deleted"),
            row("delete", "missing", "not_found"),
        ]
    );
    let failed: Vec<&str> = outcome.failures().map(|item| item.id.as_str()).collect();
    assert_eq!(failed, ["c", "bad"]);
    assert!(
        matches!(outcome.items[2].to_error(), Some(EsError::MappingConflict { .. })),
        "{:?}",
        outcome.items[2]
    );
    assert!(
        matches!(outcome.items[1].to_error(), Some(EsError::Status { status: 409, .. })),
        "{:?}",
        outcome.items[1]
    );

    // Flush by interval: one buffered operation goes out on the next tick.
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel();
    let ticker = writer.spawn_interval_flush(Duration::from_millis(50), move |outcome| {
        let _ = sender.send(outcome);
    });
    writer
        .push(BulkOp::Index {
            index: index.clone(),
            id: "d".into(),
            doc: doc(5),
        })
        .await
        .unwrap();
    let ticked = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("an interval flush within 10 s")
        .unwrap()
        .unwrap();
    ticker.abort();
    assert_eq!(summary(&ticked), [row("index", "d", "created")]);
    writer.refresh(&index).await.unwrap();

    // The upserted and merged document is still there: deleting it finds it.
    let count = writer
        .send(
            vec![BulkOp::Delete {
                index: index.clone(),
                id: "b".into(),
            }],
            Some("true"),
        )
        .await
        .unwrap();
    assert_eq!(
        summary(&count),
        [row("delete", "b", "deleted")],
        "b existed after the merge"
    );
    writer.delete_index(&index).await.unwrap();
    writer.delete_index(&index).await.unwrap(); // a missing index is fine
}
