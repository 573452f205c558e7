//! The state of one consumer group, without I/O: who is connected, what each consumer holds
//! unacknowledged, what waits to be sent, and how far every event has been handled.
//!
//! A stream belongs to one consumer at a time, so its events stay in order: to the consumer
//! that holds some of its events unacknowledged, else to the connected consumer that ranks
//! first for it (rendezvous hashing: a consumer that joins or leaves moves only its share).

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use hive_domain::EventEnvelope;
use tokio::sync::mpsc;

use super::{Delivery, GroupOptions};

/// A connected consumer.
struct Member {
    /// Tells a [`Membership`](super::Membership) apart from a later connection of the same name.
    id: u64,
    name: String,
    sender: mpsc::Sender<Delivery>,
    /// Why the group closed this connection, read by the connection when its channel ends.
    closed_because: Arc<OnceLock<String>>,
    /// How many events it holds unacknowledged.
    held: usize,
    /// Since when it could not take the event the group had for it.
    blocked_since: Option<Instant>,
}

/// An event read from the log (or handed back), not yet sent.
struct Waiting {
    envelope: Arc<EventEnvelope>,
    /// A parked event sent again on request: it leaves the parked list once acknowledged.
    replay: bool,
}

/// An event sent and not yet acknowledged.
struct Sent {
    envelope: Arc<EventEnvelope>,
    consumer: u64,
    replay: bool,
}

/// What acknowledging did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Acked {
    /// How many events it acknowledged.
    pub(crate) events: usize,
    /// The positions of replayed parked events among them.
    pub(crate) replayed: Vec<u64>,
}

/// What refusing an event did.
#[derive(Debug, PartialEq)]
pub(crate) enum Refused {
    /// It will be sent again; it was delivered this many times.
    Retry(u32),
    /// It was delivered this many times: park it.
    Park(Arc<EventEnvelope>, u32, bool),
    /// No consumer of that name holds an event at that position.
    NotHeld,
}

/// One consumer group's state.
pub(crate) struct GroupState {
    options: GroupOptions,
    members: Vec<Member>,
    next_member: u64,
    queue: BTreeMap<u64, Waiting>,
    in_flight: BTreeMap<u64, Sent>,
    /// Per stream: the consumer holding some of its events and how many.
    holders: HashMap<String, (u64, usize)>,
    /// How many times each event not yet handled was delivered.
    deliveries: HashMap<u64, u32>,
    /// The position of the last event read from the log.
    pub(crate) read_to: u64,
}

impl GroupState {
    /// A group reading the log after `start`.
    pub(crate) fn new(options: GroupOptions, start: u64) -> Self {
        Self {
            options,
            members: Vec::new(),
            next_member: 0,
            queue: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            holders: HashMap::new(),
            deliveries: HashMap::new(),
            read_to: start,
        }
    }

    /// Connects consumer `name` (a connection of the same name already there is closed and
    /// its events handed back); answers the member id.
    pub(crate) fn join(
        &mut self,
        name: String,
        sender: mpsc::Sender<Delivery>,
        closed_because: Arc<OnceLock<String>>,
    ) -> u64 {
        if let Some(old) = self.members.iter().find(|m| m.name == name).map(|m| m.id) {
            self.close(old, "replaced by a newer connection of the same consumer");
        }
        self.next_member += 1;
        let id = self.next_member;
        self.members.push(Member {
            id,
            name,
            sender,
            closed_because,
            held: 0,
            blocked_since: None,
        });
        id
    }

    /// Disconnects member `id` (if still there) and hands its events back.
    pub(crate) fn leave(&mut self, id: u64) {
        let Some(index) = self.members.iter().position(|m| m.id == id) else {
            return;
        };
        self.members.remove(index);
        let held: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, s)| s.consumer == id)
            .map(|(p, _)| *p)
            .collect();
        for position in held {
            if let Some(sent) = self.in_flight.remove(&position) {
                self.release(&sent.envelope.aggregate_id);
                self.queue.insert(
                    position,
                    Waiting {
                        envelope: sent.envelope,
                        replay: sent.replay,
                    },
                );
            }
        }
    }

    /// Closes member `id`, telling it why, and hands its events back.
    pub(crate) fn close(&mut self, id: u64, reason: &str) {
        if let Some(member) = self.members.iter().find(|m| m.id == id) {
            let _ = member.closed_because.set(reason.to_owned());
        }
        self.leave(id);
    }

    /// Whether any consumer is connected.
    pub(crate) fn has_members(&self) -> bool {
        !self.members.is_empty()
    }

    /// The connected consumers' names, in the order they joined.
    pub(crate) fn member_names(&self) -> Vec<String> {
        self.members.iter().map(|m| m.name.clone()).collect()
    }

    /// How many events are sent and unacknowledged.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Whether the group should read another page of the log.
    pub(crate) fn wants_more(&self) -> bool {
        self.queue.values().filter(|w| !w.replay).count() < self.options.page_size
    }

    /// Queues the events read from the log up to `read_to` (already filtered).
    pub(crate) fn push_read(&mut self, events: Vec<EventEnvelope>, read_to: u64) {
        for envelope in events {
            if let Some(position) = envelope.global_position {
                self.queue.insert(
                    position,
                    Waiting {
                        envelope: Arc::new(envelope),
                        replay: false,
                    },
                );
            }
        }
        self.read_to = self.read_to.max(read_to);
    }

    /// Queues parked events to be sent again.
    pub(crate) fn push_replay(&mut self, events: Vec<EventEnvelope>) -> usize {
        let mut queued = 0;
        for envelope in events {
            let Some(position) = envelope.global_position else {
                continue;
            };
            if self.queue.contains_key(&position) || self.in_flight.contains_key(&position) {
                continue;
            }
            self.deliveries.remove(&position);
            self.queue.insert(
                position,
                Waiting {
                    envelope: Arc::new(envelope),
                    replay: true,
                },
            );
            queued += 1;
        }
        queued
    }

    /// Puts an event taken out to be parked back in the queue (parking it failed).
    pub(crate) fn requeue(&mut self, envelope: Arc<EventEnvelope>, replay: bool) {
        if let Some(position) = envelope.global_position {
            self.queue.insert(position, Waiting { envelope, replay });
        }
    }

    /// Forgets the events waiting to be sent and reads the log after `start` instead (only
    /// while nobody is connected: nothing is in flight then).
    pub(crate) fn reposition(&mut self, start: u64) {
        self.queue.retain(|_, w| w.replay);
        self.read_to = start;
    }

    /// The last position before which every event was handled (acknowledged, parked or not
    /// for this group): what the stored checkpoint may move to.
    pub(crate) fn checkpoint(&self) -> u64 {
        let waiting = self.queue.iter().filter(|(_, w)| !w.replay).map(|(p, _)| *p).next();
        let sent = self.in_flight.iter().filter(|(_, s)| !s.replay).map(|(p, _)| *p).next();
        match waiting.into_iter().chain(sent).min() {
            Some(first) => first - 1,
            None => self.read_to,
        }
    }

    /// Acknowledges the events at positions up to `up_to` held by `consumer`; when `None`,
    /// every event up to `up_to` is handled: held by anyone, or not sent yet (replayed parked
    /// events excepted), and the group reads on after it.
    pub(crate) fn ack(&mut self, consumer: Option<&str>, up_to: u64) -> Acked {
        if consumer.is_none() {
            let waiting: Vec<u64> = self
                .queue
                .range(..=up_to)
                .filter(|(_, w)| !w.replay)
                .map(|(p, _)| *p)
                .collect();
            for position in waiting {
                self.queue.remove(&position);
                self.deliveries.remove(&position);
            }
            self.read_to = self.read_to.max(up_to);
        }
        let ids = self.member_ids(consumer);
        let positions: Vec<u64> = self
            .in_flight
            .range(..=up_to)
            .filter(|(_, s)| ids.as_ref().is_none_or(|ids| ids.contains(&s.consumer)))
            .map(|(p, _)| *p)
            .collect();
        let mut acked = Acked::default();
        for position in positions {
            if let Some(sent) = self.in_flight.remove(&position) {
                self.release(&sent.envelope.aggregate_id);
                if let Some(member) = self.members.iter_mut().find(|m| m.id == sent.consumer) {
                    member.held -= 1;
                }
                self.deliveries.remove(&position);
                acked.events += 1;
                if sent.replay {
                    acked.replayed.push(position);
                }
            }
        }
        acked
    }

    /// Refuses the event at `position` held by `consumer` (by anyone when `None`): sent again,
    /// or to be parked once delivered `max_deliveries` times.
    pub(crate) fn refuse(&mut self, consumer: Option<&str>, position: u64) -> Refused {
        let ids = self.member_ids(consumer);
        let held = self
            .in_flight
            .get(&position)
            .is_some_and(|s| ids.as_ref().is_none_or(|ids| ids.contains(&s.consumer)));
        let Some(sent) = held.then(|| self.in_flight.remove(&position)).flatten() else {
            return Refused::NotHeld;
        };
        self.release(&sent.envelope.aggregate_id);
        if let Some(member) = self.members.iter_mut().find(|m| m.id == sent.consumer) {
            member.held -= 1;
        }
        let delivered = self.deliveries.get(&position).copied().unwrap_or(1);
        if delivered >= self.options.max_deliveries {
            self.deliveries.remove(&position);
            return Refused::Park(sent.envelope, delivered, sent.replay);
        }
        self.queue.insert(
            position,
            Waiting {
                envelope: sent.envelope,
                replay: sent.replay,
            },
        );
        Refused::Retry(delivered)
    }

    /// Sends what waits to the consumers that can take it, in position order and never past an
    /// event of the same stream that could not be sent; closes consumers blocked longer than
    /// the stall timeout. Answers the events to park: delivered `max_deliveries` times and
    /// handed back unacknowledged (a consumer that crashes on them).
    pub(crate) fn dispatch(&mut self, now: Instant) -> Vec<(Arc<EventEnvelope>, u32, bool)> {
        let mut park = Vec::new();
        if self.members.is_empty() {
            return park;
        }
        let mut blocked_streams: Vec<String> = Vec::new();
        let mut took: Vec<u64> = Vec::new();
        let mut blocked: Vec<u64> = Vec::new();
        let positions: Vec<u64> = self.queue.keys().copied().collect();
        for position in positions {
            let stream = self.queue[&position].envelope.aggregate_id.clone();
            if blocked_streams.contains(&stream) {
                continue;
            }
            let delivered = self.deliveries.get(&position).copied().unwrap_or(0);
            if delivered >= self.options.max_deliveries {
                if let Some(waiting) = self.queue.remove(&position) {
                    park.push((waiting.envelope, delivered, waiting.replay));
                }
                self.deliveries.remove(&position);
                continue;
            }
            let Some(index) = self.owner(&stream) else { break };
            let member = &mut self.members[index];
            let envelope = Arc::clone(&self.queue[&position].envelope);
            let delivery = Delivery {
                envelope,
                delivery: delivered + 1,
            };
            let sent = member.held < self.options.max_in_flight && member.sender.try_send(delivery).is_ok();
            if !sent {
                blocked.push(member.id);
                blocked_streams.push(stream);
                continue;
            }
            member.held += 1;
            took.push(member.id);
            let consumer = member.id;
            let Some(waiting) = self.queue.remove(&position) else {
                continue;
            };
            self.deliveries.insert(position, delivered + 1);
            self.holders.entry(stream).or_insert((consumer, 0)).1 += 1;
            self.in_flight.insert(
                position,
                Sent {
                    envelope: waiting.envelope,
                    consumer,
                    replay: waiting.replay,
                },
            );
        }
        // Stalled: something waits for it and it took nothing for `stall_timeout`.
        for member in &mut self.members {
            member.blocked_since = match (blocked.contains(&member.id), took.contains(&member.id)) {
                (false, _) => None,
                (true, true) => Some(now),
                (true, false) => Some(member.blocked_since.unwrap_or(now)),
            };
        }
        let stalled: Vec<u64> = self
            .members
            .iter()
            .filter(|m| {
                m.blocked_since
                    .is_some_and(|since| now.duration_since(since) >= self.options.stall_timeout)
            })
            .map(|m| m.id)
            .collect();
        for id in stalled {
            self.close(id, "too far behind: reconnect to resume from the group's checkpoint");
        }
        park
    }

    /// When the next blocked consumer would stall (to wake the group then).
    pub(crate) fn next_stall(&self) -> Option<Duration> {
        let now = Instant::now();
        self.members
            .iter()
            .filter_map(|m| m.blocked_since)
            .map(|since| self.options.stall_timeout.saturating_sub(now.duration_since(since)))
            .min()
    }

    fn member_ids(&self, consumer: Option<&str>) -> Option<Vec<u64>> {
        consumer.map(|name| self.members.iter().filter(|m| m.name == name).map(|m| m.id).collect())
    }

    /// The index of the member a stream's next event goes to.
    fn owner(&self, stream: &str) -> Option<usize> {
        if let Some((holder, _)) = self.holders.get(stream) {
            if let Some(index) = self.members.iter().position(|m| m.id == *holder) {
                return Some(index);
            }
        }
        self.members
            .iter()
            .enumerate()
            .max_by_key(|(_, member)| rank(&member.name, stream))
            .map(|(index, _)| index)
    }

    fn release(&mut self, stream: &str) {
        if let Some((_, count)) = self.holders.get_mut(stream) {
            *count -= 1;
            if *count == 0 {
                self.holders.remove(stream);
            }
        }
    }
}

/// The rendezvous rank of `consumer` for `stream` (the highest takes it): the same on every
/// run, so a consumer that reconnects gets the same streams back.
fn rank(consumer: &str, stream: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    consumer.hash(&mut hasher);
    stream.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> GroupOptions {
        GroupOptions {
            max_in_flight: 2,
            max_deliveries: 2,
            stall_timeout: Duration::from_secs(10),
            ..GroupOptions::default()
        }
    }

    fn event(stream: &str, position: u64) -> EventEnvelope {
        let mut envelope = EventEnvelope::new(stream, "Payment", "PaymentCreated", serde_json::json!({}), position);
        envelope.global_position = Some(position);
        envelope
    }

    fn member(
        state: &mut GroupState,
        name: &str,
        capacity: usize,
    ) -> (u64, mpsc::Receiver<Delivery>, Arc<OnceLock<String>>) {
        let (sender, receiver) = mpsc::channel(capacity);
        let closed = Arc::new(OnceLock::new());
        let id = state.join(name.to_owned(), sender, Arc::clone(&closed));
        (id, receiver, closed)
    }

    fn drain(receiver: &mut mpsc::Receiver<Delivery>) -> Vec<u64> {
        let mut positions = Vec::new();
        while let Ok(delivery) = receiver.try_recv() {
            positions.push(delivery.envelope.global_position.unwrap());
        }
        positions
    }

    #[test]
    fn a_stream_stays_with_the_consumer_holding_its_events_and_moves_when_it_leaves() {
        let mut state = GroupState::new(GroupOptions::default(), 0);
        let (a, mut ra, _) = member(&mut state, "a", 100);
        state.push_read((1..=4).map(|p| event("s-1", p)).collect(), 4);
        state.dispatch(Instant::now());
        assert_eq!(drain(&mut ra), [1, 2, 3, 4]);
        let (_, mut rb, _) = member(&mut state, "b", 100);
        state.push_read(vec![event("s-1", 5)], 5);
        state.dispatch(Instant::now());
        assert_eq!(
            drain(&mut ra),
            [5],
            "s-1 has events held by a: its next one goes to a too"
        );
        assert!(drain(&mut rb).is_empty());
        assert_eq!(state.checkpoint(), 0);
        state.leave(a);
        state.dispatch(Instant::now());
        assert_eq!(
            drain(&mut rb),
            [1, 2, 3, 4, 5],
            "a's unacknowledged events go to b, in order"
        );
        assert_eq!(state.ack(Some("b"), 3).events, 3);
        assert_eq!(state.checkpoint(), 3);
        assert_eq!(state.ack(None, 5).events, 2);
        assert_eq!(state.checkpoint(), 5);
    }

    #[test]
    fn streams_are_shared_between_consumers() {
        let mut state = GroupState::new(GroupOptions::default(), 0);
        let (_, mut ra, _) = member(&mut state, "a", 1000);
        let (_, mut rb, _) = member(&mut state, "b", 1000);
        state.push_read((1..=200).map(|p| event(&format!("s-{}", p % 40), p)).collect(), 200);
        state.dispatch(Instant::now());
        let (got_a, got_b) = (drain(&mut ra), drain(&mut rb));
        assert_eq!(got_a.len() + got_b.len(), 200);
        assert!(!got_a.is_empty() && !got_b.is_empty(), "both consumers got a share");
        for p in &got_a {
            assert!(
                !got_b.iter().any(|q| q % 40 == p % 40),
                "a stream went to one consumer only"
            );
        }
    }

    #[test]
    fn a_full_consumer_holds_back_its_streams_only_and_is_closed_once_stalled() {
        let mut state = GroupState::new(options(), 0);
        let (_, mut ra, closed) = member(&mut state, "a", 100);
        state.push_read(vec![event("s-1", 1), event("s-1", 2), event("s-1", 3)], 3);
        let start = Instant::now();
        state.dispatch(start);
        assert_eq!(drain(&mut ra), [1, 2], "max_in_flight = 2");
        assert!(state.dispatch(start + Duration::from_secs(9)).is_empty());
        assert!(closed.get().is_none());
        state.dispatch(start + Duration::from_secs(11));
        assert!(closed.get().unwrap().contains("too far behind"));
        assert!(!state.has_members());
        assert_eq!(state.checkpoint(), 0, "nothing was acknowledged");
    }

    #[test]
    fn an_event_refused_max_deliveries_times_is_parked() {
        let mut state = GroupState::new(options(), 0);
        let (_, mut ra, _) = member(&mut state, "a", 100);
        state.push_read(vec![event("s-1", 1), event("s-2", 2)], 2);
        state.dispatch(Instant::now());
        assert_eq!(drain(&mut ra), [1, 2]);
        assert_eq!(state.refuse(Some("a"), 1), Refused::Retry(1));
        assert_eq!(state.refuse(Some("b"), 2), Refused::NotHeld, "b holds nothing");
        state.dispatch(Instant::now());
        assert_eq!(drain(&mut ra), [1]);
        assert!(matches!(state.refuse(None, 1), Refused::Park(_, 2, false)));
        assert_eq!(state.ack(None, 2).events, 1);
        assert_eq!(
            state.checkpoint(),
            2,
            "a parked event no longer holds the checkpoint back"
        );
    }

    #[test]
    fn an_event_handed_back_max_deliveries_times_is_parked_at_dispatch() {
        let mut state = GroupState::new(options(), 0);
        state.push_read(vec![event("s-1", 1)], 1);
        for _ in 0..2 {
            let (id, mut receiver, _) = member(&mut state, "crashing", 100);
            assert!(state.dispatch(Instant::now()).is_empty());
            assert_eq!(drain(&mut receiver), [1]);
            state.leave(id);
        }
        let (_, mut receiver, _) = member(&mut state, "crashing", 100);
        let parked = state.dispatch(Instant::now());
        assert_eq!(parked.len(), 1);
        assert!(drain(&mut receiver).is_empty());
        assert_eq!(state.checkpoint(), 1);
    }

    #[test]
    fn an_ack_of_nobody_in_particular_handles_everything_up_to_it() {
        let mut state = GroupState::new(GroupOptions::default(), 0);
        state.push_read(vec![event("s-1", 1), event("s-2", 2), event("s-3", 3)], 3);
        assert_eq!(state.checkpoint(), 0);
        assert_eq!(
            state.ack(Some("a"), 2).events,
            0,
            "a named consumer acknowledges its own only"
        );
        assert_eq!(state.checkpoint(), 0);
        state.ack(None, 2);
        assert_eq!(state.checkpoint(), 2, "waiting events up to 2 are handled");
        state.ack(None, 10);
        assert_eq!((state.checkpoint(), state.read_to), (10, 10), "reads on after 10");
    }

    #[test]
    fn replayed_events_do_not_move_the_checkpoint_back() {
        let mut state = GroupState::new(options(), 10);
        let (_, mut ra, _) = member(&mut state, "a", 100);
        assert_eq!(state.push_replay(vec![event("s-1", 3)]), 1);
        assert_eq!(state.checkpoint(), 10);
        state.dispatch(Instant::now());
        assert_eq!(drain(&mut ra), [3]);
        let acked = state.ack(None, 3);
        assert_eq!(acked.replayed, [3]);
        assert_eq!(state.checkpoint(), 10);
    }

    #[test]
    fn a_consumer_of_the_same_name_replaces_the_old_connection() {
        let mut state = GroupState::new(GroupOptions::default(), 0);
        let (_, mut first, closed) = member(&mut state, "a", 100);
        state.push_read(vec![event("s-1", 1)], 1);
        state.dispatch(Instant::now());
        assert_eq!(drain(&mut first), [1]);
        let (_, mut second, _) = member(&mut state, "a", 100);
        assert!(closed.get().unwrap().contains("replaced"));
        state.dispatch(Instant::now());
        assert_eq!(drain(&mut second), [1]);
        assert_eq!(state.member_names(), ["a"]);
    }
}
