//! The command ids idempotency remembers, each with the slot its outcome goes into.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::bus::Outcome;

/// A command id is only the same command for the same message type.
#[derive(Debug, Clone, Copy, Eq)]
pub(super) struct Key {
    pub(super) id: Uuid,
    pub(super) message_type: &'static str,
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.message_type == other.message_type
    }
}

impl Hash for Key {
    // The id alone: it is random enough, and the type name is long to hash.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u128(self.id.as_u128());
    }
}

/// Where the outcome of one command id goes, and who waits for it.
#[derive(Debug)]
pub(super) struct Slot {
    state: Mutex<SlotState>,
}

#[derive(Debug)]
enum SlotState {
    /// One send runs the command; these wait for it.
    Running(Vec<Waker>),
    /// The outcome, for every later send.
    Done(Outcome),
    /// The send running it was dropped before answering: the next one to look runs it.
    Abandoned,
}

/// What a send learns from a slot.
pub(super) enum Look {
    /// The outcome of the first send.
    Done(Outcome),
    /// The first send gave up: this one now runs the command (the slot is running again).
    Run,
}

impl Slot {
    fn running() -> Self {
        Self {
            state: Mutex::new(SlotState::Running(Vec::new())),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The outcome when there is one; else waits (woken by [`finish`](Self::finish) or
    /// [`abandon`](Self::abandon)).
    pub(super) fn poll_look(&self, cx: &mut Context<'_>) -> Poll<Look> {
        let mut state = self.state();
        match &mut *state {
            SlotState::Done(outcome) => Poll::Ready(Look::Done(outcome.clone())),
            SlotState::Running(wakers) => {
                if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                    wakers.push(cx.waker().clone());
                }
                Poll::Pending
            }
            SlotState::Abandoned => {
                *state = SlotState::Running(Vec::new());
                Poll::Ready(Look::Run)
            }
        }
    }

    /// Stores the outcome and wakes the waiting sends.
    pub(super) fn finish(&self, outcome: Outcome) {
        self.settle(SlotState::Done(outcome));
    }

    /// Lets a waiting send run the command instead.
    pub(super) fn abandon(&self) {
        self.settle(SlotState::Abandoned);
    }

    fn settle(&self, settled: SlotState) {
        let previous = std::mem::replace(&mut *self.state(), settled);
        if let SlotState::Running(wakers) = previous {
            wakers.into_iter().for_each(Waker::wake);
        }
    }
}

/// Ids per shard below which the map is not sharded (so that small capacities stay exact).
const MIN_SHARD_CAPACITY: usize = 4096;
/// Most shards a map is split into.
const MAX_SHARDS: usize = 16;

/// The remembered command ids, bounded by count and age; cheap to clone (shared).
///
/// Ids are kept in two generations (per shard, for large capacities): new ids go into the
/// current one; when it holds `capacity` ids it becomes the previous one and the older
/// previous one is dropped whole. So an id is remembered at least until `capacity` newer ids
/// have been sent (per shard: in proportion) and never longer than `ttl`; at most
/// `2 × capacity` ids are held.
#[derive(Clone)]
pub(super) struct CommandIds {
    shards: Arc<[Mutex<Generations>]>,
    hasher: foldhash::fast::FixedState,
    capacity: usize,
    ttl: Duration,
}

impl std::fmt::Debug for CommandIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandIds")
            .field("capacity", &self.capacity)
            .field("shards", &self.shards.len())
            .field("ttl", &self.ttl)
            .finish()
    }
}

type Map = HashMap<Key, (Instant, Arc<Slot>), foldhash::fast::FixedState>;

#[derive(Default)]
struct Generations {
    current: Map,
    previous: Map,
}

/// What a shard knows of a key.
enum Found<'a> {
    /// Remembered and younger than the TTL.
    Live(&'a Arc<Slot>),
    /// Remembered in the previous generation, but older than the TTL.
    ExpiredInPrevious,
    /// Not remembered (or expired in the current generation, which the insert overwrites).
    Absent,
}

impl Generations {
    /// Looks `key` up: the current generation first, the previous one only when needed.
    fn find(&self, key: &Key, now: Instant, ttl: Duration) -> Found<'_> {
        let live = |at: &Instant| now.duration_since(*at) < ttl;
        if let Some((at, slot)) = self.current.get(key) {
            return if live(at) { Found::Live(slot) } else { Found::Absent };
        }
        match self.previous.get(key) {
            Some((at, slot)) if live(at) => Found::Live(slot),
            Some(_) => Found::ExpiredInPrevious,
            None => Found::Absent,
        }
    }
}

impl CommandIds {
    /// Remembers at least the last `capacity` command ids, each for at most `ttl`.
    pub(super) fn new(capacity: usize, ttl: Duration) -> Self {
        let capacity = capacity.max(1);
        let shards = (capacity / MIN_SHARD_CAPACITY).clamp(1, MAX_SHARDS);
        Self {
            shards: (0..shards).map(|_| Mutex::default()).collect(),
            hasher: foldhash::fast::FixedState::default(),
            capacity: capacity.div_ceil(shards),
            ttl,
        }
    }

    fn shard(&self, key: &Key) -> &Mutex<Generations> {
        let index = (self.hasher.hash_one(key.id.as_u128()) as usize) % self.shards.len();
        &self.shards[index]
    }

    /// The slot of `key`, and whether it is new: a new one is running, and the caller runs
    /// the command.
    pub(super) fn slot(&self, key: Key) -> (Arc<Slot>, bool) {
        let now = Instant::now();
        loop {
            let mut shard = self.shard(&key).lock().unwrap_or_else(PoisonError::into_inner);
            let expired_in_previous = match shard.find(&key, now, self.ttl) {
                Found::Live(slot) => return (Arc::clone(slot), false),
                Found::ExpiredInPrevious => true,
                Found::Absent => false,
            };
            if shard.current.len() >= self.capacity {
                let full = std::mem::replace(
                    &mut shard.current,
                    Map::with_capacity_and_hasher(self.capacity, self.hasher.clone()),
                );
                let dropped = std::mem::replace(&mut shard.previous, full);
                drop(shard);
                drop(dropped); // freed outside the lock
                continue; // look again: another sender may have remembered the key meanwhile
            }
            let slot = Arc::new(Slot::running());
            if expired_in_previous {
                shard.previous.remove(&key);
            }
            shard.current.insert(key, (now, Arc::clone(&slot)));
            return (slot, true);
        }
    }

    /// Forgets `key` if `slot` is still its slot.
    pub(super) fn forget(&self, key: Key, slot: &Arc<Slot>) {
        let mut guard = self.shard(&key).lock().unwrap_or_else(PoisonError::into_inner);
        let shard = &mut *guard;
        for map in [&mut shard.current, &mut shard.previous] {
            if map.get(&key).is_some_and(|(_, s)| Arc::ptr_eq(s, slot)) {
                map.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u128) -> Key {
        Key {
            id: Uuid::from_u128(n),
            message_type: "T",
        }
    }

    #[test]
    fn an_id_is_remembered_until_capacity_newer_ids_then_forgotten() {
        let idempotency = CommandIds::new(3, Duration::from_secs(60));
        let first = idempotency.slot(key(0)).0;
        for n in 1..=3 {
            idempotency.slot(key(n));
        }
        assert!(
            Arc::ptr_eq(&first, &idempotency.slot(key(0)).0),
            "3 newer ids: still remembered"
        );
        for n in 4..=6 {
            idempotency.slot(key(n));
        }
        assert!(
            !Arc::ptr_eq(&first, &idempotency.slot(key(0)).0),
            "6 newer ids: forgotten"
        );
        let held: usize = idempotency
            .shards
            .iter()
            .map(|s| {
                let s = s.lock().unwrap();
                s.current.len() + s.previous.len()
            })
            .sum();
        assert!(held <= 6, "at most twice the capacity is held ({held})");
    }

    #[test]
    fn an_id_older_than_the_ttl_is_forgotten() {
        let idempotency = CommandIds::new(10, Duration::ZERO);
        let first = idempotency.slot(key(1)).0;
        assert!(!Arc::ptr_eq(&first, &idempotency.slot(key(1)).0));
    }

    #[test]
    fn one_id_of_two_message_types_is_two_keys() {
        let idempotency = CommandIds::new(10, Duration::from_secs(60));
        let a = idempotency.slot(key(1)).0;
        let b = idempotency
            .slot(Key {
                message_type: "U",
                ..key(1)
            })
            .0;
        assert!(!Arc::ptr_eq(&a, &b));
        assert!(Arc::ptr_eq(&a, &idempotency.slot(key(1)).0));
    }

    #[test]
    fn large_capacities_are_sharded() {
        let idempotency = CommandIds::new(100_000, Duration::from_secs(60));
        assert_eq!(idempotency.shards.len(), 16);
        assert_eq!(idempotency.capacity, 6250);
    }
}
