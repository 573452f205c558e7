//! A projection runner with a lease applies events only while it holds it; another runner
//! takes over when the holder dies without releasing, once the lease has expired.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hive_application::{ApplicationError, Lease, LeaseGrant, ProjectionRunner};
use hive_domain::{CheckpointStore, EventEnvelope, EventStore};
use hive_store_memory::{MemoryCheckpointStore, MemoryEventStore};
use hive_testkit::{Applied, Recorder};
use serde_json::json;

/// Leases in memory, with expiry.
#[derive(Default)]
struct MemoryLease {
    held: Mutex<HashMap<String, (LeaseGrant, Instant)>>,
    fences: Mutex<u64>,
}

#[async_trait]
impl Lease for MemoryLease {
    async fn acquire(&self, name: &str, ttl: Duration) -> Result<Option<LeaseGrant>, ApplicationError> {
        let mut held = self.held.lock().unwrap();
        if held.get(name).is_some_and(|(_, until)| Instant::now() < *until) {
            return Ok(None);
        }
        let mut fences = self.fences.lock().unwrap();
        *fences += 1;
        let grant = LeaseGrant {
            token: uuid::Uuid::new_v4().to_string(),
            fence: *fences,
        };
        held.insert(name.to_owned(), (grant.clone(), Instant::now() + ttl));
        Ok(Some(grant))
    }

    async fn renew(&self, name: &str, grant: &LeaseGrant, ttl: Duration) -> Result<bool, ApplicationError> {
        let mut held = self.held.lock().unwrap();
        match held.get_mut(name) {
            Some((holder, until)) if holder.token == grant.token && Instant::now() < *until => {
                *until = Instant::now() + ttl;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release(&self, name: &str, grant: &LeaseGrant) -> Result<(), ApplicationError> {
        let mut held = self.held.lock().unwrap();
        if held.get(name).is_some_and(|(holder, _)| holder.token == grant.token) {
            held.remove(name);
        }
        Ok(())
    }
}

async fn append(store: &MemoryEventStore, after: u64, count: u64) {
    let events = (after + 1..=after + count)
        .map(|v| EventEnvelope::new("s", "Probe", "Probed", json!({ "n": v }), v))
        .collect();
    store.append("s", after, events).await.unwrap();
}

async fn until(condition: impl Fn() -> bool) {
    for _ in 0..1000 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("gave up waiting");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_holder_applies_and_a_survivor_takes_over() {
    let store = MemoryEventStore::new();
    let checkpoints: Arc<dyn CheckpointStore> = Arc::new(MemoryCheckpointStore::new());
    let lease = Arc::new(MemoryLease::default());
    let applied = Applied::default();
    let runner = |name: &'static str| {
        let projection = Arc::new(Recorder::new("leased", name, &applied));
        let events: Arc<dyn EventStore> = Arc::new(store.clone());
        Arc::new(
            ProjectionRunner::new(events, Arc::clone(&checkpoints), projection)
                .with_lease(lease.clone(), Duration::from_millis(300)),
        )
    };
    let (first, second) = (runner("first"), runner("second"));
    append(&store, 0, 5).await;
    let spawn = |r: Arc<ProjectionRunner>| {
        tokio::spawn(async move {
            r.run_until(None, Duration::from_millis(10), std::future::pending())
                .await
        })
    };
    let first_task = spawn(Arc::clone(&first));
    until(|| applied.lock().unwrap().len() == 5).await;
    let second_task = spawn(Arc::clone(&second));
    append(&store, 5, 5).await;
    until(|| applied.lock().unwrap().len() == 10).await;
    assert!(
        applied.lock().unwrap().iter().all(|(r, _)| *r == "first"),
        "the second runner waited"
    );
    assert_eq!(second.lease_fence(), None);

    first_task.abort(); // dies holding the lease
    let _ = first_task.await;
    append(&store, 10, 5).await;
    until(|| applied.lock().unwrap().len() == 15).await;
    let applied = applied.lock().unwrap().clone();
    assert!(applied[10..].iter().all(|(r, _)| *r == "second"));
    let versions: Vec<u64> = applied.iter().map(|(_, v)| *v).collect();
    assert_eq!(versions, (1..=15).collect::<Vec<_>>(), "every event once, in order");
    assert_eq!(second.lease_fence(), Some(2));
    second_task.abort();
}
