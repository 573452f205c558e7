//! The repository's aggregate cache never returns a version older than the store's, and spares
//! the snapshot and the replay of what it holds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Account, AccountCommand, MockSnapshots};
use hive_application::{AggregateRepository, MessageContext, SnapshotPolicy};
use hive_domain::EventStore;
use hive_store_memory::MemoryEventStore;
use hive_testkit::ReferenceCache;

#[tokio::test]
async fn a_cached_aggregate_is_brought_up_to_the_store_version() {
    let store: Arc<dyn EventStore> = Arc::new(MemoryEventStore::new());
    let mut snapshots = MockSnapshots::new();
    // Only the first, cold load reads the snapshot store.
    snapshots.expect_load().times(1).returning(|_| Ok(None));
    snapshots.expect_save().returning(|_| Ok(()));
    let cache = Arc::new(ReferenceCache::local());
    let cached = AggregateRepository::<Account>::new(Arc::clone(&store))
        .with_snapshots(Arc::new(snapshots), SnapshotPolicy { every: 1000 })
        .with_cache(cache.clone(), Duration::from_secs(60));
    let elsewhere = AggregateRepository::<Account>::new(Arc::clone(&store));
    let context = MessageContext::new();

    let open = AccountCommand::Open { owner: "ada".into() };
    cached.execute("acc", &open, &context).await.unwrap();
    cached
        .execute("acc", &AccountCommand::Deposit(10), &context)
        .await
        .unwrap();
    assert_eq!(cache.live(), 1, "the saved state is cached");

    // Another process (no shared cache) writes.
    elsewhere
        .execute("acc", &AccountCommand::Deposit(5), &context)
        .await
        .unwrap();
    let loaded = cached.load("acc").await.unwrap();
    assert_eq!(loaded.version, 3, "never older than the store");
    assert_eq!(loaded.state.balance, 15);
    assert_eq!(
        loaded,
        elsewhere.load("acc").await.unwrap(),
        "the same as a full replay"
    );

    let withdrawn = cached
        .execute("acc", &AccountCommand::Withdraw(7), &context)
        .await
        .unwrap();
    assert_eq!((withdrawn.version, withdrawn.state.balance), (4, 8));
    assert_eq!(cached.load("acc").await.unwrap(), elsewhere.load("acc").await.unwrap());
}
