//! Projection leases on Redis: of two runners of one projection only the lease holder applies
//! events; when it dies without releasing, the other takes over once the lease expires, with a
//! larger fencing token. Against `HIVE_REDIS_URL`; skipped without it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use hive_application::{Lease, ProjectionRunner};
use hive_cache_redis::RedisLease;
use hive_domain::{CheckpointStore, EventEnvelope, EventStore};
use hive_store_memory::{MemoryCheckpointStore, MemoryEventStore};
use hive_testkit::{Applied, Recorder};
use serde_json::json;

async fn append(store: &MemoryEventStore, from: u64, count: u64) {
    let events = (from + 1..=from + count)
        .map(|v| EventEnvelope::new("stream", "Probe", "Probed", json!({ "n": v }), v))
        .collect();
    store.append("stream", from, events).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_runner_holds_the_lease_and_the_other_takes_over_when_it_dies() {
    let Some(url) = common::redis_url() else { return };
    let guard = common::held_cache(&url);
    let store = MemoryEventStore::new();
    let checkpoints: Arc<dyn CheckpointStore> = Arc::new(MemoryCheckpointStore::new());
    let applied = Applied::default();
    let ttl = Duration::from_millis(600);
    let runner = |name: &'static str| {
        // Each runner has its own connection, as in its own process.
        let cache = hive_cache_redis::RedisCache::open(guard.store().config().clone()).unwrap();
        let projection = Arc::new(Recorder::new("lease-test", name, &applied));
        let events: Arc<dyn EventStore> = Arc::new(store.clone());
        Arc::new(
            ProjectionRunner::new(events, Arc::clone(&checkpoints), projection)
                .with_lease(Arc::new(RedisLease::new(cache)), ttl),
        )
    };
    let (one, two) = (runner("one"), runner("two"));
    append(&store, 0, 20).await;
    let run = |runner: Arc<ProjectionRunner>| {
        tokio::spawn(async move {
            runner
                .run_until(None, Duration::from_millis(20), std::future::pending())
                .await
        })
    };
    let (task_one, task_two) = (run(Arc::clone(&one)), run(Arc::clone(&two)));
    common::eventually("the first 20 events are applied", async || {
        applied.lock().unwrap().len() >= 20
    })
    .await;
    let holder = applied.lock().unwrap()[0].0;
    let (holder_runner, holder_task, other, other_task) = if holder == "one" {
        (&one, task_one, &two, task_two)
    } else {
        (&two, task_two, &one, task_one)
    };
    assert!(holder_runner.lease_fence().is_some() && other.lease_fence().is_none());
    let first_fence = holder_runner.lease_fence().unwrap();

    // The holder dies: its task is gone, its lease is not released.
    holder_task.abort();
    let _ = holder_task.await;
    append(&store, 20, 10).await;
    common::eventually("the other runner applies the new events", async || {
        applied.lock().unwrap().len() >= 30
    })
    .await;
    let applied = applied.lock().unwrap().clone();
    let versions: Vec<u64> = applied.iter().map(|(_, v)| *v).collect();
    assert_eq!(versions, (1..=30).collect::<Vec<_>>(), "every event once, in order");
    assert!(
        applied[..20].iter().all(|(r, _)| *r == holder),
        "only the holder applied while it held the lease"
    );
    assert!(
        applied[20..].iter().all(|(r, _)| *r != holder),
        "the new holder applied what followed"
    );
    assert!(
        other.lease_fence().unwrap() > first_fence,
        "the new tenure has a larger fencing token"
    );
    other_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn leases_are_exclusive_renewable_and_released_by_their_holder_only() {
    let Some(url) = common::redis_url() else { return };
    let guard = common::held_cache(&url);
    let lease = RedisLease::new(guard.store().as_ref().clone());
    let ttl = Duration::from_secs(30);
    let first = lease.acquire("p", ttl).await.unwrap().expect("a free lease is granted");
    assert_eq!(
        lease.acquire("p", ttl).await.unwrap(),
        None,
        "a held lease is not granted twice"
    );
    assert!(lease.renew("p", &first, ttl).await.unwrap());
    let impostor = hive_application::LeaseGrant {
        token: "not-the-token".into(),
        fence: first.fence,
    };
    assert!(
        !lease.renew("p", &impostor, ttl).await.unwrap(),
        "renew needs the holder's token"
    );
    lease.release("p", &impostor).await.unwrap();
    assert_eq!(
        lease.acquire("p", ttl).await.unwrap(),
        None,
        "release needs the holder's token"
    );
    lease.release("p", &first).await.unwrap();
    let second = lease
        .acquire("p", ttl)
        .await
        .unwrap()
        .expect("a released lease is granted again");
    assert!(second.fence > first.fence);
    assert!(
        !lease.renew("p", &first, ttl).await.unwrap(),
        "the old holder cannot renew"
    );
}
