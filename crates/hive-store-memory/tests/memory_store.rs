//! Behaviour of the event store in both modes beyond the conformance suite.

// Helpers outside `#[test]` functions panic on failure too, like the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{assert_gap_free, batch, ev, read_everything};
use futures::StreamExt;
use hive_domain::{EventCriteria, EventSearch, EventStore, EventStoreError, Page, TimeRange};
use hive_store_memory::{DurableOptions, FsyncPolicy, MemoryEventStore};

async fn both_modes() -> Vec<(MemoryEventStore, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let durable = MemoryEventStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    vec![(MemoryEventStore::new(), None), (durable, Some(dir))]
}

#[tokio::test]
async fn read_stream_is_lazy_and_holds_no_lock_between_items() {
    let store = MemoryEventStore::new();
    let total = 100_000u64;
    for chunk in 0..total / 1_000 {
        store
            .append("big", chunk * 1_000, batch("big", chunk * 1_000, 1_000))
            .await
            .unwrap();
    }
    let mut stream = store.read_stream("big", 1);
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.version, 1);
    // A writer gets through while the reader is in the middle of the stream.
    store.append("other", 0, vec![ev("other", 1)]).await.unwrap();
    let mut expected = 2;
    while let Some(event) = stream.next().await {
        assert_eq!(event.unwrap().version, expected);
        expected += 1;
    }
    assert_eq!(expected, total + 1);
    let tail: Vec<_> = store.read_stream("big", total - 10).collect().await;
    assert_eq!(tail.len(), 11);
    assert_eq!(store.read_stream("big", total + 1).count().await, 0);
    assert_eq!(store.read_stream("missing", 0).count().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_keep_streams_and_the_log_gap_free() {
    for (store, _dir) in both_modes().await {
        let mut tasks = Vec::new();
        for writer in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..50u64 {
                    let stream = if i % 2 == 0 {
                        "shared".to_owned()
                    } else {
                        format!("own-{writer}")
                    };
                    loop {
                        let version = store.stream_version(&stream).await.unwrap();
                        match store.append(&stream, version, batch(&stream, version, 2)).await {
                            Ok(stored) => break assert_eq!(stored.len(), 2),
                            Err(e) if e.is_conflict() => continue,
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let all = read_everything(&store).await;
        assert_eq!(all.len(), 8 * 50 * 2);
        assert_gap_free(&all);
        assert_eq!(store.stream_version("shared").await.unwrap(), 8 * 25 * 2);
        assert_eq!(store.head_position().await.unwrap(), 800);
    }
}

#[tokio::test]
async fn event_ids_are_unique_and_re_appends_idempotent() {
    for (store, _dir) in both_modes().await {
        let first = batch("a", 0, 2);
        let stored = store.append("a", 0, first.clone()).await.unwrap();
        assert_eq!(store.append("a", 0, first.clone()).await.unwrap(), stored);
        let mut reused = first[0].clone();
        reused.aggregate_id = "b".into();
        let err = store.append("b", 0, vec![reused]).await.unwrap_err();
        assert!(matches!(err, EventStoreError::InvalidBatch(_)), "{err:?}");
        let err = store.append("a", 5, vec![ev("a", 6)]).await.unwrap_err();
        assert_eq!(
            err,
            EventStoreError::Conflict {
                aggregate_id: "a".into(),
                expected: 5,
                actual: 2
            }
        );
        assert!(matches!(
            store.append("a", 2, vec![]).await,
            Err(EventStoreError::InvalidBatch(_))
        ));
        assert_eq!(store.head_position().await.unwrap(), 2);
    }
}

#[tokio::test]
async fn look_ups_match_the_reference_semantics() {
    for (store, _dir) in both_modes().await {
        let start = chrono::Utc::now();
        for s in 0..20u64 {
            let stream = format!("s{s}");
            let mut events = batch(&stream, 0, 3);
            events[1].event_type = "PaymentCaptured".into();
            events[2].metadata.organization_id = Some(format!("org-{}", s % 3));
            events[2].timestamp = start - chrono::Duration::days(s as i64);
            store.append(&stream, 0, events).await.unwrap();
        }
        let all = read_everything(&store).await;
        let criteria = [
            EventCriteria {
                organization_id: Some("org-2".into()),
                ..Default::default()
            },
            EventCriteria {
                event_types: vec!["PaymentCaptured".into()],
                aggregate_id: Some("s3".into()),
                ..Default::default()
            },
            EventCriteria {
                time_range: TimeRange::between(start - chrono::Duration::days(5), start),
                ..Default::default()
            },
            EventCriteria {
                correlation_id: Some("req-s7".into()),
                text: Some("S7".into()),
                ..Default::default()
            },
        ];
        for c in &criteria {
            let mut want: Vec<_> = all.iter().filter(|e| c.matches(e)).cloned().collect();
            want.sort_by_key(|e| (e.timestamp, e.global_position));
            let page = store.search(c, Page::new(1, 3)).await.unwrap();
            assert_eq!(page.total, want.len() as u64, "{c:?}");
            assert_eq!(page.items, want.iter().skip(1).take(3).cloned().collect::<Vec<_>>());
        }
        let by_type = store
            .events_by_type("PaymentCaptured", TimeRange::all(), Page::first(100))
            .await
            .unwrap();
        assert_eq!(by_type.total, 20);
        let by_correlation = store.events_by_correlation("req-s1", Page::first(100)).await.unwrap();
        assert_eq!(by_correlation.total, 3);
    }
}

#[tokio::test]
async fn a_closed_store_refuses_appends_but_answers_reads() {
    let dir = tempfile::tempdir().unwrap();
    let options = DurableOptions::default().with_fsync(FsyncPolicy::EveryMillis(5));
    let store = MemoryEventStore::open(dir.path(), options).await.unwrap();
    store.health().await.unwrap();
    store.append("a", 0, vec![ev("a", 1)]).await.unwrap();
    store.close().await.unwrap();
    store.close().await.unwrap();
    assert!(matches!(
        store.append("a", 1, vec![ev("a", 2)]).await,
        Err(EventStoreError::Unavailable(_))
    ));
    assert!(store.health().await.is_err());
    assert_eq!(store.stream_version("a").await.unwrap(), 1);
    assert!(MemoryEventStore::new().close().await.is_ok());
}

#[tokio::test]
async fn one_directory_has_one_store_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryEventStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap();
    let err = MemoryEventStore::open(dir.path(), DurableOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, EventStoreError::Unavailable(_)), "{err:?}");
    drop(store);
    let store = Arc::new(
        MemoryEventStore::open(dir.path(), DurableOptions::default())
            .await
            .unwrap(),
    );
    assert!(store.is_durable());
    assert!(store.is_empty());
}

#[tokio::test]
async fn shared_reads_are_the_stored_events_in_order() {
    for (store, _dir) in both_modes().await {
        store.append("s", 0, batch("s", 0, 1_100)).await.unwrap();
        store.append("t", 0, vec![ev("t", 1)]).await.unwrap();
        let copied: Vec<_> = store.read_stream("s", 7).map(Result::unwrap).collect().await;
        let shared: Vec<_> = store.read_stream_shared("s", 7).map(Result::unwrap).collect().await;
        assert_eq!(shared.len(), 1_094, "past a read chunk");
        assert!(shared.iter().map(|e| &**e).eq(copied.iter()));
        assert_eq!(store.read_stream_shared("s", 1_101).count().await, 0);
        assert_eq!(store.read_stream_shared("missing", 0).count().await, 0);
    }
}
