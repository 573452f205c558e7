//! Hot aggregates: a command on a hot aggregate reads nothing from the store; a stale one is
//! refused by the store's version check and decided again; two repositories ("instances") on
//! one store, racing, lose no update.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use common::{Account, AccountCommand};
use futures::TryStreamExt;
use hive_application::{AggregateRepository, ApplicationError, MessageContext};
use hive_domain::{EventEnvelope, EventStore, EventStream, SharedEventStream, StoreResult};
use hive_store_memory::MemoryEventStore;

/// A memory store that counts stream reads and refused (conflicting) appends.
#[derive(Default)]
struct CountingStore {
    inner: MemoryEventStore,
    stream_reads: AtomicU64,
    conflicts: AtomicU64,
}

impl CountingStore {
    fn reads(&self) -> u64 {
        self.stream_reads.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl EventStore for CountingStore {
    async fn append(&self, id: &str, expected: u64, events: Vec<EventEnvelope>) -> StoreResult<Vec<EventEnvelope>> {
        let appended = self.inner.append(id, expected, events).await;
        if matches!(&appended, Err(error) if error.is_conflict()) {
            self.conflicts.fetch_add(1, Ordering::SeqCst);
        }
        appended
    }

    fn read_stream<'a>(&'a self, id: &'a str, from: u64) -> EventStream<'a> {
        self.stream_reads.fetch_add(1, Ordering::SeqCst);
        self.inner.read_stream(id, from)
    }

    fn read_stream_shared<'a>(&'a self, id: &'a str, from: u64) -> SharedEventStream<'a> {
        self.stream_reads.fetch_add(1, Ordering::SeqCst);
        self.inner.read_stream_shared(id, from)
    }

    async fn stream_version(&self, id: &str) -> StoreResult<u64> {
        self.stream_reads.fetch_add(1, Ordering::SeqCst);
        self.inner.stream_version(id).await
    }

    async fn read_all(&self, after: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>> {
        self.inner.read_all(after, limit).await
    }

    async fn head_position(&self) -> StoreResult<u64> {
        self.inner.head_position().await
    }
}

fn open() -> AccountCommand {
    AccountCommand::Open { owner: "ada".into() }
}

#[tokio::test]
async fn a_command_on_a_hot_aggregate_reads_nothing_from_the_store() {
    let store = Arc::new(CountingStore::default());
    let repository = AggregateRepository::<Account>::new(store.clone());
    let context = MessageContext::new();
    repository.execute("acc", &open(), &context).await.unwrap();
    let after_first = store.reads();
    assert_eq!(after_first, 1, "the first command loads the (empty) stream once");
    for _ in 0..10 {
        repository
            .execute("acc", &AccountCommand::Deposit(1), &context)
            .await
            .unwrap();
    }
    assert_eq!(store.reads(), after_first, "hot: decide + append, no read");
    assert_eq!(repository.hot_aggregates(), 1);

    let cold = AggregateRepository::<Account>::new(store.clone()).with_hot_aggregates(0);
    cold.execute("acc", &AccountCommand::Deposit(1), &context)
        .await
        .unwrap();
    assert_eq!(
        store.reads(),
        after_first + 1,
        "without hot aggregates every command loads"
    );
    assert_eq!(cold.hot_aggregates(), 0);
}

#[tokio::test]
async fn a_stale_decision_is_refused_by_the_store_then_decided_again() {
    let store = Arc::new(CountingStore::default());
    let stale = AggregateRepository::<Account>::new(store.clone());
    let other = AggregateRepository::<Account>::new(store.clone());
    let context = MessageContext::new();
    stale.execute("acc", &open(), &context).await.unwrap();
    stale
        .execute("acc", &AccountCommand::Deposit(10), &context)
        .await
        .unwrap();
    // Another instance withdraws everything: `stale` still holds balance 10 at version 2.
    other
        .execute("acc", &AccountCommand::Withdraw(10), &context)
        .await
        .unwrap();

    // Decided on the stale state, a withdrawal would pass; the store refuses it, the
    // repository catches up and the aggregate refuses it on the current state.
    let refused = stale.execute("acc", &AccountCommand::Withdraw(5), &context).await;
    assert!(matches!(refused, Err(ApplicationError::Domain { .. })), "{refused:?}");
    assert_eq!(
        store.conflicts.load(Ordering::SeqCst),
        1,
        "the stale decision was refused"
    );

    // A refusal decided on a stale hot state is checked against the store before it stands.
    other
        .execute("acc", &AccountCommand::Deposit(7), &context)
        .await
        .unwrap();
    let withdrawn = stale
        .execute("acc", &AccountCommand::Withdraw(7), &context)
        .await
        .unwrap();
    assert_eq!((withdrawn.version, withdrawn.state.balance), (5, 0));
    assert_eq!(stale.load("acc").await.unwrap(), other.load("acc").await.unwrap());
}

#[tokio::test]
async fn the_hot_map_holds_at_most_its_capacity() {
    let store = Arc::new(CountingStore::default());
    let repository = AggregateRepository::<Account>::new(store.clone()).with_hot_aggregates(50);
    let context = MessageContext::new();
    for i in 0..500 {
        repository
            .execute(&format!("acc-{i}"), &open(), &context)
            .await
            .unwrap();
    }
    let kept = repository.hot_aggregates();
    assert!((1..=50).contains(&kept), "{kept} kept");
    // An evicted aggregate is loaded again, correctly.
    let first = repository
        .execute("acc-0", &AccountCommand::Deposit(3), &context)
        .await
        .unwrap();
    assert_eq!((first.version, first.state.balance), (2, 3));
}

/// Runs `command` until it is not refused by a concurrent writer (what the retry layer does).
async fn execute_with_retry(repository: &AggregateRepository<Account>, id: &str, command: &AccountCommand) -> u64 {
    loop {
        match repository.execute(id, command, &MessageContext::new()).await {
            Ok(executed) => return executed.version,
            Err(ApplicationError::Conflict { .. }) => tokio::task::yield_now().await,
            Err(other) => panic!("{other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_racing_on_one_store_lose_no_update() {
    const STREAMS: usize = 3;
    const PER_TASK: u64 = 40;
    const TASKS_PER_INSTANCE: u64 = 4;
    let store = Arc::new(CountingStore::default());
    let instances = [
        AggregateRepository::<Account>::new(store.clone()),
        AggregateRepository::<Account>::new(store.clone()),
    ];
    let context = MessageContext::new();
    for s in 0..STREAMS {
        instances[0]
            .execute(&format!("acc-{s}"), &open(), &context)
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for (i, instance) in instances.iter().enumerate() {
        for t in 0..TASKS_PER_INSTANCE {
            let instance = instance.clone();
            tasks.push(tokio::spawn(async move {
                for n in 0..PER_TASK {
                    // A distinct amount per command: each must be applied exactly once.
                    let amount = 1 + (i as u64 * TASKS_PER_INSTANCE + t) * PER_TASK + n;
                    let stream = format!("acc-{}", n as usize % STREAMS);
                    execute_with_retry(&instance, &stream, &AccountCommand::Deposit(amount)).await;
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }

    let commands = 2 * TASKS_PER_INSTANCE * PER_TASK;
    let mut amounts = Vec::new();
    for s in 0..STREAMS {
        let id = format!("acc-{s}");
        let events: Vec<EventEnvelope> = store.inner.read_stream(&id, 1).try_collect().await.unwrap();
        let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
        assert_eq!(
            versions,
            (1..=events.len() as u64).collect::<Vec<_>>(),
            "{id}: gap-free"
        );
        amounts.extend(events.iter().skip(1).map(|e| e.event_data["amount"].as_u64().unwrap()));
        // Both instances agree with the store.
        let loaded = [
            instances[0].load(&id).await.unwrap(),
            instances[1].load(&id).await.unwrap(),
        ];
        assert_eq!(loaded[0], loaded[1]);
        assert_eq!(loaded[0].version, events.len() as u64);
    }
    amounts.sort_unstable();
    assert_eq!(
        amounts,
        (1..=commands).collect::<Vec<_>>(),
        "every command applied exactly once"
    );
    assert!(
        store.conflicts.load(Ordering::SeqCst) > 0,
        "stale decisions were refused by the store (and retried)"
    );
}
