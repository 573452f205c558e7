//! Where event bodies are: in memory (in-memory mode), or in `events.log`, read on demand by
//! positioned reads through a bounded cache of hot bodies (durable mode).

use std::fs::File;
use std::sync::Arc;

use hive_domain::{EventEnvelope, EventStoreError, StoreResult};
use quick_cache::sync::Cache;
use quick_cache::Weighter;

use super::columns::{Chunked, CHUNK};
use super::index::FastMap;
use crate::log::fs::read_exact_at;

/// Where a batch being indexed lies in the log (ignored in memory mode).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placed<'a> {
    /// The file offset of each event's JSON.
    pub(crate) starts: &'a [u64],
    /// The offset of the batch's record.
    pub(crate) record: u64,
    /// The end of the batch's record.
    pub(crate) end: u64,
    /// Whether to put the events into the body cache (fresh appends: yes; replay: no).
    pub(crate) cache: bool,
}

impl Placed<'_> {
    /// The placement of a batch kept in memory.
    pub(crate) const IN_MEMORY: Placed<'static> = Placed {
        starts: &[],
        record: 0,
        end: 0,
        cache: false,
    };
}

/// The bodies of every stored event.
#[derive(Debug)]
pub(crate) enum Bodies {
    /// Kept in memory, one shared envelope per event.
    Memory(Chunked<Arc<EventEnvelope>>),
    /// In the log file.
    Log(LogBodies),
}

impl Default for Bodies {
    fn default() -> Self {
        Self::Memory(Chunked::default())
    }
}

/// A cached body and the length of its JSON (its weight).
#[derive(Debug, Clone)]
struct Cached {
    event: Arc<EventEnvelope>,
    bytes: u32,
}

/// Weighs a cached body by the length of its JSON in the log.
#[derive(Debug, Clone, Copy)]
struct ByLength;

impl Weighter<u32, Cached> for ByLength {
    fn weight(&self, _: &u32, cached: &Cached) -> u64 {
        u64::from(cached.bytes.max(1))
    }
}

/// The bodies of a durable store: the offset of each event's JSON in the log, a read-only
/// handle on the log, and the cache.
pub(crate) struct LogBodies {
    file: File,
    name: String,
    /// The offset of the first event of each column chunk.
    bases: Vec<u64>,
    /// Each event's offset from its chunk's base ([`FAR`]: see `far`).
    deltas: Chunked<u32>,
    /// The offsets of events 4 GiB or more past their chunk's base.
    far: FastMap<u32, u64>,
    /// The end of the last indexed record.
    end: u64,
    /// The offset of the last indexed record.
    record: u64,
    cache: Option<Cache<u32, Cached, ByLength>>,
}

/// The delta of an event whose offset is in `far`.
pub(crate) const FAR: u32 = u32::MAX;

impl std::fmt::Debug for LogBodies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogBodies")
            .field("name", &self.name)
            .field("events", &self.deltas.len())
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

impl LogBodies {
    /// Bodies read from `file` (named `name` in errors), with a cache of `cache_bytes` of JSON.
    pub(crate) fn new(file: File, name: impl Into<String>, cache_bytes: u64) -> Self {
        let cache = (cache_bytes > 0).then(|| {
            let items = usize::try_from(cache_bytes / 512).unwrap_or(usize::MAX).max(16);
            Cache::with_weighter(items, cache_bytes, ByLength)
        });
        Self {
            file,
            name: name.into(),
            bases: Vec::new(),
            deltas: Chunked::default(),
            far: FastMap::default(),
            end: 0,
            record: 0,
            cache,
        }
    }

    fn push(&mut self, start: u64) {
        let at = self.deltas.len();
        if at.is_multiple_of(CHUNK) {
            self.bases.push(start);
        }
        let base = self.bases.last().copied().unwrap_or(start);
        match u32::try_from(start.saturating_sub(base)).ok().filter(|&d| d != FAR) {
            Some(delta) => self.deltas.push(delta),
            None => {
                self.deltas.push(FAR);
                self.far.insert(at as u32, start);
            }
        }
    }

    /// The offset of the JSON of the event at `at`.
    fn start(&self, at: usize) -> u64 {
        match self.deltas[at] {
            FAR => self.far.get(&(at as u32)).copied().unwrap_or(self.end),
            delta => self.bases[at / CHUNK] + u64::from(delta),
        }
    }

    /// Where the bytes of the event at `at` start and where they end at the latest: at the
    /// next event or at the end of the last record (trailing bytes are left unparsed).
    fn span(&self, at: usize) -> (u64, u64) {
        let end = if at + 1 < self.deltas.len() {
            self.start(at + 1)
        } else {
            self.end
        };
        (self.start(at), end)
    }

    fn cached(&self, at: usize) -> Option<Arc<EventEnvelope>> {
        self.cache.as_ref()?.get(&(at as u32)).map(|c| c.event)
    }

    fn remember(&self, at: usize, event: &Arc<EventEnvelope>, bytes: u64) {
        if let Some(cache) = &self.cache {
            let cached = Cached {
                event: Arc::clone(event),
                bytes: u32::try_from(bytes).unwrap_or(u32::MAX),
            };
            cache.insert(at as u32, cached);
        }
    }

    /// Reads the bytes `[start, end)` of the log.
    fn read(&self, start: u64, end: u64) -> StoreResult<Vec<u8>> {
        let len = usize::try_from(end.saturating_sub(start))
            .map_err(|_| EventStoreError::Backend(format!("cannot read {}@{start}: span too long", self.name)))?;
        let mut bytes = vec![0; len];
        read_exact_at(&self.file, &mut bytes, start)
            .map_err(|e| EventStoreError::Backend(format!("cannot read {}@{start}: {e}", self.name)))?;
        Ok(bytes)
    }

    /// Parses the first JSON value of `bytes`, read at `start`, as the event at `at`.
    fn parse(&self, bytes: &[u8], start: u64, at: usize) -> StoreResult<Arc<EventEnvelope>> {
        let corrupt = |reason: String| EventStoreError::Corrupt {
            record: format!("{}@{start}", self.name),
            reason,
        };
        let event = serde_json::Deserializer::from_slice(bytes)
            .into_iter::<EventEnvelope>()
            .next()
            .ok_or_else(|| corrupt("no event where one was indexed".into()))?
            .map_err(|e| corrupt(format!("undecodable event: {e}")))?;
        let want = at as u64 + 1;
        if event.global_position != Some(want) {
            return Err(corrupt(format!(
                "the event there has global position {:?}, expected {want}",
                event.global_position
            )));
        }
        Ok(Arc::new(event))
    }

    fn get(&self, at: usize) -> StoreResult<Arc<EventEnvelope>> {
        if let Some(event) = self.cached(at) {
            return Ok(event);
        }
        let (start, end) = self.span(at);
        let bytes = self.read(start, end)?;
        let event = self.parse(&bytes, start, at)?;
        self.remember(at, &event, end - start);
        Ok(event)
    }

    /// The events `from..to`: cached ones from the cache, the others with one read.
    fn range(&self, from: usize, to: usize) -> StoreResult<Vec<Arc<EventEnvelope>>> {
        let mut found: Vec<Option<Arc<EventEnvelope>>> = (from..to).map(|at| self.cached(at)).collect();
        let first = found.iter().position(Option::is_none);
        let last = found.iter().rposition(Option::is_none);
        if let (Some(first), Some(last)) = (first, last) {
            let base = self.start(from + first);
            let bytes = self.read(base, self.span(from + last).1)?;
            for (slot, at) in found[first..=last].iter_mut().zip(from + first..) {
                if slot.is_none() {
                    let (start, end) = self.span(at);
                    let local = usize::try_from(start - base).unwrap_or(usize::MAX);
                    let event = self.parse(bytes.get(local..).unwrap_or_default(), start, at)?;
                    self.remember(at, &event, end - start);
                    *slot = Some(event);
                }
            }
        }
        Ok(found.into_iter().flatten().collect())
    }
}

impl Bodies {
    /// Adds the bodies of a batch that follows the last one.
    pub(crate) fn push_batch(&mut self, batch: &[Arc<EventEnvelope>], placed: Placed<'_>) -> StoreResult<()> {
        match self {
            Self::Memory(events) => batch.iter().for_each(|e| events.push(Arc::clone(e))),
            Self::Log(log) => {
                if placed.starts.len() != batch.len() {
                    return Err(EventStoreError::Backend(format!(
                        "{} events to index but {} offsets in {}",
                        batch.len(),
                        placed.starts.len(),
                        log.name
                    )));
                }
                let first = log.deltas.len();
                for &start in placed.starts {
                    log.push(start);
                }
                log.end = placed.end;
                log.record = placed.record;
                if placed.cache {
                    for (event, at) in batch.iter().zip(first..) {
                        let (start, end) = log.span(at);
                        log.remember(at, event, end - start);
                    }
                }
            }
        }
        Ok(())
    }

    /// The body of the event at `at` (a log index below the head).
    pub(crate) fn get(&self, at: usize) -> StoreResult<Arc<EventEnvelope>> {
        match self {
            Self::Memory(events) => events
                .get(at)
                .cloned()
                .ok_or_else(|| EventStoreError::Backend(format!("no event at log index {at}"))),
            Self::Log(log) => log.get(at),
        }
    }

    /// The bodies of the events `from..to` (log indexes below the head).
    pub(crate) fn range(&self, from: usize, to: usize) -> StoreResult<Vec<Arc<EventEnvelope>>> {
        match self {
            Self::Memory(events) => Ok((from..to).filter_map(|at| events.get(at).cloned()).collect()),
            Self::Log(log) => log.range(from, to),
        }
    }

    /// Bytes allocated to find bodies: the shared pointers in memory, the offsets on disk.
    pub(crate) fn locator_bytes(&self) -> usize {
        match self {
            Self::Memory(events) => events.heap_bytes(),
            Self::Log(log) => {
                log.deltas.heap_bytes()
                    + log.bases.capacity() * size_of::<u64>()
                    + log.far.capacity() * (size_of::<(u32, u64)>() + 1)
            }
        }
    }

    /// The JSON bytes of the bodies in the cache (0 in memory mode).
    pub(crate) fn cached_bytes(&self) -> u64 {
        match self {
            Self::Log(LogBodies { cache: Some(cache), .. }) => cache.weight(),
            _ => 0,
        }
    }
}

mod locators;

pub(crate) use locators::Locators;
#[cfg(test)]
mod tests;
