//! Consumer groups over the global log: other services follow the events, several consumers
//! of one group share the work, and the group's checkpoint moves as they acknowledge.
//!
//! - **Partitioned by stream**: each stream's events go to one consumer at a time, in order;
//!   a consumer that joins takes a share of the streams, one that leaves (or is closed) hands
//!   its unacknowledged events to the others.
//! - **At-least-once**: an event is handled once acknowledged; the checkpoint (kept through the
//!   [`CheckpointStore`] port) is the position before which every event of the group was
//!   handled, so a restart sends again only what was not.
//! - **Parking**: an event refused (or handed back unacknowledged) `max_deliveries` times is
//!   parked as a dead letter of the group; parked events are listed, replayed or skipped.
//! - **Bounded**: a consumer holds at most `max_in_flight` unacknowledged events; one that
//!   cannot take more for `stall_timeout` is closed (told to reconnect), its events go to the
//!   others. The group reads the log a page at a time, only when it has room.
//!
//! Groups live in the process that serves them: consumers of one group connect to one service
//! instance.

mod actor;
mod group;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hive_domain::{CheckpointStore, DeadLetter, EventEnvelope, EventStore, EventStoreError};
use tokio::sync::{broadcast, mpsc, oneshot};

use actor::{Actor, Command};

/// Makes a receiver of the events committed from now on, to wake groups that are caught up.
pub type WakeSource = Arc<dyn Fn() -> broadcast::Receiver<Arc<EventEnvelope>> + Send + Sync>;

/// How consumer groups behave.
#[derive(Debug, Clone)]
pub struct GroupOptions {
    /// How many events a group reads from the log at a time (and at most keeps waiting).
    pub page_size: usize,
    /// How many unacknowledged events one consumer may hold.
    pub max_in_flight: usize,
    /// After this many deliveries without an acknowledgement an event is parked.
    pub max_deliveries: u32,
    /// A consumer that cannot take the events waiting for it this long is closed.
    pub stall_timeout: Duration,
    /// How long a group keeps its state (deliveries counted, events handed back) once its
    /// last consumer left, for that consumer to reconnect.
    pub linger: Duration,
    /// How often a caught-up group reads the log without a wake-up.
    pub poll: Duration,
}

impl Default for GroupOptions {
    fn default() -> Self {
        Self {
            page_size: 100,
            max_in_flight: 1_000,
            max_deliveries: 5,
            stall_timeout: Duration::from_secs(30),
            linger: Duration::from_secs(300),
            poll: Duration::from_secs(1),
        }
    }
}

/// An event sent to a consumer.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The event.
    pub envelope: Arc<EventEnvelope>,
    /// How many times it was delivered to the group, this time included (1: the first).
    pub delivery: u32,
}

/// Which events of the log a group follows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupFilter {
    /// Only this organization's events (`None`: every organization's).
    pub organization: Option<String>,
    /// Only these event types (empty: every type).
    pub event_types: Vec<String>,
    /// Only this aggregate type.
    pub aggregate_type: Option<String>,
}

impl GroupFilter {
    /// Whether the group follows `event`.
    pub fn admits(&self, event: &EventEnvelope) -> bool {
        let organization = match &self.organization {
            Some(organization) => event.metadata.organization_id.as_deref() == Some(organization.as_str()),
            None => true,
        };
        organization
            && (self.event_types.is_empty() || self.event_types.contains(&event.event_type))
            && self.aggregate_type.as_ref().is_none_or(|t| *t == event.aggregate_type)
    }
}

/// A consumer asking to join a group.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    /// The group's checkpoint name.
    pub group: String,
    /// The consumer's name: a new connection of the same name replaces the old one.
    pub consumer: String,
    /// The events the group follows; every consumer connected at once gives the same.
    pub filter: GroupFilter,
    /// Where a group nobody is connected to starts reading (after this position), instead of
    /// its checkpoint.
    pub start: Option<u64>,
}

/// What went wrong with a group.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] EventStoreError),
    /// A consumer joined with another filter than the connected ones'.
    #[error("the group's connected consumers follow other events (another eventType or aggregateType filter)")]
    FilterMismatch,
    /// A position past the log's head.
    #[error("position {position} is past the log's head, {head}")]
    BeyondHead {
        /// The position given.
        position: u64,
        /// The log's head.
        head: u64,
    },
    /// No connected consumer (of that name) holds an event at that position.
    #[error("no consumer of the group holds the event at position {0} unacknowledged")]
    NotHeld(u64),
    /// The service is shutting down ([`ConsumerGroups::close`]).
    #[error("the consumer groups are closed: the service is shutting down")]
    Closed,
}

/// What refusing an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// How many times the event was delivered.
    pub deliveries: u32,
    /// Whether it was parked (else it will be delivered again).
    pub parked: bool,
}

/// A group as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupStatus {
    /// The stored checkpoint (0: none).
    pub checkpoint: u64,
    /// The connected consumers, in the order they joined.
    pub consumers: Vec<String>,
    /// Events sent and not yet acknowledged.
    pub in_flight: usize,
    /// Parked events.
    pub parked: usize,
}

/// A consumer's connection to its group: the events sent to it. Dropping it leaves the group
/// (its unacknowledged events go to the other consumers).
#[derive(Debug)]
pub struct Membership {
    consumer: String,
    receiver: mpsc::Receiver<Delivery>,
    closed_because: Arc<OnceLock<String>>,
    leave: mpsc::UnboundedSender<Command>,
    id: u64,
}

impl Membership {
    /// The consumer's name.
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// The next event for this consumer; `None` once the group closed the connection (see
    /// [`closed_because`](Self::closed_because)).
    pub async fn next(&mut self) -> Option<Delivery> {
        self.receiver.recv().await
    }

    /// Why the group closed this connection (too far behind, replaced), once it did.
    pub fn closed_because(&self) -> Option<&str> {
        self.closed_because.get().map(String::as_str)
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        let _ = self.leave.send(Command::Leave { member: self.id });
    }
}

/// The map of running groups (a panic while it was held leaves it usable: every change to it
/// is a single insert or remove).
fn lock(running: &Mutex<HashMap<String, Handle>>) -> std::sync::MutexGuard<'_, HashMap<String, Handle>> {
    running.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running group: how to reach its task, and the task.
struct Handle {
    id: u64,
    commands: mpsc::UnboundedSender<Command>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// The consumer groups of a service, each run by a task of its own while consumers are
/// connected (and for [`GroupOptions::linger`] after). Cheap to clone.
#[derive(Clone)]
pub struct ConsumerGroups {
    inner: Arc<Inner>,
}

struct Inner {
    events: Arc<dyn EventStore>,
    checkpoints: Arc<dyn CheckpointStore>,
    wake: Option<WakeSource>,
    options: GroupOptions,
    running: Mutex<HashMap<String, Handle>>,
    next_id: std::sync::atomic::AtomicU64,
    closed: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for ConsumerGroups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerGroups")
            .field("options", &self.inner.options)
            .field("wake", &self.inner.wake.is_some())
            .finish_non_exhaustive()
    }
}

impl ConsumerGroups {
    /// Groups over `events`, their checkpoints and parked events in `checkpoints`, woken by
    /// `wake` when caught up (else polling every [`GroupOptions::poll`]).
    pub fn new(
        events: Arc<dyn EventStore>,
        checkpoints: Arc<dyn CheckpointStore>,
        wake: Option<WakeSource>,
        options: GroupOptions,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                events,
                checkpoints,
                wake,
                options,
                running: Mutex::new(HashMap::new()),
                next_id: std::sync::atomic::AtomicU64::new(0),
                closed: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// The options the groups run with.
    pub fn options(&self) -> &GroupOptions {
        &self.inner.options
    }

    /// The global log the groups read.
    pub fn events(&self) -> &Arc<dyn EventStore> {
        &self.inner.events
    }

    /// Where the groups' checkpoints and parked events are kept.
    pub fn checkpoints(&self) -> &Arc<dyn CheckpointStore> {
        &self.inner.checkpoints
    }

    /// A receiver of the events committed from now on, if the groups are woken at all.
    pub fn wake(&self) -> Option<broadcast::Receiver<Arc<EventEnvelope>>> {
        self.inner.wake.as_ref().map(|wake| wake())
    }

    /// Connects a consumer to its group (starting the group if nobody is connected).
    pub async fn join(&self, request: JoinRequest) -> Result<Membership, GroupError> {
        let capacity = self
            .inner
            .options
            .max_in_flight
            .min(self.inner.options.page_size)
            .max(1);
        let mut connection = None;
        let (joined, commands) = self
            .ask_running(&request.group, &request.filter, |reply| {
                let (sender, receiver) = mpsc::channel(capacity);
                let closed_because = Arc::new(OnceLock::new());
                connection = Some((receiver, Arc::clone(&closed_because)));
                Command::Join {
                    consumer: request.consumer.clone(),
                    filter: request.filter.clone(),
                    start: request.start,
                    sender,
                    closed_because,
                    reply,
                }
            })
            .await?;
        let id = joined?;
        // Made with the command that was answered: always there.
        let Some((receiver, closed_because)) = connection else {
            return Err(GroupError::Store(EventStoreError::Backend(
                "joined without a connection".into(),
            )));
        };
        Ok(Membership {
            consumer: request.consumer,
            receiver,
            closed_because,
            leave: commands,
            id,
        })
    }

    /// Acknowledges the events up to `position` held by `consumer` (by any consumer when
    /// `None`); with nobody connected, moves the stored checkpoint forward to `position`.
    /// Answers the stored checkpoint (never moved back).
    pub async fn ack(&self, group: &str, consumer: Option<&str>, position: u64) -> Result<u64, GroupError> {
        let head = self.inner.events.head_position().await?;
        if position > head {
            return Err(GroupError::BeyondHead { position, head });
        }
        if let Some(answer) = self
            .ask(group, |reply| Command::Ack {
                consumer: consumer.map(str::to_owned),
                position,
                reply,
            })
            .await
        {
            return answer;
        }
        let stored = self.stored(group).await?;
        if position <= stored {
            return Ok(stored);
        }
        self.inner
            .checkpoints
            .save(hive_domain::Checkpoint::new(group, position, None))
            .await?;
        Ok(position)
    }

    /// Refuses the event at `position` held by `consumer` (by any consumer when `None`): it is
    /// delivered again, or parked once delivered [`GroupOptions::max_deliveries`] times.
    pub async fn nack(
        &self,
        group: &str,
        consumer: Option<&str>,
        position: u64,
        reason: &str,
    ) -> Result<Refusal, GroupError> {
        self.ask(group, |reply| Command::Nack {
            consumer: consumer.map(str::to_owned),
            position,
            reason: reason.to_owned(),
            reply,
        })
        .await
        .unwrap_or(Err(GroupError::NotHeld(position)))
    }

    /// The group's parked events, oldest first.
    pub async fn parked(&self, group: &str) -> Result<Vec<DeadLetter>, GroupError> {
        Ok(self.inner.checkpoints.dead_letters(group).await?)
    }

    /// Sends the parked events at `positions` (all when empty) to the group again, before
    /// anything else; each leaves the parked list once acknowledged. Answers how many were
    /// queued.
    pub async fn replay(&self, group: &str, filter: &GroupFilter, positions: &[u64]) -> Result<usize, GroupError> {
        let mut events = Vec::new();
        for parked in self.parked(group).await? {
            if !positions.is_empty() && !positions.contains(&parked.position) {
                continue;
            }
            let page = self.inner.events.read_all(parked.position.saturating_sub(1), 1).await?;
            if let Some(event) = page.into_iter().find(|e| e.global_position == Some(parked.position)) {
                events.push(event);
            }
        }
        if events.is_empty() {
            return Ok(0);
        }
        let (queued, _) = self
            .ask_running(group, filter, |reply| Command::Replay {
                events: events.clone(),
                reply,
            })
            .await?;
        Ok(queued)
    }

    /// Removes the parked events at `positions` (all when empty) without sending them;
    /// answers how many were removed.
    pub async fn skip(&self, group: &str, positions: &[u64]) -> Result<u64, GroupError> {
        Ok(self.inner.checkpoints.remove_dead_letters(group, positions).await?)
    }

    /// The group's checkpoint, connected consumers and parked events.
    pub async fn status(&self, group: &str) -> Result<GroupStatus, GroupError> {
        let parked = self.inner.checkpoints.dead_letters(group).await?.len();
        let running = self.ask(group, |reply| Command::Status { reply }).await;
        let (consumers, in_flight) = running.unwrap_or_default();
        Ok(GroupStatus {
            checkpoint: self.stored(group).await?,
            consumers,
            in_flight,
            parked,
        })
    }

    async fn stored(&self, group: &str) -> Result<u64, GroupError> {
        Ok(self.inner.checkpoints.load(group).await?.map_or(0, |c| c.position))
    }

    /// Sends a command to the group's task if it runs; `None` when it does not.
    async fn ask<T>(&self, group: &str, command: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let commands = {
            let running = lock(&self.inner.running);
            running.get(group).map(|h| h.commands.clone())?
        };
        let (reply, answer) = oneshot::channel();
        commands.send(command(reply)).ok()?;
        answer.await.ok()
    }

    /// Stops every group (each saves its checkpoint; its consumers' feeds end) and waits for
    /// them; from then on no group starts. For a graceful shutdown, before the stores close.
    pub async fn close(&self) {
        self.inner.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        let tasks: Vec<_> = {
            let mut running = lock(&self.inner.running);
            running
                .drain()
                .filter_map(|(_, mut handle)| {
                    let _ = handle.commands.send(Command::Stop);
                    handle.task.take()
                })
                .collect()
        };
        for task in tasks {
            let _ = task.await;
        }
    }

    /// Sends `command(reply)` to the group's task, started if it does not run, and answers the
    /// reply and the channel it went through. A task that stops meanwhile (its linger over) is
    /// forgotten and a new one asked, at most three times.
    async fn ask_running<T>(
        &self,
        group: &str,
        filter: &GroupFilter,
        mut command: impl FnMut(oneshot::Sender<T>) -> Command,
    ) -> Result<(T, mpsc::UnboundedSender<Command>), GroupError> {
        for _ in 0..3 {
            let commands = self.running(group, filter).await?;
            let (reply, answer) = oneshot::channel();
            if commands.send(command(reply)).is_ok() {
                if let Ok(answered) = answer.await {
                    return Ok((answered, commands));
                }
            }
            self.forget(group, &commands);
        }
        Err(GroupError::Store(EventStoreError::Backend(format!(
            "the consumer group `{group}` kept stopping while it was asked"
        ))))
    }

    /// The group's task, started if it does not run.
    async fn running(&self, group: &str, filter: &GroupFilter) -> Result<mpsc::UnboundedSender<Command>, GroupError> {
        if self.inner.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(GroupError::Closed);
        }
        if let Some(handle) = lock(&self.inner.running).get(group) {
            return Ok(handle.commands.clone());
        }
        let stored = self.stored(group).await?;
        let mut running = lock(&self.inner.running);
        if let Some(handle) = running.get(group) {
            return Ok(handle.commands.clone());
        }
        let id = { self.inner.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1 };
        let (commands, receiver) = mpsc::unbounded_channel();
        let actor = Actor::new(
            group.to_owned(),
            filter.clone(),
            stored,
            Arc::clone(&self.inner.events),
            Arc::clone(&self.inner.checkpoints),
            self.inner.wake.as_ref().map(|wake| wake()),
            self.inner.options.clone(),
        );
        let groups = self.clone();
        let name = group.to_owned();
        let task = tokio::spawn(async move {
            actor.run(receiver).await;
            groups.remove_if(&name, id);
        });
        running.insert(
            group.to_owned(),
            Handle {
                id,
                commands: commands.clone(),
                task: Some(task),
            },
        );
        Ok(commands)
    }

    /// Forgets a group task that stopped (its channel is closed).
    fn forget(&self, group: &str, commands: &mpsc::UnboundedSender<Command>) {
        let mut running = lock(&self.inner.running);
        if running.get(group).is_some_and(|h| h.commands.same_channel(commands)) {
            running.remove(group);
        }
    }

    fn remove_if(&self, group: &str, id: u64) {
        let mut running = lock(&self.inner.running);
        if running.get(group).is_some_and(|h| h.id == id) {
            running.remove(group);
        }
    }
}
