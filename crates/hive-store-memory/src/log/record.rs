//! Framing of one record: magic, length, CRC-32, payload.

use hive_domain::EventStoreError;

/// The first four bytes of every record (`HIVE`).
pub(crate) const MAGIC: [u8; 4] = *b"HIVE";
/// Size of the frame header: magic, length, checksum.
pub(crate) const HEADER_LEN: usize = 12;

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// Payload length in bytes.
    pub(crate) len: u32,
    /// CRC-32 of the payload.
    pub(crate) crc: u32,
}

impl Header {
    /// Parses a header; `None` when the magic is wrong.
    pub(crate) fn parse(bytes: &[u8; HEADER_LEN]) -> Option<Self> {
        if bytes[0..4] != MAGIC {
            return None;
        }
        let len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        let crc = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        Some(Self { len, crc })
    }

    /// True when `payload` has this header's checksum.
    pub(crate) fn checks(&self, payload: &[u8]) -> bool {
        crc32fast::hash(payload) == self.crc
    }
}

/// Starts a record at the end of `buf`: reserves the header and returns where it starts.
/// Write the payload after it, then call [`finish`].
pub(crate) fn begin(buf: &mut Vec<u8>) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&[0; HEADER_LEN]);
    start
}

/// Completes the record begun at `start`: fills in magic, length and checksum of everything
/// written after the header. On error, `buf` is cut back to `start`.
pub(crate) fn finish(buf: &mut Vec<u8>, start: usize) -> Result<(), EventStoreError> {
    let payload = &buf[start + HEADER_LEN..];
    let Ok(len) = u32::try_from(payload.len()) else {
        let size = payload.len();
        buf.truncate(start);
        return Err(EventStoreError::InvalidBatch(format!(
            "record of {size} bytes exceeds the 4 GiB record limit; append smaller batches"
        )));
    };
    let crc = crc32fast::hash(payload);
    buf[start..start + 4].copy_from_slice(&MAGIC);
    buf[start + 4..start + 8].copy_from_slice(&len.to_le_bytes());
    buf[start + 8..start + HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// Appends one complete record holding `payload` to `buf`.
#[cfg(test)]
pub(crate) fn encode(buf: &mut Vec<u8>, payload: &[u8]) -> Result<(), EventStoreError> {
    let start = begin(buf);
    buf.extend_from_slice(payload);
    finish(buf, start)
}

/// Appends one record holding the JSON of `value` to `buf`.
pub(crate) fn encode_json<T: serde::Serialize + ?Sized>(buf: &mut Vec<u8>, value: &T) -> Result<(), EventStoreError> {
    let start = begin(buf);
    if let Err(e) = serde_json::to_writer(&mut *buf, value) {
        buf.truncate(start);
        return Err(EventStoreError::Backend(format!("cannot encode record: {e}")));
    }
    finish(buf, start)
}

/// Appends one record holding the JSON array of `items` to `buf`, written element by element
/// (`[`, `e1`, `,`, `e2`, `]`: the bytes `serde_json::to_writer` writes for the array).
/// Returns where each element starts in `buf`; on error `buf` is cut back.
pub(crate) fn encode_json_array<'a, T: serde::Serialize + 'a>(
    buf: &mut Vec<u8>,
    items: impl IntoIterator<Item = &'a T>,
) -> Result<Vec<usize>, EventStoreError> {
    let start = begin(buf);
    buf.push(b'[');
    let mut starts = Vec::new();
    for item in items {
        if !starts.is_empty() {
            buf.push(b',');
        }
        starts.push(buf.len());
        if let Err(e) = serde_json::to_writer(&mut *buf, item) {
            buf.truncate(start);
            return Err(EventStoreError::Backend(format!("cannot encode record: {e}")));
        }
    }
    buf.push(b']');
    finish(buf, start)?;
    Ok(starts)
}

/// Whether `bytes` starts with a complete, checksum-valid record; returns its total length.
pub(crate) fn valid_frame_at(bytes: &[u8]) -> Option<usize> {
    let header: &[u8; HEADER_LEN] = bytes.get(..HEADER_LEN)?.try_into().ok()?;
    let header = Header::parse(header)?;
    let end = HEADER_LEN.checked_add(usize::try_from(header.len).ok()?)?;
    let payload = bytes.get(HEADER_LEN..end)?;
    header.checks(payload).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips() {
        let mut buf = vec![1, 2, 3];
        encode(&mut buf, b"hello").unwrap();
        assert_eq!(&buf[3..7], b"HIVE");
        assert_eq!(valid_frame_at(&buf[3..]), Some(HEADER_LEN + 5));
        let header = Header::parse(buf[3..15].try_into().unwrap()).unwrap();
        assert_eq!(header.len, 5);
        assert!(header.checks(b"hello"));
        assert!(!header.checks(b"hellO"));
    }

    #[test]
    fn arrays_are_encoded_as_serde_json_encodes_them() {
        let items = [
            serde_json::json!({"a": [1, 2]}),
            serde_json::json!("x"),
            serde_json::json!(null),
        ];
        for count in 0..=items.len() {
            let mut whole = vec![7];
            encode_json(&mut whole, &items[..count]).unwrap();
            let mut by_element = vec![7];
            let starts = encode_json_array(&mut by_element, &items[..count]).unwrap();
            assert_eq!(by_element, whole, "{count} items");
            for (at, item) in starts.iter().zip(&items) {
                let mut read =
                    serde_json::Deserializer::from_slice(&by_element[*at..]).into_iter::<serde_json::Value>();
                assert_eq!(read.next().unwrap().unwrap(), *item);
            }
        }
    }

    #[test]
    fn damaged_frames_are_not_valid() {
        let mut buf = Vec::new();
        encode_json(&mut buf, &serde_json::json!({"a": 1})).unwrap();
        assert!(valid_frame_at(&buf[..buf.len() - 1]).is_none());
        let last = buf.len() - 1;
        buf[last] ^= 0xff;
        assert!(valid_frame_at(&buf).is_none());
        assert!(valid_frame_at(b"HIV").is_none());
        assert!(Header::parse(&[0; HEADER_LEN]).is_none());
    }
}
