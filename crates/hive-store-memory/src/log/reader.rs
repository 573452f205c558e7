//! Replaying a record file: every intact record in order, a torn tail cut off, corruption in
//! the middle refused.

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::path::Path;

use hive_domain::EventStoreError;

use super::record::{valid_frame_at, Header, HEADER_LEN, MAGIC};

/// Why a consumer rejected a record's payload.
#[derive(Debug)]
pub(crate) enum Rejected {
    /// The payload cannot be decoded (bad JSON): on the last record this is a torn tail.
    Undecodable(String),
    /// The payload decodes but contradicts the records before it: always corruption.
    Inconsistent(String),
}

/// What replaying a file found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Replay {
    /// How many records were handed to the consumer.
    pub(crate) records: u64,
    /// The length of the file after replay (torn tail removed).
    pub(crate) len: u64,
    /// Bytes of torn tail cut off (0 when the file was clean).
    pub(crate) dropped: u64,
}

/// Replays every record of `file` (named `name` in errors and logs) into `consume`, which gets
/// the record's offset and payload.
///
/// A record that cannot be read (truncated header, declared length past the end, wrong magic,
/// checksum mismatch, or a payload `consume` finds undecodable) ends the good part of the file.
/// When no intact record follows it, it is a torn tail from an interrupted write: the file is
/// truncated there and a warning logged. When an intact record follows, the file is corrupt in
/// the middle and [`EventStoreError::Corrupt`] names the bad record (`name@offset`).
pub(crate) fn replay(
    file: &mut File,
    path: &Path,
    consume: impl FnMut(u64, &[u8]) -> Result<(), Rejected>,
) -> Result<Replay, EventStoreError> {
    replay_from(file, path, 0, consume)
}

/// Replays the records of `file` from offset `start` (where a record starts, at most the
/// file's length) on, as [`replay`] does from its start: the records before `start` are
/// taken as read, and only a record from `start` on can be a torn tail or corrupt.
pub(crate) fn replay_from(
    file: &mut File,
    path: &Path,
    start: u64,
    mut consume: impl FnMut(u64, &[u8]) -> Result<(), Rejected>,
) -> Result<Replay, EventStoreError> {
    let name = path
        .file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let io = |e: std::io::Error| super::fs::io_error("read", path, &e);
    let file_len = file.metadata().map_err(io)?.len();
    let mut offset = start.min(file_len);
    file.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut reader = BufReader::with_capacity(1 << 20, &*file);
    let mut records = 0u64;
    let mut payload = Vec::new();
    let bad = loop {
        if offset == file_len {
            return Ok(Replay {
                records,
                len: file_len,
                dropped: 0,
            });
        }
        if let Err(reason) = read_frame(&mut reader, offset, file_len, &mut payload).map_err(io)? {
            break reason;
        }
        match consume(offset, &payload) {
            Ok(()) => {}
            Err(Rejected::Undecodable(reason)) => break reason,
            Err(Rejected::Inconsistent(reason)) => return Err(corrupt(&name, offset, reason)),
        }
        records += 1;
        offset += (HEADER_LEN + payload.len()) as u64;
    };
    drop(reader);
    if let Some(next) = next_valid_frame(file, offset + 1).map_err(io)? {
        return Err(corrupt(
            &name,
            offset,
            format!("{bad}, and an intact record follows at offset {next}: the file is damaged in the middle; restore it from a backup"),
        ));
    }
    let dropped = file_len - offset;
    file.set_len(offset)
        .map_err(|e| super::fs::io_error("truncate", path, &e))?;
    file.sync_all().map_err(|e| super::fs::io_error("sync", path, &e))?;
    tracing::warn!(
        file = %path.display(),
        offset,
        bytes_dropped = dropped,
        reason = %bad,
        "dropped a torn tail (an interrupted write) from the log"
    );
    Ok(Replay {
        records,
        len: offset,
        dropped,
    })
}

/// Checks that the first `end` bytes of `file` are whole, intact records (magic, length and
/// checksum; payloads are hashed where they are read, not decoded). `Ok(Err((offset, reason)))`
/// names the first record that is not, or a record running past `end`.
pub(crate) fn verify_frames(file: &File, end: u64) -> std::io::Result<Result<(), (u64, String)>> {
    let mut file = file;
    file.seek(SeekFrom::Start(0))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut offset = 0u64;
    while offset < end {
        let available = end - offset;
        if available < HEADER_LEN as u64 {
            return Ok(Err((offset, format!("truncated record header ({available} bytes)"))));
        }
        let mut header = [0u8; HEADER_LEN];
        reader.read_exact(&mut header)?;
        let Some(header) = Header::parse(&header) else {
            return Ok(Err((offset, "bad record magic".to_owned())));
        };
        let record_end = offset + HEADER_LEN as u64 + u64::from(header.len);
        if record_end > end {
            let reason = format!("record declares {} payload bytes, past the end", header.len);
            return Ok(Err((offset, reason)));
        }
        let mut crc = crc32fast::Hasher::new();
        let mut left = header.len as usize;
        while left > 0 {
            let buffered = reader.fill_buf()?;
            if buffered.is_empty() {
                return Ok(Err((offset, "file shrank while reading".to_owned())));
            }
            let taken = buffered.len().min(left);
            crc.update(&buffered[..taken]);
            reader.consume(taken);
            left -= taken;
        }
        if crc.finalize() != header.crc {
            return Ok(Err((offset, "checksum mismatch".to_owned())));
        }
        offset = record_end;
    }
    Ok(Ok(()))
}

fn corrupt(name: &str, offset: u64, reason: String) -> EventStoreError {
    EventStoreError::Corrupt {
        record: format!("{name}@{offset}"),
        reason,
    }
}

/// Reads the frame at `offset` into `payload`: `Ok(Err(reason))` when it is not intact.
fn read_frame(
    reader: &mut impl Read,
    offset: u64,
    file_len: u64,
    payload: &mut Vec<u8>,
) -> std::io::Result<Result<(), String>> {
    let mut header = [0u8; HEADER_LEN];
    let available = file_len - offset;
    if available < HEADER_LEN as u64 {
        return Ok(Err(format!("truncated record header ({available} bytes)")));
    }
    reader.read_exact(&mut header)?;
    let Some(header) = Header::parse(&header) else {
        return Ok(Err("bad record magic".to_owned()));
    };
    let end = offset + HEADER_LEN as u64 + u64::from(header.len);
    if end > file_len {
        return Ok(Err(format!(
            "record declares {} payload bytes, past the end of the file",
            header.len
        )));
    }
    payload.clear();
    payload.resize(header.len as usize, 0);
    match reader.read_exact(payload) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(Err("file shrank while reading".to_owned())),
        Err(e) => return Err(e),
    }
    if !header.checks(payload) {
        return Ok(Err("checksum mismatch".to_owned()));
    }
    Ok(Ok(()))
}

/// The offset of the first intact frame at or after `from`, if any.
fn next_valid_frame(file: &mut File, from: u64) -> std::io::Result<Option<u64>> {
    file.seek(SeekFrom::Start(from))?;
    let mut rest = Vec::new();
    file.read_to_end(&mut rest)?;
    let mut at = 0;
    while let Some(found) = find_magic(&rest[at..]) {
        let candidate = at + found;
        if valid_frame_at(&rest[candidate..]).is_some() {
            return Ok(Some(from + candidate as u64));
        }
        at = candidate + 1;
    }
    Ok(None)
}

fn find_magic(bytes: &[u8]) -> Option<usize> {
    bytes.windows(MAGIC.len()).position(|w| w == MAGIC)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::super::record::encode;
    use super::*;

    fn file_with(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf, File) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.log");
        std::fs::write(&path, bytes).unwrap();
        let file = std::fs::OpenOptions::new().read(true).append(true).open(&path).unwrap();
        (dir, path, file)
    }

    fn collect(file: &mut File, path: &Path) -> Result<(Vec<Vec<u8>>, Replay), EventStoreError> {
        let mut seen = Vec::new();
        let replay = replay(file, path, |_, p| {
            if p == b"undecodable" {
                return Err(Rejected::Undecodable("nope".into()));
            }
            seen.push(p.to_vec());
            Ok(())
        })?;
        Ok((seen, replay))
    }

    fn records(payloads: &[&[u8]]) -> Vec<u8> {
        let mut buf = Vec::new();
        for p in payloads {
            encode(&mut buf, p).unwrap();
        }
        buf
    }

    #[test]
    fn a_clean_file_replays_whole() {
        let bytes = records(&[b"a", b"bb"]);
        let (_d, path, mut file) = file_with(&bytes);
        let (seen, replay) = collect(&mut file, &path).unwrap();
        assert_eq!(seen, vec![b"a".to_vec(), b"bb".to_vec()]);
        assert_eq!(replay.dropped, 0);
        assert_eq!(replay.len, bytes.len() as u64);
    }

    #[test]
    fn a_torn_tail_is_cut_off() {
        let full = records(&[b"a", b"bb", b"ccc"]);
        let good = records(&[b"a", b"bb"]).len();
        for cut in good + 1..full.len() {
            let (_d, path, mut file) = file_with(&full[..cut]);
            let (seen, replay) = collect(&mut file, &path).unwrap();
            assert_eq!(seen.len(), 2, "cut at {cut}");
            assert_eq!(replay.len, good as u64);
            assert_eq!(file.metadata().unwrap().len(), good as u64);
            file.write_all(b"x").unwrap();
        }
    }

    #[test]
    fn a_replay_from_a_record_sees_only_the_ones_after_it() {
        let mut bytes = records(&[b"a", b"bb", b"ccc"]);
        let second = records(&[b"a"]).len();
        bytes[1] ^= 0xff; // before the start: never read
        let torn = bytes.len() - 1;
        let (_d, path, mut file) = file_with(&bytes[..torn]);
        let mut seen = Vec::new();
        let replay = replay_from(&mut file, &path, second as u64, |offset, p| {
            seen.push((offset, p.to_vec()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, [(second as u64, b"bb".to_vec())]);
        assert_eq!((replay.records, replay.len), (1, records(&[b"a", b"bb"]).len() as u64));
        assert!(replay.dropped > 0, "the cut third record is a torn tail");
    }

    #[test]
    fn frames_are_verified_up_to_an_end() {
        let mut bytes = records(&[b"a", b"bb", b"ccc"]);
        let two = records(&[b"a", b"bb"]).len() as u64;
        let (_d, _path, file) = file_with(&bytes);
        assert_eq!(verify_frames(&file, two).unwrap(), Ok(()));
        assert_eq!(verify_frames(&file, bytes.len() as u64).unwrap(), Ok(()));
        let (offset, reason) = verify_frames(&file, two - 1).unwrap().unwrap_err();
        assert_eq!(offset, records(&[b"a"]).len() as u64);
        assert!(reason.contains("past the end"), "{reason}");
        bytes[HEADER_LEN] ^= 0x01;
        let (_d, _path, file) = file_with(&bytes);
        assert_eq!(
            verify_frames(&file, two).unwrap(),
            Err((0, "checksum mismatch".to_owned()))
        );
    }

    #[test]
    fn an_undecodable_last_record_is_a_torn_tail() {
        let bytes = records(&[b"a", b"undecodable"]);
        let (_d, path, mut file) = file_with(&bytes);
        let (seen, replay) = collect(&mut file, &path).unwrap();
        assert_eq!(seen.len(), 1);
        assert!(replay.dropped > 0);
    }

    #[test]
    fn damage_before_an_intact_record_is_corruption() {
        let mut bytes = records(&[b"a", b"bb", b"ccc"]);
        let second = records(&[b"a"]).len();
        bytes[second + HEADER_LEN] ^= 0x01;
        let (_d, path, mut file) = file_with(&bytes);
        match collect(&mut file, &path) {
            Err(EventStoreError::Corrupt { record, .. }) => assert_eq!(record, format!("t.log@{second}")),
            other => panic!("expected corruption, got {other:?}"),
        }
        assert_eq!(file.metadata().unwrap().len(), bytes.len() as u64, "nothing truncated");
    }

    #[test]
    fn an_inconsistent_record_is_corruption() {
        let bytes = records(&[b"a"]);
        let (_d, path, mut file) = file_with(&bytes);
        let err = replay(&mut file, &path, |_, _| Err(Rejected::Inconsistent("gap".into()))).unwrap_err();
        assert!(matches!(err, EventStoreError::Corrupt { .. }));
    }
}
