//! Runs one projection over the global log: catch-up, rebuild, live mode, dead letters.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use hive_domain::{Checkpoint, CheckpointStore, DeadLetter, EventStore};
use tokio::sync::{broadcast, Mutex};

use super::{Lease, LeaseGrant, Projection};
use crate::ApplicationError;

/// What to do with an event the projection cannot apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PoisonPolicy {
    /// Record a dead letter and go on with the next event.
    #[default]
    Skip,
    /// Record a dead letter and stop before the event; the next catch-up tries it again.
    Pause,
}

/// The outcome of one catch-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CatchUp {
    /// Events applied.
    pub applied: u64,
    /// Events sent to the dead-letter record.
    pub dead_lettered: u64,
    /// The checkpoint position afterwards.
    pub position: u64,
    /// Whether it stopped on a poison event (policy [`PoisonPolicy::Pause`]).
    pub paused: bool,
    /// Whether it emptied the read model first, because the projection's code has a greater
    /// [`Projection::version`] than the one that wrote it.
    pub upgraded: bool,
}

/// Where a projection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectionStatus {
    /// The projection.
    pub name: String,
    /// Its checkpoint position.
    pub position: u64,
    /// The store's head position.
    pub head: u64,
    /// `head - position`.
    pub lag: u64,
    /// The projection code version that wrote the read model (0: before versions).
    pub version: u32,
    /// The timestamp of the last event applied.
    pub last_processed_timestamp: Option<chrono::DateTime<Utc>>,
}

/// Feeds one projection from the global log, saving a checkpoint after each batch.
pub struct ProjectionRunner {
    store: Arc<dyn EventStore>,
    checkpoints: Arc<dyn CheckpointStore>,
    projection: Arc<dyn Projection>,
    batch_size: usize,
    policy: PoisonPolicy,
    lease: Option<(Arc<dyn Lease>, Duration)>,
    held: std::sync::Mutex<Option<LeaseGrant>>,
    // One catch-up at a time per runner.
    gate: Mutex<()>,
}

impl std::fmt::Debug for ProjectionRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectionRunner")
            .field("projection", &self.projection.name())
            .finish_non_exhaustive()
    }
}

impl ProjectionRunner {
    /// A runner reading batches of 500 events, skipping poison events.
    pub fn new(
        store: Arc<dyn EventStore>,
        checkpoints: Arc<dyn CheckpointStore>,
        projection: Arc<dyn Projection>,
    ) -> Self {
        Self {
            store,
            checkpoints,
            projection,
            batch_size: 500,
            policy: PoisonPolicy::default(),
            lease: None,
            held: std::sync::Mutex::new(None),
            gate: Mutex::new(()),
        }
    }

    /// In live mode ([`ProjectionRunner::run_until`]), applies events only while holding the
    /// lease named after the projection, taken for `ttl` and renewed every `ttl / 3`; stops
    /// applying as soon as it is lost or expires, and tries again to take it. Explicit
    /// [`catch_up`](Self::catch_up) and [`rebuild`](Self::rebuild) calls do not ask for it.
    #[must_use]
    pub fn with_lease(mut self, lease: Arc<dyn Lease>, ttl: Duration) -> Self {
        self.lease = Some((lease, ttl.max(Duration::from_millis(30))));
        self
    }

    /// The fencing token of the lease this runner holds, if it holds one.
    pub fn lease_fence(&self) -> Option<u64> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|g| g.fence)
    }

    /// Sets the batch size (events read and checkpointed at once).
    #[must_use]
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Sets the poison-event policy.
    #[must_use]
    pub fn with_poison_policy(mut self, policy: PoisonPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The projection's name.
    pub fn name(&self) -> &str {
        self.projection.name()
    }

    /// The checkpoint position (0 when none was saved).
    pub async fn position(&self) -> Result<u64, ApplicationError> {
        Ok(self
            .checkpoints
            .load(self.projection.name())
            .await?
            .map_or(0, |c| c.position))
    }

    /// Checkpoint, head and lag.
    pub async fn status(&self) -> Result<ProjectionStatus, ApplicationError> {
        let checkpoint = self.checkpoints.load(self.projection.name()).await?;
        let position = checkpoint.as_ref().map_or(0, |c| c.position);
        let head = self.store.head_position().await?;
        Ok(ProjectionStatus {
            name: self.name().to_owned(),
            position,
            head,
            lag: head.saturating_sub(position),
            version: checkpoint.as_ref().map_or(0, |c| c.version),
            last_processed_timestamp: checkpoint.and_then(|c| c.last_processed_timestamp),
        })
    }

    /// Applies every event after the checkpoint, batch by batch, until the end of the log.
    pub async fn catch_up(&self) -> Result<CatchUp, ApplicationError> {
        self.catch_up_until(None).await
    }

    /// [`catch_up`](Self::catch_up), starting no batch at or after `deadline`.
    async fn catch_up_until(&self, deadline: Option<Instant>) -> Result<CatchUp, ApplicationError> {
        let _gate = self.gate.lock().await;
        let name = self.projection.name().to_owned();
        let version = self.projection.version();
        let stored = self.checkpoints.load(&name).await?;
        let mut report = CatchUp {
            position: stored.as_ref().map_or(0, |c| c.position),
            ..CatchUp::default()
        };
        let mut last_timestamp = stored.as_ref().and_then(|c| c.last_processed_timestamp);
        // A checkpoint without a version (0) was written by code of version 1.
        if let Some(old) = stored.as_ref().filter(|c| c.version.max(1) < version) {
            tracing::info!(projection = %name, from = old.version, to = version,
                "the projection's code is newer than its read model: rebuilding it from the log");
            self.projection.reset().await?;
            self.checkpoints
                .save(Checkpoint::new(name.clone(), 0, None).with_version(version))
                .await?;
            report.position = 0;
            report.upgraded = true;
            last_timestamp = None;
        }
        loop {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(report);
            }
            let batch = self.store.read_all(report.position, self.batch_size).await?;
            let Some(last) = batch.last() else { return Ok(report) };
            let full = batch.len() == self.batch_size;
            let mut checkpoint = Checkpoint::new(name.clone(), report.position, None)
                .with_version(version)
                .with_last_processed_timestamp(last_timestamp);
            // The fast path: the whole page at once. On an error, the events it did not
            // certainly apply go one by one through `apply`, which decides the poison events.
            let from = if batch.iter().all(|e| e.global_position.is_some()) {
                let applied = match self.projection.apply_batch(&batch).await {
                    Ok(()) => batch.len(),
                    Err(failure) => {
                        tracing::debug!(projection = %name, applied = failure.applied, error = %failure.error,
                            "batch failed: applying its events one by one");
                        failure.applied.min(batch.len())
                    }
                };
                if let Some(event) = applied.checked_sub(1).and_then(|i| batch.get(i)) {
                    report.applied += applied as u64;
                    checkpoint.position = event.global_position.unwrap_or(checkpoint.position);
                    checkpoint.last_event_id = Some(event.event_id);
                    checkpoint.last_processed_timestamp = Some(event.timestamp);
                }
                applied
            } else {
                0
            };
            for event in &batch[from..] {
                let position = event.global_position.ok_or_else(|| {
                    ApplicationError::Internal(format!("event {} from the global log has no position", event.event_id))
                })?;
                match self.projection.apply(event).await {
                    Ok(()) => report.applied += 1,
                    Err(error) => {
                        self.checkpoints
                            .record_dead_letter(DeadLetter {
                                projection: name.clone(),
                                position,
                                event_id: event.event_id,
                                event_type: event.event_type.clone(),
                                error: error.to_string(),
                                recorded_at: Utc::now(),
                            })
                            .await?;
                        tracing::warn!(projection = %name, position, %error, "poison event");
                        if self.policy == PoisonPolicy::Pause {
                            report.paused = true;
                            self.save(&mut checkpoint, &mut report).await?;
                            return Ok(report);
                        }
                        report.dead_lettered += 1;
                    }
                }
                checkpoint.position = position;
                checkpoint.last_event_id = Some(event.event_id);
                checkpoint.last_processed_timestamp = Some(event.timestamp);
            }
            debug_assert_eq!(last.global_position, Some(checkpoint.position));
            self.save(&mut checkpoint, &mut report).await?;
            last_timestamp = checkpoint.last_processed_timestamp;
            if !full {
                return Ok(report);
            }
        }
    }

    async fn save(&self, checkpoint: &mut Checkpoint, report: &mut CatchUp) -> Result<(), ApplicationError> {
        if checkpoint.position != report.position {
            checkpoint.updated_at = Utc::now();
            self.checkpoints.save(checkpoint.clone()).await?;
            report.position = checkpoint.position;
        }
        Ok(())
    }

    /// Empties the read model, moves the checkpoint to 0 and replays the whole log.
    pub async fn rebuild(&self) -> Result<CatchUp, ApplicationError> {
        {
            let _gate = self.gate.lock().await;
            self.projection.reset().await?;
            self.checkpoints
                .save(Checkpoint::new(self.projection.name(), 0, None).with_version(self.projection.version()))
                .await?;
        }
        self.catch_up().await
    }

    /// With a lease: takes or renews it as due; the instant until which it is safe to apply
    /// (a third of the TTL before it expires), or `None` when not held.
    async fn keep_lease(&self, lease: &dyn Lease, ttl: Duration, renew_due: &mut Instant) -> Option<Instant> {
        let name = self.name().to_owned();
        let held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let started = Instant::now();
        if started < *renew_due {
            return held.map(|_| *renew_due + ttl / 3);
        }
        let kept = match &held {
            Some(grant) => match lease.renew(&name, grant, ttl).await {
                Ok(true) => Some(grant.clone()),
                Ok(false) | Err(_) => {
                    tracing::warn!(projection = %name, fence = grant.fence, "projection lease lost: stopped applying");
                    None
                }
            },
            None => match lease.acquire(&name, ttl).await {
                Ok(Some(grant)) => {
                    tracing::info!(projection = %name, fence = grant.fence, "projection lease acquired");
                    Some(grant)
                }
                Ok(None) => None,
                Err(error) => {
                    tracing::debug!(projection = %name, %error, "projection lease unavailable");
                    None
                }
            },
        };
        let valid = kept.is_some();
        *self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = kept;
        *renew_due = started + ttl / 3;
        valid.then(|| started + ttl * 2 / 3)
    }

    /// Live mode: catches up, then again whenever `wake` delivers an event (or lags) or
    /// `poll` elapses, until `shutdown` resolves. Errors are logged and retried after `poll`.
    pub async fn run_until(
        &self,
        mut wake: Option<broadcast::Receiver<Arc<hive_domain::EventEnvelope>>>,
        poll: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut renew_due = Instant::now();
        loop {
            let deadline = match &self.lease {
                Some((lease, ttl)) => self.keep_lease(lease.as_ref(), *ttl, &mut renew_due).await.map(Some),
                None => Some(None),
            };
            if let Some(deadline) = deadline {
                if let Err(error) = self.catch_up_until(deadline).await {
                    tracing::error!(projection = self.name(), %error, "catch-up failed; retrying");
                }
            }
            let poll = match &self.lease {
                Some((_, ttl)) => poll.min(*ttl / 3),
                None => poll,
            };
            let woken = async {
                match wake.as_mut() {
                    Some(receiver) => {
                        // Lagged or a new event: either way, catch up from the checkpoint.
                        let _ = receiver.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = &mut shutdown => return self.release_lease().await,
                () = woken => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Gives the lease back, if held (at shutdown: another process takes over at once).
    async fn release_lease(&self) {
        let held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let (Some((lease, _)), Some(grant)) = (&self.lease, held) {
            if let Err(error) = lease.release(self.name(), &grant).await {
                tracing::debug!(projection = self.name(), %error, "projection lease not released");
            }
        }
    }
}
