//! A durable store's [`State`] as a checkpoint: every section, in the order the format fixes.
//!
//! | section | content |
//! | --- | --- |
//! | `META` | events, log bytes covered, offset and frame header of the last covered record, stream key fingerprint |
//! | `COLS` | per event: timestamp, event type, aggregate type, organization, user, correlation hash, previous event, id hash; per chunk: earliest and latest timestamp |
//! | `BODY` | per chunk: the offset of its first body; per event: its body's distance from it; the far offsets |
//! | `STRM` | per stream: its 128-bit hash, version and last event |
//! | `NAME` | the interned event types, aggregate types, organizations and users, in id order |
//! | `ROLL` | the analytics rollups |

use super::format::Encoder;
use crate::event_store::bodies::{Bodies, LogBodies};
use crate::event_store::columns::Columns;
use crate::event_store::index::State;
use crate::log::record::{Header, HEADER_LEN as RECORD_HEADER_LEN};

/// What a checkpoint covers: its events, and the part of `events.log` they were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Covered {
    /// Events covered (the head position).
    pub(crate) events: u64,
    /// The end of the last covered record: the bytes of the log the checkpoint stands for.
    pub(crate) log_len: u64,
    /// The offset of the last covered record.
    pub(crate) last_record: u64,
    /// The frame header (magic, length, CRC-32) of that record, as in the log.
    pub(crate) last_header: [u8; RECORD_HEADER_LEN],
}

impl Covered {
    /// What a checkpoint of `log`'s `events` events covers, its last record's header read back
    /// from the log.
    fn of(log: &LogBodies, events: u64) -> Result<Self, String> {
        let last_record = log.record();
        let last_header = log.header_at(last_record).map_err(|e| e.to_string())?;
        let covered = Self {
            events,
            log_len: log.end(),
            last_record,
            last_header,
        };
        covered.check()?;
        Ok(covered)
    }

    /// Why the last record's header does not end the covered bytes, if so.
    pub(crate) fn check(&self) -> Result<(), String> {
        let end =
            Header::parse(&self.last_header).map(|h| self.last_record + (RECORD_HEADER_LEN as u64) + u64::from(h.len));
        if self.events == 0 || end != Some(self.log_len) {
            return Err(format!(
                "{} events whose last record (at {}) does not end at {}",
                self.events, self.last_record, self.log_len
            ));
        }
        Ok(())
    }
}

/// The checkpoint of a durable store's state (its header's checksum still to fill in) and
/// what it covers; why none, for a state without events or without a log.
pub(crate) fn encode(state: &State) -> Result<(Vec<u8>, Covered), String> {
    let Bodies::Log(log) = &state.bodies else {
        return Err("an in-memory store has no log to checkpoint".into());
    };
    let events = state.head();
    let covered = Covered::of(log, events)?;
    let n = events as usize;
    let streams = state.streams.entries().len();
    let chunks = log.bases().len();
    let mut out = Encoder::with_capacity(n * 36 + streams * 24 + chunks * 24 + 4_096);

    out.section(*b"META");
    out.put(covered.events);
    out.put(covered.log_len);
    out.put(covered.last_record);
    out.slice(&covered.last_header);
    out.slice(&state.streams.fingerprint());

    out.section(*b"COLS");
    columns(&mut out, &state.columns);
    out.column(state.ids.hashes());
    for &(earliest, latest) in &state.columns.chunk_times {
        out.slice(&[earliest, latest]);
    }

    out.section(*b"BODY");
    out.slice(log.bases());
    out.column(log.deltas());
    out.put(log.far().len() as u64);
    for (at, offset) in log.far() {
        out.put(at);
        out.put(offset);
    }

    out.section(*b"STRM");
    out.put(streams as u64);
    for (hash, tail) in state.streams.entries() {
        out.slice(&hash);
        out.slice(&[tail.version, tail.last]);
    }

    out.section(*b"NAME");
    for interner in [
        &state.event_types,
        &state.aggregate_types,
        &state.organizations,
        &state.users,
    ] {
        out.strings(interner.names_by_id().into_iter());
    }

    out.section(*b"ROLL");
    state.rollups.encode(&mut out);
    Ok((out.finish(), covered))
}

/// The per-event columns, in the order of the format.
fn columns(out: &mut Encoder, columns: &Columns) {
    out.column(&columns.timestamp);
    out.column(&columns.event_type);
    out.column(&columns.aggregate_type);
    out.column(&columns.organization);
    out.column(&columns.user);
    out.column(&columns.correlation);
    out.column(&columns.previous);
}
