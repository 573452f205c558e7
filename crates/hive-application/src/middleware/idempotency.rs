//! Idempotency: a command id already handled returns the first answer and appends nothing.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;
use tower::Layer;
use uuid::Uuid;

use super::step::{single, Call, Step};
use crate::bus::{BusRequest, BusService, Outcome};

type Slot = Arc<OnceCell<Outcome>>;

/// A command id is only the same command for the same message type.
#[derive(Debug, Clone, Copy, Eq)]
struct Key {
    id: Uuid,
    message_type: &'static str,
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

/// Ids per shard below which the map is not sharded (so that small capacities stay exact).
const MIN_SHARD_CAPACITY: usize = 4096;
/// Most shards a map is split into.
const MAX_SHARDS: usize = 16;

/// Remembers the outcome of each command id, per message type, bounded by count and age.
///
/// Concurrent sends of one id run the handler once: the others wait for its outcome.
/// Transient failures (timeouts, unavailable backends, conflicts left after retries) are
/// forgotten, so the same command may be sent again; successes and refusals are remembered.
///
/// Ids are kept in two generations (per shard, for large capacities): new ids go into the
/// current one; when it holds `capacity` ids it becomes the previous one and the older
/// previous one is dropped whole. So an id is remembered at least until `capacity` newer ids
/// have been sent (per shard: in proportion) and never longer than `ttl`; at most
/// `2 × capacity` ids are held.
#[derive(Clone)]
pub struct Idempotency {
    shards: Arc<[Mutex<Generations>]>,
    hasher: foldhash::fast::FixedState,
    capacity: usize,
    ttl: Duration,
}

/// The [`Idempotency`] layer (one map shared by every route of the bus).
#[derive(Debug, Clone)]
pub struct IdempotencyLayer {
    idempotency: Idempotency,
}

impl IdempotencyLayer {
    /// Remembers at least the last `capacity` command ids, each for at most `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            idempotency: Idempotency::new(capacity, ttl),
        }
    }
}

impl Layer<BusService> for IdempotencyLayer {
    type Service = BusService;

    fn layer(&self, inner: BusService) -> BusService {
        single(self.idempotency.clone(), inner)
    }
}

impl std::fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency")
            .field("capacity", &self.capacity)
            .field("shards", &self.shards.len())
            .field("ttl", &self.ttl)
            .finish()
    }
}

type Map = HashMap<Key, (Instant, Slot), foldhash::fast::FixedState>;

#[derive(Default)]
struct Generations {
    current: Map,
    previous: Map,
}

/// What a shard knows of a key.
enum Found<'a> {
    /// Remembered and younger than the TTL.
    Live(&'a Slot),
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

impl Idempotency {
    /// Remembers at least the last `capacity` command ids, each for at most `ttl`.
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
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

    /// The slot of `key`: the remembered one, or a new empty one now remembered.
    fn slot(&self, key: Key) -> Slot {
        let now = Instant::now();
        loop {
            let mut shard = self.shard(&key).lock().unwrap_or_else(PoisonError::into_inner);
            let expired_in_previous = match shard.find(&key, now, self.ttl) {
                Found::Live(slot) => return Arc::clone(slot),
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
            let slot = Slot::default();
            if expired_in_previous {
                shard.previous.remove(&key);
            }
            shard.current.insert(key, (now, Arc::clone(&slot)));
            return slot;
        }
    }

    fn forget(&self, key: Key, slot: &Slot) {
        let mut guard = self.shard(&key).lock().unwrap_or_else(PoisonError::into_inner);
        let shard = &mut *guard;
        for map in [&mut shard.current, &mut shard.previous] {
            if map.get(&key).is_some_and(|(_, s)| Arc::ptr_eq(s, slot)) {
                map.remove(&key);
            }
        }
    }
}

impl Step for Idempotency {
    async fn run<N: Call>(&self, request: BusRequest, next: &N) -> Outcome {
        let key = Key {
            id: request.context.message_id,
            message_type: request.message_type,
        };
        let slot = self.slot(key);
        let outcome = slot.get_or_init(|| next.call(request)).await.clone();
        if let Err(error) = &outcome {
            if error.is_transient() {
                self.forget(key, &slot);
            }
        }
        outcome
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
        let idempotency = Idempotency::new(3, Duration::from_secs(60));
        let first = idempotency.slot(key(0));
        for n in 1..=3 {
            idempotency.slot(key(n));
        }
        assert!(
            Arc::ptr_eq(&first, &idempotency.slot(key(0))),
            "3 newer ids: still remembered"
        );
        for n in 4..=6 {
            idempotency.slot(key(n));
        }
        assert!(
            !Arc::ptr_eq(&first, &idempotency.slot(key(0))),
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
        let idempotency = Idempotency::new(10, Duration::ZERO);
        let first = idempotency.slot(key(1));
        assert!(!Arc::ptr_eq(&first, &idempotency.slot(key(1))));
    }

    #[test]
    fn one_id_of_two_message_types_is_two_keys() {
        let idempotency = Idempotency::new(10, Duration::from_secs(60));
        let a = idempotency.slot(key(1));
        let b = idempotency.slot(Key {
            message_type: "U",
            ..key(1)
        });
        assert!(!Arc::ptr_eq(&a, &b));
        assert!(Arc::ptr_eq(&a, &idempotency.slot(key(1))));
    }

    #[test]
    fn large_capacities_are_sharded() {
        let idempotency = Idempotency::new(100_000, Duration::from_secs(60));
        assert_eq!(idempotency.shards.len(), 16);
        assert_eq!(idempotency.capacity, 6250);
    }
}
