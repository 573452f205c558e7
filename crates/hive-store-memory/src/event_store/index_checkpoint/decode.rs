//! A checkpoint read back into a [`State`], section by section (see [`mod@super::encode`]),
//! refusing whatever does not hold together instead of building a state that might panic.

use super::encode::Covered;
use super::format::Decoder;
use crate::event_store::bodies::{Bodies, Locators, LogBodies};
use crate::event_store::columns::{Chunked, Columns, CHUNK, NO_PREVIOUS};
use crate::event_store::ids::Ids;
use crate::event_store::index::{State, MAX_EVENTS};
use crate::event_store::intern::Interner;
use crate::event_store::rollup::Rollups;
use crate::event_store::streams::{StreamKey, Streams, Tail};
use crate::log::record::HEADER_LEN as RECORD_HEADER_LEN;

/// The `META` section: what the checkpoint covers and the fingerprint of its stream key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    /// What the checkpoint covers.
    pub(crate) covered: Covered,
    /// The fingerprint of the stream hash key it was made with.
    pub(crate) key_fingerprint: [u64; 2],
}

/// Reads the `META` section.
pub(crate) fn meta(content: &mut Decoder<'_>) -> Result<Meta, String> {
    let mut meta = content.section(*b"META")?;
    let events = meta.get()?;
    let log_len = meta.get()?;
    let last_record = meta.get()?;
    let mut last_header = [0; RECORD_HEADER_LEN];
    last_header.copy_from_slice(&meta.vec::<u8>(RECORD_HEADER_LEN)?);
    let key_fingerprint = [meta.get()?, meta.get()?];
    meta.end()?;
    let covered = Covered {
        events,
        log_len,
        last_record,
        last_header,
    };
    covered.check()?;
    if events > MAX_EVENTS {
        return Err(format!("{events} events, more than a store holds"));
    }
    Ok(Meta {
        covered,
        key_fingerprint,
    })
}

/// Reads the sections after `META` into a state whose bodies are in `bodies` (a log with no
/// event indexed yet) and whose stream ids hash with `key`.
pub(crate) fn state(
    mut content: Decoder<'_>,
    covered: &Covered,
    key: StreamKey,
    bodies: LogBodies,
) -> Result<State, String> {
    let n = usize::try_from(covered.events).map_err(|_| "too many events for this machine".to_owned())?;
    let chunks = n.div_ceil(CHUNK);

    let mut section = content.section(*b"COLS")?;
    let (columns, id_hashes) = columns(&mut section, n, chunks)?;
    section.end()?;

    let mut section = content.section(*b"BODY")?;
    let bases = section.vec(chunks)?;
    let deltas = section.column(n)?;
    let far_count = section.count()?;
    let mut far = Vec::with_capacity(far_count.min(n));
    for _ in 0..far_count {
        far.push((section.get()?, section.get()?));
    }
    section.end()?;
    let locators = Locators {
        bases,
        deltas,
        far,
        end: covered.log_len,
        record: covered.last_record,
    };
    let bodies = bodies.restored(locators)?;

    let mut state = State::new(Bodies::Log(bodies), key);
    let mut section = content.section(*b"STRM")?;
    state.streams = streams(&mut section, &columns.previous, key)?;
    section.end()?;

    let mut section = content.section(*b"NAME")?;
    for interner in [
        &mut state.event_types,
        &mut state.aggregate_types,
        &mut state.organizations,
        &mut state.users,
    ] {
        intern_in_order(interner, section.strings()?)?;
    }
    section.end()?;

    let mut section = content.section(*b"ROLL")?;
    state.rollups = Rollups::decode(&mut section)?;
    section.end()?;
    content.end()?;

    state.columns = columns;
    let started = std::time::Instant::now();
    state.ids = Ids::from_hashes(id_hashes);
    tracing::debug!(
        events = n,
        elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
        "event id table rebuilt from its hash column"
    );
    Ok(state)
}

/// The `COLS` section: the columns of `n` events in `chunks` chunks, and their id hashes.
fn columns(section: &mut Decoder<'_>, n: usize, chunks: usize) -> Result<(Columns, Chunked<u32>), String> {
    let mut columns = Columns {
        timestamp: section.column(n)?,
        event_type: section.column(n)?,
        aggregate_type: section.column(n)?,
        organization: section.column(n)?,
        user: section.column(n)?,
        correlation: section.column(n)?,
        previous: section.column(n)?,
        chunk_times: Vec::new(),
    };
    let id_hashes = section.column(n)?;
    // Pushed one by one, as when indexing, so the list takes the same room.
    for pair in section.vec::<i64>(chunks * 2)?.chunks_exact(2) {
        columns.chunk_times.push((pair[0], pair[1]));
    }
    Ok((columns, id_hashes))
}

/// The `STRM` section: the table of the streams whose events are linked by `previous`,
/// hashing with `key`. A stream's walk back from its last event must take it through as many
/// events as its version, all in the columns; and every event must be in one stream.
fn streams(section: &mut Decoder<'_>, previous: &Chunked<u32>, key: StreamKey) -> Result<Streams, String> {
    let n = previous.len();
    // The number of events up to each one in its stream (following its links back).
    let mut depth: Vec<u32> = Vec::with_capacity(n);
    for at in 0..n {
        let here = match previous[at] {
            NO_PREVIOUS => 1,
            before if (before as usize) < at => depth[before as usize] + 1,
            before => return Err(format!("event {at} follows event {before} of its stream")),
        };
        depth.push(here);
    }
    let count = section.count()?;
    let mut entries = Vec::with_capacity(count.min(n));
    let mut events = 0u64;
    for _ in 0..count {
        let hash = [section.get()?, section.get()?];
        let tail = Tail {
            version: section.get()?,
            last: section.get()?,
        };
        if depth.get(tail.last as usize) != Some(&tail.version) {
            return Err(format!(
                "a stream at version {} ending at event {}, which is not its last",
                tail.version, tail.last
            ));
        }
        events += u64::from(tail.version);
        entries.push((hash, tail));
    }
    if events != n as u64 {
        return Err(format!("streams of {events} events in all, for {n} events"));
    }
    Streams::restore(key, entries.into_iter()).ok_or_else(|| "a stream listed twice".to_owned())
}

/// Interns `names` into an empty `interner`, checking that each gets the id it had.
fn intern_in_order(interner: &mut Interner, names: Vec<String>) -> Result<(), String> {
    for (name, id) in names.iter().zip(1u32..) {
        if interner.intern(Some(name)) != id {
            return Err(format!("`{name}` interned twice or past the limit"));
        }
    }
    Ok(())
}
