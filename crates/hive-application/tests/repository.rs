//! AggregateRepository against mocked ports.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::{stored, Account, AccountCommand, AccountEvent, MockSnapshots, MockStore};
use futures::stream;
use hive_application::{AggregateRepository, ApplicationError, EventBus, EventHandler, MessageContext, SnapshotPolicy};
use hive_domain::{EventEnvelope, EventStoreError, Metadata, Snapshot};
use mockall::predicate::eq;

fn store_with(history: Vec<EventEnvelope>) -> MockStore {
    let mut store = MockStore::new();
    store.expect_read_stream().returning(move |_, from| {
        let tail: Vec<_> = history.iter().filter(|e| e.version >= from).cloned().map(Ok).collect();
        Box::pin(stream::iter(tail))
    });
    store
}

fn context() -> MessageContext {
    MessageContext::new().with_correlation_id("corr-1").with_metadata(
        Metadata::default()
            .with_organization("org-1")
            .with_user("user-1")
            .with_source("test"),
    )
}

#[tokio::test]
async fn load_replays_every_event_in_order() {
    let history = stored(
        "acc-1",
        &[
            AccountEvent::Opened { owner: "ada".into() },
            AccountEvent::Deposited { amount: 10 },
            AccountEvent::Withdrawn { amount: 4 },
        ],
    );
    let repo = AggregateRepository::<Account>::new(Arc::new(store_with(history)));
    let loaded = repo.load("acc-1").await.unwrap();
    assert_eq!(loaded.version, 3);
    assert_eq!(loaded.state.balance, 6);
    assert_eq!(loaded.state.owner.as_deref(), Some("ada"));
}

#[tokio::test]
async fn load_starts_from_the_snapshot_and_reads_only_the_tail() {
    let mut store = MockStore::new();
    let tail = stored(
        "acc-1",
        &[
            AccountEvent::Opened { owner: "x".into() },
            AccountEvent::Deposited { amount: 5 },
        ],
    );
    store
        .expect_read_stream()
        .withf(|id, from| id == "acc-1" && *from == 11)
        .times(1)
        .returning(move |_, _| {
            let mut last = tail[1].clone();
            last.version = 11;
            Box::pin(stream::iter(vec![Ok(last)]))
        });
    let mut snapshots = MockSnapshots::new();
    let state = Account {
        owner: Some("ada".into()),
        balance: 100,
        operations: 10,
    };
    let snapshot = Snapshot {
        aggregate_id: "acc-1".into(),
        aggregate_type: "Account".into(),
        version: 10,
        state: serde_json::to_value(&state).unwrap(),
        timestamp: chrono::Utc::now(),
    };
    snapshots
        .expect_load()
        .with(eq("acc-1"))
        .returning(move |_| Ok(Some(snapshot.clone())));
    let repo = AggregateRepository::<Account>::new(Arc::new(store))
        .with_snapshots(Arc::new(snapshots), SnapshotPolicy { every: 10 });
    let loaded = repo.load("acc-1").await.unwrap();
    assert_eq!(loaded.version, 11);
    assert_eq!(loaded.state.balance, 105);
}

#[tokio::test]
async fn execute_appends_at_the_loaded_version_with_correlation_causation_and_metadata() {
    let history = stored("acc-1", &[AccountEvent::Opened { owner: "ada".into() }]);
    let mut store = store_with(history);
    let captured = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&captured);
    store
        .expect_append()
        .withf(|id, expected, events| id == "acc-1" && *expected == 1 && events.len() == 1)
        .times(1)
        .returning(move |_, _, events| {
            sink.lock().unwrap().extend(events.clone());
            Ok(events)
        });
    let repo = AggregateRepository::<Account>::new(Arc::new(store));
    let ctx = context();
    let executed = repo.execute("acc-1", &AccountCommand::Deposit(7), &ctx).await.unwrap();
    assert_eq!(executed.version, 2);
    assert_eq!(executed.state.balance, 7);
    let events = captured.lock().unwrap().clone();
    let event = &events[0];
    assert_eq!(event.version, 2);
    assert_eq!(event.event_type, "Deposited");
    assert_eq!(event.aggregate_type, "Account");
    assert_eq!(event.correlation_id, "corr-1");
    assert_eq!(event.causation_id, ctx.message_id.to_string());
    assert_eq!(event.metadata.organization_id.as_deref(), Some("org-1"));
    assert_eq!(event.metadata.user_id.as_deref(), Some("user-1"));
    assert_eq!(event.event_id.get_version_num(), 7);
}

#[tokio::test]
async fn a_refused_command_appends_nothing() {
    let mut store = store_with(stored("acc-1", &[AccountEvent::Opened { owner: "ada".into() }]));
    store.expect_append().never();
    let repo = AggregateRepository::<Account>::new(Arc::new(store));
    let err = repo
        .execute("acc-1", &AccountCommand::Withdraw(1), &context())
        .await
        .unwrap_err();
    assert_eq!(err, ApplicationError::domain("account", "insufficient funds"));
}

#[tokio::test]
async fn a_store_conflict_becomes_a_typed_conflict_and_nothing_is_published() {
    let mut store = store_with(Vec::new());
    store.expect_append().returning(|id, expected, _| {
        Err(EventStoreError::Conflict {
            aggregate_id: id.to_owned(),
            expected,
            actual: 3,
        })
    });
    let bus = EventBus::default();
    let recorder = Arc::new(Recorder::default());
    bus.register(recorder.clone());
    let repo = AggregateRepository::<Account>::new(Arc::new(store)).with_event_bus(bus);
    let err = repo
        .execute("acc-9", &AccountCommand::Open { owner: "x".into() }, &context())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ApplicationError::Conflict {
            aggregate_id: "acc-9".into(),
            expected: 0,
            actual: 3
        }
    );
    assert!(recorder.seen.lock().unwrap().is_empty());
}

#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<EventEnvelope>>,
}

#[async_trait]
impl EventHandler for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }
    async fn handle(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        self.seen.lock().unwrap().push(event.clone());
        Ok(())
    }
}

#[tokio::test]
async fn stored_events_are_published_after_the_append_and_snapshots_follow_the_policy() {
    let history = stored("acc-1", &[AccountEvent::Opened { owner: "ada".into() }]);
    let mut store = store_with(history);
    store.expect_append().returning(|_, _, mut events| {
        for (i, e) in events.iter_mut().enumerate() {
            e.global_position = Some(100 + i as u64);
        }
        Ok(events)
    });
    let mut snapshots = MockSnapshots::new();
    snapshots.expect_load().returning(|_| Ok(None));
    snapshots
        .expect_save()
        .withf(|s| s.version == 2 && s.state["balance"] == 5)
        .times(1)
        .returning(|_| Ok(()));
    let bus = EventBus::default();
    let recorder = Arc::new(Recorder::default());
    bus.register(recorder.clone());
    let mut subscriber = bus.subscribe();
    let repo = AggregateRepository::<Account>::new(Arc::new(store))
        .with_snapshots(Arc::new(snapshots), SnapshotPolicy { every: 2 })
        .with_event_bus(bus);
    repo.execute("acc-1", &AccountCommand::Deposit(5), &context())
        .await
        .unwrap();
    let seen = recorder.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].global_position, Some(100), "handlers see the stored envelope");
    assert_eq!(subscriber.recv().await.unwrap().event_type, "Deposited");
}

#[tokio::test]
async fn a_failing_snapshot_store_does_not_fail_the_command() {
    let mut store = store_with(Vec::new());
    store.expect_append().returning(|_, _, events| Ok(events));
    let mut snapshots = MockSnapshots::new();
    snapshots.expect_load().returning(|_| Ok(None));
    snapshots
        .expect_save()
        .returning(|_| Err(EventStoreError::Unavailable("down".into())));
    let repo = AggregateRepository::<Account>::new(Arc::new(store))
        .with_snapshots(Arc::new(snapshots), SnapshotPolicy { every: 1 });
    assert!(repo
        .execute("a", &AccountCommand::Open { owner: "o".into() }, &context())
        .await
        .is_ok());
}
