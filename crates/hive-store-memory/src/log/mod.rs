//! The append-only record file shared by the durable stores.
//!
//! A file is a sequence of records, each framed as
//!
//! ```text
//! magic   u32 LE  0x4556_4948 ("HIVE" as bytes)
//! length  u32 LE  payload length in bytes
//! crc32   u32 LE  CRC-32 (IEEE) of the payload
//! payload [u8; length]
//! ```
//!
//! [`record`] encodes frames, [`reader`] replays a file (dropping a torn tail, refusing
//! corruption in the middle) and [`writer`] appends groups of frames atomically.

pub(crate) mod fs;
pub(crate) mod reader;
pub(crate) mod record;
pub(crate) mod writer;
