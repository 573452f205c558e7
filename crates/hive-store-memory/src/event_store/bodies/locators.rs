//! Where the bodies of a durable store are, taken out of a [`LogBodies`] for an index
//! checkpoint and put back into a fresh one when a checkpoint is loaded.

use hive_domain::StoreResult;

use super::{LogBodies, FAR};
use crate::event_store::columns::{Chunked, CHUNK};
use crate::log::record::HEADER_LEN;

/// The body locators of a durable store, as an index checkpoint holds them.
#[derive(Debug)]
pub(crate) struct Locators {
    /// The offset of the first event of each column chunk.
    pub(crate) bases: Vec<u64>,
    /// Each event's offset from its chunk's base ([`FAR`] for the ones in `far`).
    pub(crate) deltas: Chunked<u32>,
    /// The offsets of the events 4 GiB or more past their chunk's base, by log index.
    pub(crate) far: Vec<(u32, u64)>,
    /// The end of the last indexed record.
    pub(crate) end: u64,
    /// The offset of the last indexed record.
    pub(crate) record: u64,
}

impl LogBodies {
    /// The offset of the first event of each column chunk.
    pub(crate) fn bases(&self) -> &[u64] {
        &self.bases
    }

    /// Each event's offset from its chunk's base ([`FAR`]: see [`LogBodies::far`]).
    pub(crate) fn deltas(&self) -> &Chunked<u32> {
        &self.deltas
    }

    /// The offsets of the events too far from their chunk's base for a delta, by log index.
    pub(crate) fn far(&self) -> impl ExactSizeIterator<Item = (u32, u64)> + '_ {
        self.far.iter().map(|(&at, &offset)| (at, offset))
    }

    /// The end of the last indexed record (0 when none).
    pub(crate) fn end(&self) -> u64 {
        self.end
    }

    /// The offset of the last indexed record (0 when none).
    pub(crate) fn record(&self) -> u64 {
        self.record
    }

    /// The frame header of the record at `offset`, read from the log.
    pub(crate) fn header_at(&self, offset: u64) -> StoreResult<[u8; HEADER_LEN]> {
        let bytes = self.read(offset, offset + HEADER_LEN as u64)?;
        let mut header = [0; HEADER_LEN];
        header.copy_from_slice(&bytes);
        Ok(header)
    }

    /// These bodies (with no event yet) locating the events of `locators`; why not, when the
    /// locators contradict each other.
    pub(crate) fn restored(mut self, locators: Locators) -> Result<Self, String> {
        let Locators {
            bases,
            deltas,
            far,
            end,
            record,
        } = locators;
        if bases.len() != deltas.len().div_ceil(CHUNK) {
            return Err(format!("{} chunk bases for {} events", bases.len(), deltas.len()));
        }
        // Inserted one by one, as when indexing, so the map takes the same room.
        for (at, offset) in far {
            if deltas.get(at as usize) != Some(&FAR) || self.far.insert(at, offset).is_some() {
                return Err(format!("a far body offset for event {at}, which has none"));
            }
        }
        let expected = (0..deltas.len()).filter(|&at| deltas[at] == FAR).count();
        if expected != self.far.len() {
            return Err(format!(
                "{expected} events with far body offsets, {} offsets",
                self.far.len()
            ));
        }
        if record > end {
            return Err(format!("the last record at {record} ends before it, at {end}"));
        }
        // Pushed one by one, as when indexing, so the list takes the same room.
        for base in bases {
            self.bases.push(base);
        }
        self.deltas = deltas;
        self.end = end;
        self.record = record;
        Ok(self)
    }
}
