//! The event id index: a hash table of log indexes, hashed by the event id.
//!
//! No id is kept in memory: the table holds 4-byte log indexes, and a 32-bit hash of each
//! event's id sits in a column to rehash the table when it grows. A look-up yields the indexes
//! whose hash matches; the caller confirms each on the event's body (a false candidate needs
//! a 32-bit hash collision, one in four billion per stored event).

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use uuid::Uuid;

use super::columns::Chunked;

const SEED: u64 = 0x6869_7665_2d69_6473; // "hive-ids"

/// The 32-bit hash of an event id.
fn hash_of(id: &Uuid) -> u32 {
    // The high half of a 64-bit hash.
    (FixedState::with_seed(SEED).hash_one(id.as_u128()) >> 32) as u32
}

/// The table's 64-bit hash of a stored 32-bit one (spread over the high bits, which pick the
/// table's control tags).
fn spread(hash: u32) -> u64 {
    u64::from(hash).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Event id → log index.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    table: HashTable<u32>,
    /// The id hash of each event, by log index.
    hashes: Chunked<u32>,
}

impl Ids {
    /// Indexes the event at `at` (which must be the next log index) under `id`.
    pub(crate) fn insert(&mut self, id: &Uuid, at: u32) {
        let hash = hash_of(id);
        debug_assert_eq!(self.hashes.len(), at as usize);
        self.hashes.push(hash);
        let hashes = &self.hashes;
        self.table
            .insert_unique(spread(hash), at, |&p| spread(hashes[p as usize]));
    }

    /// The id hash of each event, by log index.
    pub(crate) fn hashes(&self) -> &Chunked<u32> {
        &self.hashes
    }

    /// The table of the events whose id hashes are `hashes`, by log index.
    pub(crate) fn from_hashes(hashes: Chunked<u32>) -> Self {
        let mut table = HashTable::with_capacity(hashes.len());
        for at in 0..hashes.len() {
            table.insert_unique(spread(hashes[at]), at as u32, |&p| spread(hashes[p as usize]));
        }
        Self { table, hashes }
    }

    /// The log indexes that may hold `id` (confirm each on its body).
    pub(crate) fn candidates(&self, id: &Uuid) -> impl Iterator<Item = u32> + '_ {
        let hash = hash_of(id);
        self.table
            .iter_hash(spread(hash))
            .copied()
            .filter(move |&p| self.hashes[p as usize] == hash)
    }

    /// Bytes allocated for the table and the hash column.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.table.allocation_size() + self.hashes.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::super::columns::CHUNK;
    use super::*;

    #[test]
    fn ids_find_their_events() {
        let mut ids = Ids::default();
        let stored: Vec<Uuid> = (1..=1_000u128)
            .map(|i| Uuid::from_u128(i.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)))
            .collect();
        for (at, id) in (0u32..).zip(&stored) {
            ids.insert(id, at);
        }
        for (at, id) in (0u32..).zip(&stored) {
            assert_eq!(ids.candidates(id).collect::<Vec<_>>(), [at]);
        }
        assert_eq!(ids.candidates(&Uuid::from_u128(7)).count(), 0);
        let chunks = ids.hashes().chunks().map(|chunk| {
            let mut copy = Vec::with_capacity(CHUNK);
            copy.extend_from_slice(chunk);
            copy
        });
        let rebuilt = Ids::from_hashes(Chunked::from_chunks(chunks));
        for (at, id) in (0u32..).zip(&stored) {
            assert_eq!(rebuilt.candidates(id).collect::<Vec<_>>(), [at]);
        }
        assert_eq!(rebuilt.heap_bytes(), ids.heap_bytes(), "the same room as when grown");
    }
}
