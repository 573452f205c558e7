//! ProjectionRunner: catch-up, checkpoints, poison events, rebuild, live mode.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::{stored, AccountEvent, MockStore};
use hive_application::{ApplicationError, BatchError, PoisonPolicy, Projection, ProjectionRunner};
use hive_domain::{Checkpoint, CheckpointStore, DeadLetter, EventEnvelope, StoreResult};

/// Checkpoints in a map (a fake, not a mock: the runner reads back what it wrote).
#[derive(Default)]
struct Checkpoints {
    saved: Mutex<HashMap<String, Checkpoint>>,
    saves: Mutex<u32>,
    dead: Mutex<Vec<DeadLetter>>,
}

#[async_trait]
impl CheckpointStore for Checkpoints {
    async fn load(&self, projection: &str) -> StoreResult<Option<Checkpoint>> {
        Ok(self.saved.lock().unwrap().get(projection).cloned())
    }
    async fn save(&self, checkpoint: Checkpoint) -> StoreResult<()> {
        *self.saves.lock().unwrap() += 1;
        self.saved
            .lock()
            .unwrap()
            .insert(checkpoint.projection.clone(), checkpoint);
        Ok(())
    }
    async fn list(&self) -> StoreResult<Vec<Checkpoint>> {
        Ok(self.saved.lock().unwrap().values().cloned().collect())
    }
    async fn record_dead_letter(&self, dead_letter: DeadLetter) -> StoreResult<()> {
        self.dead.lock().unwrap().push(dead_letter);
        Ok(())
    }
    async fn dead_letters(&self, projection: &str) -> StoreResult<Vec<DeadLetter>> {
        Ok(self
            .dead
            .lock()
            .unwrap()
            .iter()
            .filter(|d| d.projection == projection)
            .cloned()
            .collect())
    }
    async fn remove_dead_letters(&self, projection: &str, positions: &[u64]) -> StoreResult<u64> {
        let mut dead = self.dead.lock().unwrap();
        let before = dead.len();
        let removed =
            |d: &DeadLetter| d.projection == projection && (positions.is_empty() || positions.contains(&d.position));
        dead.retain(|d| !removed(d));
        Ok((before - dead.len()) as u64)
    }
}

/// Sums deposits; refuses events whose position is in `poison`.
#[derive(Default)]
struct Totals {
    applied: Mutex<Vec<u64>>,
    poison: Vec<u64>,
    resets: Mutex<u32>,
}

#[async_trait]
impl Projection for Totals {
    fn name(&self) -> &str {
        "totals"
    }
    async fn apply(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        let position = event.global_position.unwrap();
        if self.poison.contains(&position) {
            return Err(ApplicationError::Internal(format!("cannot apply {position}")));
        }
        self.applied.lock().unwrap().push(position);
        Ok(())
    }
    async fn reset(&self) -> Result<(), ApplicationError> {
        self.applied.lock().unwrap().clear();
        *self.resets.lock().unwrap() += 1;
        Ok(())
    }
}

fn log_of(n: usize) -> Arc<Mutex<Vec<EventEnvelope>>> {
    let events: Vec<_> = (0..n).map(|i| AccountEvent::Deposited { amount: i as u64 }).collect();
    Arc::new(Mutex::new(stored("acc", &events)))
}

fn store_over(log: Arc<Mutex<Vec<EventEnvelope>>>) -> MockStore {
    let mut store = MockStore::new();
    let reader = Arc::clone(&log);
    store.expect_read_all().returning(move |after, limit| {
        Ok(reader
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.global_position.unwrap() > after)
            .take(limit)
            .cloned()
            .collect())
    });
    store
        .expect_head_position()
        .returning(move || Ok(log.lock().unwrap().len() as u64));
    store
}

#[tokio::test]
async fn catch_up_applies_everything_in_order_and_checkpoints_per_batch() {
    let checkpoints = Arc::new(Checkpoints::default());
    let projection = Arc::new(Totals::default());
    let runner = ProjectionRunner::new(
        Arc::new(store_over(log_of(25))),
        checkpoints.clone(),
        projection.clone(),
    )
    .with_batch_size(10);
    let report = runner.catch_up().await.unwrap();
    assert_eq!(report.applied, 25);
    assert_eq!(report.position, 25);
    assert_eq!(*projection.applied.lock().unwrap(), (1..=25).collect::<Vec<_>>());
    assert_eq!(*checkpoints.saves.lock().unwrap(), 3, "one save per batch");
    let status = runner.status().await.unwrap();
    assert_eq!((status.position, status.head, status.lag), (25, 25, 0));
    let again = runner.catch_up().await.unwrap();
    assert_eq!(again.applied, 0, "nothing new");
}

#[tokio::test]
async fn catch_up_resumes_from_the_checkpoint() {
    let checkpoints = Arc::new(Checkpoints::default());
    checkpoints.save(Checkpoint::new("totals", 20, None)).await.unwrap();
    let projection = Arc::new(Totals::default());
    let runner = ProjectionRunner::new(Arc::new(store_over(log_of(25))), checkpoints, projection.clone());
    runner.catch_up().await.unwrap();
    assert_eq!(*projection.applied.lock().unwrap(), vec![21, 22, 23, 24, 25]);
}

#[tokio::test]
async fn a_poison_event_is_dead_lettered_and_skipped_by_default() {
    let checkpoints = Arc::new(Checkpoints::default());
    let projection = Arc::new(Totals {
        poison: vec![3],
        ..Totals::default()
    });
    let runner = ProjectionRunner::new(Arc::new(store_over(log_of(5))), checkpoints.clone(), projection.clone());
    let report = runner.catch_up().await.unwrap();
    assert_eq!(
        (report.applied, report.dead_lettered, report.position, report.paused),
        (4, 1, 5, false)
    );
    let dead = checkpoints.dead_letters("totals").await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].position, 3);
    assert!(dead[0].error.contains("cannot apply 3"));
}

#[tokio::test]
async fn the_pause_policy_stops_before_the_poison_event() {
    let checkpoints = Arc::new(Checkpoints::default());
    let projection = Arc::new(Totals {
        poison: vec![3],
        ..Totals::default()
    });
    let runner = ProjectionRunner::new(Arc::new(store_over(log_of(5))), checkpoints.clone(), projection.clone())
        .with_poison_policy(PoisonPolicy::Pause);
    let report = runner.catch_up().await.unwrap();
    assert!(report.paused);
    assert_eq!(report.position, 2, "checkpoint stays before the poison event");
    assert_eq!(*projection.applied.lock().unwrap(), vec![1, 2]);
    assert_eq!(checkpoints.dead_letters("totals").await.unwrap().len(), 1);
}

#[tokio::test]
async fn rebuild_resets_the_read_model_and_replays_from_zero() {
    let checkpoints = Arc::new(Checkpoints::default());
    let projection = Arc::new(Totals::default());
    let runner = ProjectionRunner::new(Arc::new(store_over(log_of(7))), checkpoints, projection.clone());
    runner.catch_up().await.unwrap();
    let report = runner.rebuild().await.unwrap();
    assert_eq!(report.applied, 7);
    assert_eq!(*projection.resets.lock().unwrap(), 1);
    assert_eq!(*projection.applied.lock().unwrap(), (1..=7).collect::<Vec<_>>());
}

#[tokio::test]
async fn live_mode_follows_new_events_until_shutdown() {
    let log = log_of(2);
    let checkpoints = Arc::new(Checkpoints::default());
    let projection = Arc::new(Totals::default());
    let runner = Arc::new(ProjectionRunner::new(
        Arc::new(store_over(log.clone())),
        checkpoints,
        projection.clone(),
    ));
    let bus = hive_application::EventBus::default();
    let wake = bus.subscribe();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let live = {
        let runner = Arc::clone(&runner);
        tokio::spawn(async move {
            runner
                .run_until(Some(wake), Duration::from_secs(60), async {
                    let _ = stopped.await;
                })
                .await;
        })
    };
    let more = stored("acc", &vec![AccountEvent::Deposited { amount: 1 }; 3]);
    let mut third = more[2].clone();
    third.global_position = Some(3);
    log.lock().unwrap().push(third.clone());
    bus.publish(&[third]).await;
    for _ in 0..200 {
        if projection.applied.lock().unwrap().len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(*projection.applied.lock().unwrap(), vec![1, 2, 3]);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), live)
        .await
        .unwrap()
        .unwrap();
}

/// Keeps the positions it applied, idempotently (an event at or below the last one applied is
/// skipped), one by one or a page at once; refuses events whose position is in `poison`. A
/// page with a poison event is applied up to it before the batch fails, like a store whose
/// bulk write stopped half-way.
#[derive(Default)]
struct Batched {
    applied: Mutex<Vec<u64>>,
    poison: Vec<u64>,
    /// Whether a failed batch says how far it got (else `applied: 0`).
    reports_progress: bool,
    /// The positions of each page handed to `apply_batch`.
    batches: Mutex<Vec<Vec<u64>>>,
    /// The positions handed to `apply`.
    singles: Mutex<Vec<u64>>,
}

impl Batched {
    fn apply_one(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        let position = event.global_position.unwrap();
        if self.poison.contains(&position) {
            return Err(ApplicationError::Internal(format!("cannot apply {position}")));
        }
        let mut applied = self.applied.lock().unwrap();
        if applied.last().is_none_or(|last| *last < position) {
            applied.push(position);
        }
        Ok(())
    }
}

#[async_trait]
impl Projection for Batched {
    fn name(&self) -> &str {
        "batched"
    }
    async fn apply(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        self.singles.lock().unwrap().push(event.global_position.unwrap());
        self.apply_one(event)
    }
    async fn reset(&self) -> Result<(), ApplicationError> {
        self.applied.lock().unwrap().clear();
        Ok(())
    }
    async fn apply_batch(&self, events: &[EventEnvelope]) -> Result<(), BatchError> {
        self.batches
            .lock()
            .unwrap()
            .push(events.iter().map(|e| e.global_position.unwrap()).collect());
        for (index, event) in events.iter().enumerate() {
            self.apply_one(event).map_err(|error| BatchError {
                applied: if self.reports_progress { index } else { 0 },
                error,
            })?;
        }
        Ok(())
    }
}

fn batched_runner(projection: Arc<Batched>, checkpoints: Arc<Checkpoints>) -> ProjectionRunner {
    ProjectionRunner::new(Arc::new(store_over(log_of(10))), checkpoints, projection).with_batch_size(4)
}

#[tokio::test]
async fn pages_go_through_apply_batch_and_apply_is_not_called() {
    let checkpoints = Arc::new(Checkpoints::default());
    let projection = Arc::new(Batched::default());
    let report = batched_runner(projection.clone(), checkpoints.clone())
        .catch_up()
        .await
        .unwrap();
    assert_eq!((report.applied, report.dead_lettered, report.position), (10, 0, 10));
    assert_eq!(
        *projection.batches.lock().unwrap(),
        vec![vec![1, 2, 3, 4], vec![5, 6, 7, 8], vec![9, 10]]
    );
    assert!(
        projection.singles.lock().unwrap().is_empty(),
        "no event applied one by one"
    );
    assert_eq!(*projection.applied.lock().unwrap(), (1..=10).collect::<Vec<_>>());
    assert_eq!(*checkpoints.saves.lock().unwrap(), 3, "one save per page");
    let saved = checkpoints.load("batched").await.unwrap().unwrap();
    assert_eq!(saved.position, 10);
}

#[tokio::test]
async fn a_failed_batch_dead_letters_only_the_poison_event_and_applies_the_others() {
    let checkpoints = Arc::new(Checkpoints::default());
    let projection = Arc::new(Batched {
        poison: vec![6],
        ..Batched::default()
    });
    let report = batched_runner(projection.clone(), checkpoints.clone())
        .catch_up()
        .await
        .unwrap();
    assert_eq!(
        (report.applied, report.dead_lettered, report.position, report.paused),
        (9, 1, 10, false)
    );
    let dead = checkpoints.dead_letters("batched").await.unwrap();
    assert_eq!(dead.iter().map(|d| d.position).collect::<Vec<_>>(), vec![6]);
    assert!(dead[0].error.contains("cannot apply 6"), "{}", dead[0].error);
    assert_eq!(
        *projection.singles.lock().unwrap(),
        vec![5, 6, 7, 8],
        "the failed page (nothing known applied) is applied again one by one, only that page"
    );
    assert_eq!(
        *projection.applied.lock().unwrap(),
        vec![1, 2, 3, 4, 5, 7, 8, 9, 10],
        "every other event applied exactly once: the part applied by the batch is skipped the second time"
    );
    assert_eq!(
        projection.batches.lock().unwrap().len(),
        3,
        "the next page is a batch again"
    );
}

#[tokio::test]
async fn a_failed_batch_that_reports_progress_resumes_at_the_failing_event() {
    let checkpoints = Arc::new(Checkpoints::default());
    let projection = Arc::new(Batched {
        poison: vec![6],
        reports_progress: true,
        ..Batched::default()
    });
    let report = batched_runner(projection.clone(), checkpoints.clone())
        .catch_up()
        .await
        .unwrap();
    assert_eq!((report.applied, report.dead_lettered, report.position), (9, 1, 10));
    assert_eq!(*projection.singles.lock().unwrap(), vec![6, 7, 8]);
    assert_eq!(*projection.applied.lock().unwrap(), vec![1, 2, 3, 4, 5, 7, 8, 9, 10]);
    assert_eq!(checkpoints.dead_letters("batched").await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_pause_policy_stops_a_failed_batch_before_the_poison_event() {
    let checkpoints = Arc::new(Checkpoints::default());
    let projection = Arc::new(Batched {
        poison: vec![6],
        ..Batched::default()
    });
    let runner = batched_runner(projection.clone(), checkpoints.clone()).with_poison_policy(PoisonPolicy::Pause);
    let report = runner.catch_up().await.unwrap();
    assert!(report.paused);
    assert_eq!((report.applied, report.dead_lettered), (5, 0));
    assert_eq!(
        report.position, 5,
        "checkpoint at the last event applied before the poison event"
    );
    let saved = checkpoints.load("batched").await.unwrap().unwrap();
    assert_eq!(saved.position, 5);
    assert_eq!(*projection.applied.lock().unwrap(), vec![1, 2, 3, 4, 5]);
    let dead = checkpoints.dead_letters("batched").await.unwrap();
    assert_eq!(dead.iter().map(|d| d.position).collect::<Vec<_>>(), vec![6]);
    let again = runner.catch_up().await.unwrap();
    assert!(again.paused, "the next catch-up stops on it again");
    assert_eq!((again.applied, again.position), (0, 5));
}

#[tokio::test]
async fn a_projection_of_a_newer_version_rebuilds_its_read_model_once() {
    struct Versioned(Arc<Totals>);
    #[async_trait]
    impl Projection for Versioned {
        fn name(&self) -> &str {
            "totals"
        }
        fn version(&self) -> u32 {
            2
        }
        async fn apply(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
            self.0.apply(event).await
        }
        async fn reset(&self) -> Result<(), ApplicationError> {
            self.0.reset().await
        }
    }
    let checkpoints = Arc::new(Checkpoints::default());
    // Written by the previous code: no version (read as 1), no timestamp.
    checkpoints.save(Checkpoint::new("totals", 20, None)).await.unwrap();
    let totals = Arc::new(Totals::default());
    let log = log_of(25);
    let last = log.lock().unwrap()[24].timestamp;
    let runner = ProjectionRunner::new(
        Arc::new(store_over(log)),
        checkpoints.clone(),
        Arc::new(Versioned(totals.clone())),
    );
    let report = runner.catch_up().await.unwrap();
    assert!(report.upgraded, "the read model of version 1 is rebuilt");
    assert_eq!(
        *totals.applied.lock().unwrap(),
        (1..=25).collect::<Vec<_>>(),
        "replayed from the start"
    );
    let saved = checkpoints.load("totals").await.unwrap().unwrap();
    assert_eq!((saved.position, saved.version), (25, 2));
    assert_eq!(saved.last_processed_timestamp, Some(last));
    let status = runner.status().await.unwrap();
    assert_eq!((status.version, status.last_processed_timestamp), (2, Some(last)));
    let again = runner.catch_up().await.unwrap();
    assert!(!again.upgraded && again.applied == 0, "rebuilt once only");
}
