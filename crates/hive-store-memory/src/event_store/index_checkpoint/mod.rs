//! Index checkpoints of a durable event store: its whole in-memory index written to
//! `index.checkpoint` now and then, so that opening reads it and replays only the part of
//! `events.log` after it.
//!
//! The writer thread decides when (every [`DurableOptions::index_checkpoint_every`] events,
//! and when the store stops) and encodes the state under its read lock; the checkpoint thread
//! syncs the log (so that a checkpoint covers only synced bytes), seals the checkpoint with a
//! CRC-32 and replaces the file atomically. On open, a checkpoint that is missing, damaged,
//! of another format version or stream key, or that does not match the start of the log is
//! not used: a warning says why and the whole log is replayed.
//!
//! [`DurableOptions::index_checkpoint_every`]: crate::DurableOptions::index_checkpoint_every

mod decode;
mod encode;
pub(crate) mod format;
mod open;
mod writer;

pub(crate) use encode::encode;
pub(crate) use open::load;
pub(crate) use writer::Checkpointer;

#[cfg(test)]
mod tests;
