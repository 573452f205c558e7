//! The stream table: per stream its version and the index of its last event, keyed by a keyed
//! 128-bit hash of the stream id (no stream id is kept in memory).
//!
//! SipHash-1-3 with a random 128-bit key (persisted beside a durable log) makes two distinct
//! ids share a key with a probability of about `n² / 2¹²⁹` for `n` streams, and no one can
//! choose ids that collide without the key: the key is taken as the stream's identity.

use std::hash::Hasher;

use hashbrown::HashTable;
use siphasher::sip128::{Hasher128, SipHasher13};

/// The key of the stream hash.
pub(crate) type StreamKey = [u8; 16];

/// One stream: 24 bytes in the table.
#[derive(Debug, Clone, Copy)]
struct Entry {
    hash: [u64; 2],
    version: u32,
    last: u32,
}

/// Stream id hash → version and last event.
#[derive(Debug)]
pub(crate) struct Streams {
    key: StreamKey,
    table: HashTable<Entry>,
}

/// A stream as the table knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tail {
    /// The stream's version (its number of events).
    pub(crate) version: u32,
    /// The log index of its last event.
    pub(crate) last: u32,
}

impl Streams {
    /// An empty table hashing stream ids with `key`.
    pub(crate) fn new(key: StreamKey) -> Self {
        Self {
            key,
            table: HashTable::new(),
        }
    }

    fn hash(&self, aggregate_id: &str) -> [u64; 2] {
        let mut hasher = SipHasher13::new_with_key(&self.key);
        hasher.write(aggregate_id.as_bytes());
        let hash = hasher.finish128();
        [hash.h1, hash.h2]
    }

    /// The version and last event of a stream, if it has events.
    pub(crate) fn get(&self, aggregate_id: &str) -> Option<Tail> {
        let hash = self.hash(aggregate_id);
        self.table.find(hash[0], |e| e.hash == hash).map(|e| Tail {
            version: e.version,
            last: e.last,
        })
    }

    /// Records `at` as the next event of a stream; the index of its previous last event.
    pub(crate) fn advance(&mut self, aggregate_id: &str, at: u32) -> Option<u32> {
        let hash = self.hash(aggregate_id);
        match self.table.find_mut(hash[0], |e| e.hash == hash) {
            Some(entry) => {
                entry.version += 1;
                Some(std::mem::replace(&mut entry.last, at))
            }
            None => {
                let entry = Entry {
                    hash,
                    version: 1,
                    last: at,
                };
                self.table.insert_unique(hash[0], entry, |e| e.hash[0]);
                None
            }
        }
    }

    /// A fingerprint of the key: the hash of a fixed string, which tells whether another
    /// table was made with the same key without revealing it.
    pub(crate) fn fingerprint(&self) -> [u64; 2] {
        self.hash("\0hive stream key fingerprint")
    }

    /// Every stream: its hash, version and last event (in no particular order).
    pub(crate) fn entries(&self) -> impl ExactSizeIterator<Item = ([u64; 2], Tail)> + '_ {
        self.table.iter().map(|e| {
            let tail = Tail {
                version: e.version,
                last: e.last,
            };
            (e.hash, tail)
        })
    }

    /// A table hashing with `key` holding `entries` (hashes as [`Streams::entries`] gives
    /// them); `None` when a hash repeats.
    pub(crate) fn restore(key: StreamKey, entries: impl ExactSizeIterator<Item = ([u64; 2], Tail)>) -> Option<Self> {
        let mut table = HashTable::with_capacity(entries.len());
        for (hash, tail) in entries {
            if table.find(hash[0], |e: &Entry| e.hash == hash).is_some() {
                return None;
            }
            let entry = Entry {
                hash,
                version: tail.version,
                last: tail.last,
            };
            table.insert_unique(hash[0], entry, |e| e.hash[0]);
        }
        Some(Self { key, table })
    }

    /// Bytes allocated for the table.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.table.allocation_size()
    }
}

/// A fresh random key for the stream hash.
pub(crate) fn random_key() -> StreamKey {
    rand::random()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_advance_and_keep_their_last_event() {
        let mut streams = Streams::new(random_key());
        assert_eq!(streams.get("a"), None);
        assert_eq!(streams.advance("a", 0), None);
        assert_eq!(streams.advance("b", 1), None);
        assert_eq!(streams.advance("a", 2), Some(0));
        assert_eq!(streams.get("a"), Some(Tail { version: 2, last: 2 }));
        assert_eq!(streams.get("b"), Some(Tail { version: 1, last: 1 }));
        assert_eq!(size_of::<Entry>(), 24);
        assert!(streams.heap_bytes() > 0);
        let copy = Streams::restore(streams.key, streams.entries()).unwrap();
        assert_eq!(copy.get("a"), Some(Tail { version: 2, last: 2 }));
        assert_eq!(copy.get("b"), Some(Tail { version: 1, last: 1 }));
        assert_eq!(copy.get("c"), None);
        let twice = streams.entries().chain(streams.entries().take(1)).collect::<Vec<_>>();
        assert!(
            Streams::restore(streams.key, twice.into_iter()).is_none(),
            "a repeated hash"
        );
    }

    #[test]
    fn keys_decide_the_hash() {
        let one = Streams::new([1; 16]);
        let other = Streams::new([2; 16]);
        assert_eq!(one.hash("payment-1"), Streams::new([1; 16]).hash("payment-1"));
        assert_ne!(one.hash("payment-1"), other.hash("payment-1"));
        assert_ne!(one.hash("payment-1"), one.hash("payment-2"));
        assert_eq!(one.fingerprint(), Streams::new([1; 16]).fingerprint());
        assert_ne!(one.fingerprint(), other.fingerprint());
    }
}
