//! The stored form of an entry, simple enough for the `get` script to check in Lua:
//!
//! ```text
//! <n> <epoch> <gen 1> … <gen n> <len tag 1> … <len tag n>\n<tag 1>…<tag n><value bytes>
//! ```
//!
//! Numbers in decimal (compared as strings with the generations Redis holds); tags by length,
//! so they may hold any byte.

use hive_application::cache::{CacheError, CachedEntry};

/// The blob of `entry` stamped with `stamp` (`[epoch, gen 1, …, gen n]`).
pub(crate) fn encode(stamp: &[u64], entry: &CachedEntry) -> Vec<u8> {
    let mut header = entry.tags.len().to_string();
    for number in stamp.iter().copied().chain(entry.tags.iter().map(|t| t.len() as u64)) {
        header.push(' ');
        header.push_str(&number.to_string());
    }
    header.push('\n');
    let tags: usize = entry.tags.iter().map(String::len).sum();
    let mut blob = Vec::with_capacity(header.len() + tags + entry.bytes.len());
    blob.extend_from_slice(header.as_bytes());
    for tag in entry.tags.iter() {
        blob.extend_from_slice(tag.as_bytes());
    }
    blob.extend_from_slice(&entry.bytes);
    blob
}

/// The entry back from its blob.
pub(crate) fn decode(blob: &[u8]) -> Result<CachedEntry, CacheError> {
    let bad = |why: &str| CacheError::Backend(format!("unreadable cache entry: {why}"));
    let newline = blob.iter().position(|b| *b == b'\n').ok_or_else(|| bad("no header"))?;
    let header = std::str::from_utf8(&blob[..newline]).map_err(|_| bad("header is not text"))?;
    let numbers: Vec<usize> = header
        .split(' ')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| bad("header is not numbers"))?;
    let count = *numbers.first().ok_or_else(|| bad("empty header"))?;
    if numbers.len() != 2 + 2 * count {
        return Err(bad("header length"));
    }
    let mut at = newline + 1;
    let mut tags = Vec::with_capacity(count);
    for len in &numbers[2 + count..] {
        let end = at
            .checked_add(*len)
            .filter(|end| *end <= blob.len())
            .ok_or_else(|| bad("tag length"))?;
        tags.push(String::from_utf8(blob[at..end].to_vec()).map_err(|_| bad("tag is not UTF-8"))?);
        at = end;
    }
    Ok(CachedEntry::new(blob[at..].to_vec(), tags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_with_any_tags_and_bytes() {
        let entry = CachedEntry::new(
            vec![0, b'\n', 255, 32],
            vec!["org:a b\n".to_owned(), String::new(), "é".to_owned()],
        );
        let blob = encode(&[7, 1, 0, 12], &entry);
        assert!(blob.starts_with(b"3 7 1 0 12 8 0 2\n"));
        assert_eq!(decode(&blob).ok(), Some(entry));
        let untagged = CachedEntry::new(b"v".to_vec(), Vec::new());
        assert_eq!(decode(&encode(&[0], &untagged)).ok(), Some(untagged));
        assert!(decode(b"2 0 0\nxx").is_err());
        assert!(decode(b"1 0 0 99\nab").is_err());
    }
}
