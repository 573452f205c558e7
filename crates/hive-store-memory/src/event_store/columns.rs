//! Per-event columns in fixed-size chunks: a global position (minus one) indexes each column.
//!
//! A column grows one chunk of [`CHUNK`] entries at a time and never reallocates what it holds,
//! so its unused capacity is at most one chunk and appending never copies the column.

use std::ops::Index;

/// Entries per chunk of a column.
pub(crate) const CHUNK: usize = 4_096;

/// One value per event, in chunks of [`CHUNK`].
#[derive(Debug, Clone)]
pub(crate) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    /// Number of values.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends a value, starting a new chunk when the last one is full.
    pub(crate) fn push(&mut self, value: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(last) = self.chunks.last_mut() {
            last.push(value);
            self.len += 1;
        }
    }

    /// The values, chunk by chunk.
    pub(crate) fn chunks(&self) -> impl Iterator<Item = &[T]> + '_ {
        self.chunks.iter().map(Vec::as_slice)
    }

    /// A column of these chunks. Each but the last must hold [`CHUNK`] values, and each should
    /// have room for [`CHUNK`], as [`Chunked::push`] makes them (the caller's duty).
    pub(crate) fn from_chunks(chunks: impl IntoIterator<Item = Vec<T>>) -> Self {
        let mut column = Self::default();
        // Pushed one by one, as when appending, so the list takes the same room.
        for chunk in chunks {
            column.len += chunk.len();
            column.chunks.push(chunk);
        }
        column
    }

    /// The value at `at`, if there is one.
    pub(crate) fn get(&self, at: usize) -> Option<&T> {
        self.chunks.get(at / CHUNK)?.get(at % CHUNK)
    }

    /// Bytes allocated for the column (its chunks and the list of chunks).
    pub(crate) fn heap_bytes(&self) -> usize {
        let values: usize = self.chunks.iter().map(|c| c.capacity() * size_of::<T>()).sum();
        values + self.chunks.capacity() * size_of::<Vec<T>>()
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;

    fn index(&self, at: usize) -> &T {
        &self.chunks[at / CHUNK][at % CHUNK]
    }
}

/// The columns every event has, whatever the mode. Entry `i` describes global position `i + 1`.
#[derive(Debug, Default)]
pub(crate) struct Columns {
    /// The timestamp in nanoseconds since the Unix epoch (saturated outside 1677–2262).
    pub(crate) timestamp: Chunked<i64>,
    /// The interned event type.
    pub(crate) event_type: Chunked<u16>,
    /// The interned aggregate type.
    pub(crate) aggregate_type: Chunked<u16>,
    /// The interned organization (0: none).
    pub(crate) organization: Chunked<u32>,
    /// The interned user (0: none).
    pub(crate) user: Chunked<u32>,
    /// A 32-bit hash of the correlation id (candidates are confirmed on the body).
    pub(crate) correlation: Chunked<u32>,
    /// The index of the previous event of the same stream ([`NO_PREVIOUS`] for its first).
    pub(crate) previous: Chunked<u32>,
    /// The earliest and latest timestamp of each chunk, to skip chunks outside a time range.
    pub(crate) chunk_times: Vec<(i64, i64)>,
}

/// The `previous` of a stream's first event.
pub(crate) const NO_PREVIOUS: u32 = u32::MAX;

impl Columns {
    /// Appends an event's timestamp, keeping the chunk's time bounds.
    pub(crate) fn push_timestamp(&mut self, at: i64) {
        if self.timestamp.len().is_multiple_of(CHUNK) {
            self.chunk_times.push((at, at));
        } else if let Some((earliest, latest)) = self.chunk_times.last_mut() {
            *earliest = (*earliest).min(at);
            *latest = (*latest).max(at);
        }
        self.timestamp.push(at);
    }

    /// Bytes allocated for all columns.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.timestamp.heap_bytes()
            + self.event_type.heap_bytes()
            + self.aggregate_type.heap_bytes()
            + self.organization.heap_bytes()
            + self.user.heap_bytes()
            + self.correlation.heap_bytes()
            + self.previous.heap_bytes()
            + self.chunk_times.capacity() * size_of::<(i64, i64)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_grow_chunk_by_chunk() {
        let mut column = Chunked::default();
        for i in 0..CHUNK as u32 + 3 {
            column.push(i);
        }
        assert_eq!(column.len(), CHUNK + 3);
        assert_eq!(column[CHUNK + 2], CHUNK as u32 + 2);
        assert_eq!(column.get(CHUNK + 3), None);
        let slack = column.heap_bytes() - (CHUNK + 3) * 4;
        let mut columns = Columns::default();
        for at in (0..CHUNK as i64 + 2).rev() {
            columns.push_timestamp(at);
        }
        assert_eq!(columns.chunk_times, [(2, CHUNK as i64 + 1), (0, 1)]);
        assert!(slack <= CHUNK * 4 + 128, "at most one chunk unused, got {slack} bytes");
    }
}
