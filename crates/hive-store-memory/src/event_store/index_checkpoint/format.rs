//! The bytes of `index.checkpoint`: a header, then tagged sections of little-endian values.
//!
//! ```text
//! offset  size  field
//! 0       8     magic    b"HIVEINDX"
//! 8       4     version  format version, u32 LE (1)
//! 12      4     crc32    CRC-32 (IEEE, crc32fast) of the content, u32 LE
//! 16      8     length   content length in bytes, u64 LE
//! 24      len   content  sections: tag [u8; 4], body length u64 LE, body
//! ```
//!
//! Integers are little-endian; a string is its length (u32) and its UTF-8 bytes; an array is
//! its values back to back, its length given before it or known from the event count.

use crate::event_store::columns::{Chunked, CHUNK};

/// The first eight bytes of a checkpoint file.
pub(crate) const MAGIC: [u8; 8] = *b"HIVEINDX";
/// The format version this build writes and reads.
pub(crate) const VERSION: u32 = 1;
/// Magic, version, CRC-32 and length.
pub(crate) const HEADER_LEN: usize = 24;

/// A fixed-size value kept little-endian.
pub(crate) trait Le: Copy {
    /// Its size in bytes.
    const SIZE: usize;
    /// Writes it into `out` (exactly [`Le::SIZE`] bytes).
    fn put(self, out: &mut [u8]);
    /// Reads it from `bytes` (exactly [`Le::SIZE`] bytes).
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! little_endian {
    ($($t:ty),*) => {$(
        impl Le for $t {
            const SIZE: usize = size_of::<$t>();

            fn put(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }

            fn get(bytes: &[u8]) -> Self {
                let mut raw = [0; size_of::<$t>()];
                raw.copy_from_slice(bytes);
                <$t>::from_le_bytes(raw)
            }
        }
    )*};
}

little_endian!(u8, u16, u32, u64, i64);

/// Writes the content of a checkpoint after its header; [`seal`] then fills in the checksum.
#[derive(Debug)]
pub(crate) struct Encoder {
    out: Vec<u8>,
    /// Where the length of the open section goes.
    section: Option<usize>,
}

impl Encoder {
    /// An encoder with room for `content` bytes of sections.
    pub(crate) fn with_capacity(content: usize) -> Self {
        let mut out = Vec::with_capacity(HEADER_LEN + content);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.resize(HEADER_LEN, 0);
        Self { out, section: None }
    }

    /// Starts the section `tag`, ending the one before.
    pub(crate) fn section(&mut self, tag: [u8; 4]) {
        self.end_section();
        self.out.extend_from_slice(&tag);
        self.section = Some(self.out.len());
        self.out.extend_from_slice(&[0; 8]);
    }

    fn end_section(&mut self) {
        if let Some(at) = self.section.take() {
            let len = (self.out.len() - at - 8) as u64;
            self.out[at..at + 8].copy_from_slice(&len.to_le_bytes());
        }
    }

    /// Appends one value.
    pub(crate) fn put<T: Le>(&mut self, value: T) {
        let at = self.out.len();
        self.out.resize(at + T::SIZE, 0);
        value.put(&mut self.out[at..]);
    }

    /// Appends values back to back.
    pub(crate) fn slice<T: Le>(&mut self, values: &[T]) {
        let at = self.out.len();
        self.out.resize(at + values.len() * T::SIZE, 0);
        for (out, &value) in self.out[at..].chunks_exact_mut(T::SIZE).zip(values) {
            value.put(out);
        }
    }

    /// Appends every value of a column.
    pub(crate) fn column<T: Le>(&mut self, column: &Chunked<T>) {
        for chunk in column.chunks() {
            self.slice(chunk);
        }
    }

    /// Appends how many strings follow (u64), then each string.
    pub(crate) fn strings<'a>(&mut self, strings: impl ExactSizeIterator<Item = &'a str>) {
        self.put(strings.len() as u64);
        for string in strings {
            // Strings come from events, whose JSON records are under 4 GiB.
            self.put(u32::try_from(string.len()).unwrap_or(u32::MAX));
            self.out.extend_from_slice(string.as_bytes());
        }
    }

    /// The file: header (checksum not yet filled in: see [`seal`]) and content.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.end_section();
        let len = (self.out.len() - HEADER_LEN) as u64;
        self.out[16..24].copy_from_slice(&len.to_le_bytes());
        self.out
    }
}

/// Fills in the CRC-32 of an encoded checkpoint's content.
pub(crate) fn seal(file: &mut [u8]) {
    if file.len() >= HEADER_LEN {
        let crc = crc32fast::hash(&file[HEADER_LEN..]);
        file[12..16].copy_from_slice(&crc.to_le_bytes());
    }
}

/// Reads values from a checkpoint's content or one of its sections; every error says what is
/// wrong with the file.
#[derive(Debug)]
pub(crate) struct Decoder<'a> {
    bytes: &'a [u8],
}

/// The content of a checkpoint file, once its magic, version, length and checksum hold.
pub(crate) fn open(file: &[u8]) -> Result<Decoder<'_>, String> {
    let Some((header, content)) = file.split_at_checked(HEADER_LEN) else {
        return Err(format!("the file is shorter than its header ({} bytes)", file.len()));
    };
    if header[..8] != MAGIC {
        return Err("not an index checkpoint (bad magic)".into());
    }
    let mut header = Decoder { bytes: &header[8..] };
    let version: u32 = header.get()?;
    let crc: u32 = header.get()?;
    let len: u64 = header.get()?;
    if version != VERSION {
        return Err(format!("format version {version}; this build reads version {VERSION}"));
    }
    if len != content.len() as u64 {
        return Err(format!(
            "torn: the header declares {len} content bytes, the file holds {}",
            content.len()
        ));
    }
    if crc32fast::hash(content) != crc {
        return Err("checksum mismatch".into());
    }
    Ok(Decoder { bytes: content })
}

impl<'a> Decoder<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        let Some((taken, rest)) = self.bytes.split_at_checked(len) else {
            return Err(format!("{len} bytes expected, {} left", self.bytes.len()));
        };
        self.bytes = rest;
        Ok(taken)
    }

    /// The body of the next section, which must be `tag`.
    pub(crate) fn section(&mut self, tag: [u8; 4]) -> Result<Decoder<'a>, String> {
        let name = String::from_utf8_lossy(&tag).into_owned();
        let found = self.take(4).map_err(|e| format!("section {name} missing: {e}"))?;
        if found != tag {
            return Err(format!(
                "section {name} expected, {} found",
                String::from_utf8_lossy(found)
            ));
        }
        let len: u64 = self.get()?;
        let len = usize::try_from(len).map_err(|_| format!("section {name} too long"))?;
        let bytes = self.take(len).map_err(|e| format!("section {name} cut short: {e}"))?;
        Ok(Decoder { bytes })
    }

    /// The next value.
    pub(crate) fn get<T: Le>(&mut self) -> Result<T, String> {
        self.take(T::SIZE).map(T::get)
    }

    /// A count of things that follow (a u64 that must fit in memory).
    pub(crate) fn count(&mut self) -> Result<usize, String> {
        let count: u64 = self.get()?;
        usize::try_from(count).map_err(|_| format!("a count of {count} does not fit in memory"))
    }

    fn values<T: Le>(&mut self, len: usize) -> Result<&'a [u8], String> {
        let bytes = len
            .checked_mul(T::SIZE)
            .ok_or_else(|| format!("{len} values do not fit in memory"))?;
        self.take(bytes)
    }

    /// The next `len` values.
    pub(crate) fn vec<T: Le>(&mut self, len: usize) -> Result<Vec<T>, String> {
        Ok(self.values::<T>(len)?.chunks_exact(T::SIZE).map(T::get).collect())
    }

    /// The next `len` values as a column.
    pub(crate) fn column<T: Le>(&mut self, len: usize) -> Result<Chunked<T>, String> {
        let bytes = self.values::<T>(len)?;
        Ok(Chunked::from_chunks(bytes.chunks(CHUNK * T::SIZE).map(|chunk| {
            let mut values = Vec::with_capacity(CHUNK);
            values.extend(chunk.chunks_exact(T::SIZE).map(T::get));
            values
        })))
    }

    /// Strings as [`Encoder::strings`] writes them.
    pub(crate) fn strings(&mut self) -> Result<Vec<String>, String> {
        let count = self.count()?;
        // Each string takes at least its 4-byte length: no more can follow.
        let mut strings = Vec::with_capacity(count.min(self.bytes.len() / 4));
        for _ in 0..count {
            let len: u32 = self.get()?;
            let bytes = self.take(len as usize)?;
            let string = std::str::from_utf8(bytes).map_err(|e| format!("a string that is not UTF-8: {e}"))?;
            strings.push(string.to_owned());
        }
        Ok(strings)
    }

    /// Checks that nothing is left.
    pub(crate) fn end(self) -> Result<(), String> {
        match self.bytes.len() {
            0 => Ok(()),
            left => Err(format!("{left} bytes left over")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded() -> Vec<u8> {
        let mut out = Encoder::with_capacity(0);
        out.section(*b"ONE ");
        out.put(7u16);
        out.slice(&[-1i64, 2]);
        out.strings(["é", ""].into_iter());
        out.section(*b"TWO ");
        let column = Chunked::from_chunks([(0..CHUNK as u32).collect(), vec![9, 8]]);
        out.column(&column);
        let mut file = out.finish();
        seal(&mut file);
        file
    }

    #[test]
    fn values_round_trip_through_sections() {
        let file = encoded();
        let mut content = open(&file).unwrap();
        let mut one = content.section(*b"ONE ").unwrap();
        assert_eq!(one.get::<u16>().unwrap(), 7);
        assert_eq!(one.vec::<i64>(2).unwrap(), [-1, 2]);
        assert_eq!(one.strings().unwrap(), ["é", ""]);
        one.end().unwrap();
        let mut two = content.section(*b"TWO ").unwrap();
        let column = two.column::<u32>(CHUNK + 2).unwrap();
        assert_eq!(
            (column.len(), column[CHUNK - 1], column[CHUNK + 1]),
            (CHUNK + 2, CHUNK as u32 - 1, 8)
        );
        two.end().unwrap();
        content.end().unwrap();
    }

    #[test]
    fn damaged_files_are_refused_with_a_reason() {
        let file = encoded();
        let reason = |bytes: &[u8]| open(bytes).unwrap_err();
        assert!(reason(&file[..10]).contains("shorter than its header"));
        assert!(reason(&file[..file.len() - 1]).contains("torn"));
        let mut flipped = file.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(reason(&flipped).contains("checksum"));
        let mut newer = file.clone();
        newer[8] = 2;
        assert!(reason(&newer).contains("version 2"));
        let mut alien = file.clone();
        alien[0] = b'X';
        assert!(reason(&alien).contains("magic"));
        let mut content = open(&file).unwrap();
        assert!(content
            .section(*b"TWO ")
            .unwrap_err()
            .contains("TWO  expected, ONE  found"));
        let mut one = open(&file).unwrap().section(*b"ONE ").unwrap();
        assert!(one.vec::<u64>(100).unwrap_err().contains("bytes expected"));
    }
}
