//! The task that runs one consumer group: reads the log when the group has room, sends,
//! parks, saves the checkpoint, and answers the group's commands in turn.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use hive_domain::{Checkpoint, CheckpointStore, DeadLetter, EventEnvelope, EventStore};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::group::{GroupState, Refused};
use super::{Delivery, GroupError, GroupFilter, GroupOptions, Refusal};

/// What a group's task is asked to do.
#[derive(Debug)]
pub(super) enum Command {
    /// A consumer connects; answers its member id.
    Join {
        consumer: String,
        filter: GroupFilter,
        start: Option<u64>,
        sender: mpsc::Sender<Delivery>,
        closed_because: Arc<OnceLock<String>>,
        reply: oneshot::Sender<Result<u64, GroupError>>,
    },
    /// A consumer's connection ended.
    Leave { member: u64 },
    /// Acknowledge up to a position; answers the stored checkpoint.
    Ack {
        consumer: Option<String>,
        position: u64,
        reply: oneshot::Sender<Result<u64, GroupError>>,
    },
    /// Refuse one event.
    Nack {
        consumer: Option<String>,
        position: u64,
        reason: String,
        reply: oneshot::Sender<Result<Refusal, GroupError>>,
    },
    /// Send parked events again; answers how many were queued.
    Replay {
        events: Vec<EventEnvelope>,
        reply: oneshot::Sender<usize>,
    },
    /// The connected consumers and the events they hold.
    Status {
        reply: oneshot::Sender<(Vec<String>, usize)>,
    },
    /// Save the checkpoint and end (the service is shutting down).
    Stop,
}

/// A reply owed once the checkpoint is saved: acknowledgements and refusals that parked are
/// answered after the save that follows them, one save for all that came in meanwhile.
enum Owed {
    Ack(oneshot::Sender<Result<u64, GroupError>>),
    Nack(oneshot::Sender<Result<Refusal, GroupError>>, Refusal),
}

/// One group's task.
pub(super) struct Actor {
    name: String,
    filter: GroupFilter,
    state: GroupState,
    /// The checkpoint as stored.
    saved: u64,
    events: Arc<dyn EventStore>,
    checkpoints: Arc<dyn CheckpointStore>,
    wake: Option<broadcast::Receiver<Arc<EventEnvelope>>>,
    options: GroupOptions,
    /// The last read found nothing new: wait for a wake-up or the poll interval.
    caught_up: bool,
    /// Replies waiting for the next save.
    owed: Vec<Owed>,
}

impl Actor {
    pub(super) fn new(
        name: String,
        filter: GroupFilter,
        stored: u64,
        events: Arc<dyn EventStore>,
        checkpoints: Arc<dyn CheckpointStore>,
        wake: Option<broadcast::Receiver<Arc<EventEnvelope>>>,
        options: GroupOptions,
    ) -> Self {
        Self {
            name,
            filter,
            state: GroupState::new(options.clone(), stored),
            saved: stored,
            events,
            checkpoints,
            wake,
            options,
            caught_up: false,
            owed: Vec::new(),
        }
    }

    /// Runs until nobody was connected for [`GroupOptions::linger`].
    pub(super) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut idle_since: Option<Instant> = None;
        let mut stop = false;
        loop {
            // Acknowledgements are answered before the next page is read.
            self.dispatch().await;
            self.save_and_answer().await;
            if self.state.has_members() && !self.caught_up && self.state.wants_more() {
                self.read().await;
                self.dispatch().await;
            }
            let now = Instant::now();
            let idle = if self.state.has_members() {
                idle_since = None;
                None
            } else {
                let since = *idle_since.get_or_insert(now);
                let left = self.options.linger.saturating_sub(now.duration_since(since));
                if left.is_zero() {
                    break;
                }
                Some(left)
            };
            let busy = self.state.has_members() && !self.caught_up && self.state.wants_more();
            let wait = if busy {
                Duration::ZERO
            } else {
                [Some(self.options.poll), self.state.next_stall(), idle]
                    .into_iter()
                    .flatten()
                    .min()
                    .unwrap_or(self.options.poll)
            };
            let Actor { wake, .. } = &mut self;
            let woken = async {
                match wake {
                    Some(receiver) => {
                        if let Err(broadcast::error::RecvError::Closed) = receiver.recv().await {
                            *wake = None;
                            std::future::pending::<()>().await;
                        }
                    }
                    None => std::future::pending().await,
                }
            };
            let command = tokio::select! {
                biased;
                command = commands.recv() => command,
                () = woken => {
                    self.caught_up = false;
                    continue;
                }
                () = tokio::time::sleep(wait) => {
                    self.caught_up = false;
                    continue;
                }
            };
            // This command and every one already waiting, then one save for all of them.
            let mut next = command;
            loop {
                match next {
                    Some(Command::Stop) | None => {
                        stop = true;
                        break;
                    }
                    Some(command) => self.handle(command).await,
                }
                match commands.try_recv() {
                    Ok(command) => next = Some(command),
                    Err(_) => break,
                }
            }
            if stop {
                break;
            }
        }
        commands.close();
        while commands.try_recv().is_ok() {}
        self.save_and_answer().await;
    }

    /// Saves the checkpoint if it moved, then answers the replies owed.
    async fn save_and_answer(&mut self) {
        let saved = self.save().await;
        if let Err(error) = &saved {
            tracing::warn!(%error, group = %self.name, "consumer group: saving the checkpoint failed");
        }
        for owed in self.owed.drain(..) {
            match owed {
                Owed::Ack(reply) => {
                    let _ = reply.send(saved.clone().map(|()| self.saved).map_err(GroupError::from));
                }
                Owed::Nack(reply, refusal) => {
                    let _ = reply.send(saved.clone().map(|()| refusal).map_err(GroupError::from));
                }
            }
        }
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Join {
                consumer,
                filter,
                start,
                sender,
                closed_because,
                reply,
            } => {
                if self.state.has_members() {
                    if filter != self.filter {
                        let _ = reply.send(Err(GroupError::FilterMismatch));
                        return;
                    }
                } else if filter != self.filter || start.is_some() {
                    self.filter = filter;
                    self.state.reposition(start.unwrap_or(self.saved));
                }
                self.caught_up = false;
                let id = self.state.join(consumer, sender, closed_because);
                let _ = reply.send(Ok(id));
            }
            Command::Leave { member } => self.state.leave(member),
            Command::Ack {
                consumer,
                position,
                reply,
            } => {
                let acked = self.state.ack(consumer.as_deref(), position);
                if !acked.replayed.is_empty() {
                    if let Err(error) = self.checkpoints.remove_dead_letters(&self.name, &acked.replayed).await {
                        let _ = reply.send(Err(error.into()));
                        return;
                    }
                }
                self.owed.push(Owed::Ack(reply));
            }
            Command::Nack {
                consumer,
                position,
                reason,
                reply,
            } => match self.state.refuse(consumer.as_deref(), position) {
                Refused::NotHeld => {
                    let _ = reply.send(Err(GroupError::NotHeld(position)));
                }
                Refused::Retry(deliveries) => {
                    let _ = reply.send(Ok(Refusal {
                        deliveries,
                        parked: false,
                    }));
                }
                Refused::Park(envelope, deliveries, replay) => {
                    let why = format!("refused {deliveries} times: {reason}");
                    match self.park(&envelope, &why, replay).await {
                        Ok(()) => self.owed.push(Owed::Nack(
                            reply,
                            Refusal {
                                deliveries,
                                parked: true,
                            },
                        )),
                        Err(error) => {
                            self.state.requeue(envelope, replay);
                            let _ = reply.send(Err(error.into()));
                        }
                    }
                }
            },
            Command::Replay { events, reply } => {
                let _ = reply.send(self.state.push_replay(events));
            }
            Command::Status { reply } => {
                let _ = reply.send((self.state.member_names(), self.state.in_flight()));
            }
            // `run` ends on it before handing it here.
            Command::Stop => {}
        }
    }

    /// Reads the next page of the log into the group's queue.
    async fn read(&mut self) {
        let after = self.state.read_to;
        match self.events.read_all(after, self.options.page_size).await {
            Ok(page) => {
                self.caught_up = page.len() < self.options.page_size;
                let last = page.iter().filter_map(|e| e.global_position).max().unwrap_or(after);
                let admitted = page
                    .into_iter()
                    .filter(|e| e.global_position.is_some_and(|p| p > after))
                    .filter(|e| self.filter.admits(e))
                    .collect();
                self.state.push_read(admitted, last);
            }
            Err(error) => {
                tracing::warn!(%error, group = %self.name, after, "consumer group: reading the log failed; retrying");
                self.caught_up = true;
            }
        }
    }

    /// Sends what it can; parks what was delivered too often.
    async fn dispatch(&mut self) {
        for (envelope, deliveries, replay) in self.state.dispatch(Instant::now()) {
            let why = format!("delivered {deliveries} times without an acknowledgement");
            if let Err(error) = self.park(&envelope, &why, replay).await {
                tracing::warn!(%error, group = %self.name, "consumer group: parking an event failed; sending it again");
                self.state.requeue(envelope, replay);
            }
        }
    }

    /// Records `envelope` as parked (a replayed event still is: nothing to record).
    async fn park(&self, envelope: &EventEnvelope, why: &str, replay: bool) -> hive_domain::StoreResult<()> {
        if replay {
            return Ok(());
        }
        tracing::info!(group = %self.name, position = ?envelope.global_position, event_id = %envelope.event_id, why, "consumer group: event parked");
        self.checkpoints
            .record_dead_letter(DeadLetter {
                projection: self.name.clone(),
                position: envelope.global_position.unwrap_or_default(),
                event_id: envelope.event_id,
                event_type: envelope.event_type.clone(),
                error: why.to_owned(),
                recorded_at: Utc::now(),
            })
            .await
    }

    /// Stores the checkpoint if it moved forward.
    async fn save(&mut self) -> hive_domain::StoreResult<()> {
        let checkpoint = self.state.checkpoint();
        if checkpoint <= self.saved {
            return Ok(());
        }
        self.checkpoints
            .save(Checkpoint::new(self.name.clone(), checkpoint, None))
            .await?;
        self.saved = checkpoint;
        Ok(())
    }
}
