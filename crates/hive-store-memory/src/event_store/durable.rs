//! Durable mode: replaying `events.log` on open, the writer thread, closing.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use hive_domain::{validate_append, EventEnvelope, EventStoreError, StoreResult};
use parking_lot::{Mutex, RwLock};
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};

use super::bodies::{Bodies, LogBodies, Placed};
use super::group::{spawn_ticker, AppendRequest, Appended, GroupWriter, WriterRequest};
use super::index::State;
use super::index_checkpoint::{self, Checkpointer};
use super::scrub::{self, Damage};
use super::streams::{random_key, StreamKey};
use super::{Inner, MemoryEventStore};
use crate::log::reader::{replay_from, Rejected};
use crate::log::record::HEADER_LEN;
use crate::log::writer::LogWriter;
use crate::log::{fs, reader::Replay};
use crate::{DurableOptions, EVENT_LOG_FILE};

/// The key of the stream id hash, beside the log (16 bytes, created on first open).
const STREAM_KEY_FILE: &str = "events.key";

/// The store's handle on its writer thread.
pub(crate) struct Durable {
    path: PathBuf,
    tx: Option<mpsc::Sender<WriterRequest>>,
    writer: Option<JoinHandle<()>>,
    broken: Arc<Mutex<Option<String>>>,
    /// Damage the background check found in the records the index checkpoint covered.
    damage: Damage,
}

fn closed() -> EventStoreError {
    EventStoreError::Unavailable("the event store is closed".into())
}

impl Durable {
    /// The log file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Hands a validated batch to the writer and waits until it is durable (or refused).
    pub(crate) async fn append(
        &self,
        expected_version: u64,
        events: Vec<EventEnvelope>,
    ) -> StoreResult<Vec<EventEnvelope>> {
        self.undamaged()?;
        let tx = self.tx.as_ref().ok_or_else(closed)?;
        let (reply, answer) = oneshot::channel();
        let request = AppendRequest {
            expected_version,
            events,
            reply,
        };
        tx.send(WriterRequest::Append(request)).await.map_err(|_| closed())?;
        match answer.await.map_err(|_| closed())?? {
            Appended::Fresh(stored) => Ok(stored.iter().map(|e| EventEnvelope::clone(e)).collect()),
            Appended::Existing(stored) => Ok(stored),
        }
    }

    /// [`EventStoreError::Corrupt`] once the background check found damage in the log.
    fn undamaged(&self) -> StoreResult<()> {
        match self.damage.lock().as_ref() {
            Some(found) => Err(found.clone()),
            None => Ok(()),
        }
    }

    /// Unavailable when closed, a backend error when the writer broke, corrupt when the log
    /// was found damaged.
    pub(crate) fn health(&self) -> StoreResult<()> {
        self.undamaged()?;
        if let Some(why) = self.broken.lock().as_ref() {
            return Err(EventStoreError::Backend(why.clone()));
        }
        match &self.tx {
            Some(tx) if !tx.is_closed() => Ok(()),
            _ => Err(closed()),
        }
    }

    async fn close(&self) -> StoreResult<()> {
        let Some(tx) = &self.tx else {
            return Ok(());
        };
        let (reply, answer) = oneshot::channel();
        if tx.send(WriterRequest::Close(reply)).await.is_err() {
            return Ok(()); // already closed
        }
        answer.await.unwrap_or(Ok(()))
    }
}

impl Drop for Durable {
    fn drop(&mut self) {
        // Closing the channel makes the writer finish the queued appends, sync and stop.
        drop(self.tx.take());
        if let Some(writer) = self.writer.take() {
            if writer.thread().id() != std::thread::current().id() && writer.join().is_err() {
                tracing::error!(file = %self.path.display(), "the event log writer panicked");
            }
        }
    }
}

impl MemoryEventStore {
    /// Opens (creating when missing) a durable store in `dir`: loads the index from
    /// `dir/index.checkpoint` and replays the part of `dir/events.log` after it (all of the
    /// log when the checkpoint is missing or cannot be used, with a warning saying why), then
    /// appends every new batch to the log before acknowledging it. Event bodies stay in the
    /// log and are read on demand, through a cache of [`DurableOptions::body_cache_bytes`].
    /// A new checkpoint is written in the background every
    /// [`DurableOptions::index_checkpoint_every`] events, and on close.
    ///
    /// A torn tail (the last record cut short or damaged by a crash during a write) is cut off
    /// with a warning; damage followed by intact records is refused with
    /// [`EventStoreError::Corrupt`] naming `events.log@<offset>`. The records an index
    /// checkpoint covers are checked in the background once the store is open: damage found
    /// there makes appends and [`EventStore::health`](hive_domain::EventStore::health) answer
    /// that error, and the next open replays the whole log (which refuses it). The log is locked: a second
    /// store on the same directory gets [`EventStoreError::Unavailable`] until this one is
    /// closed or dropped.
    pub async fn open(dir: impl AsRef<Path>, options: DurableOptions) -> Result<Self, EventStoreError> {
        let dir = dir.as_ref().to_path_buf();
        let cache_bytes = options.body_cache_bytes;
        let started = Instant::now();
        let opened = {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || load(&dir, cache_bytes))
                .await
                .map_err(|e| EventStoreError::Backend(format!("replaying the event log failed: {e}")))??
        };
        let Opened {
            state,
            log,
            path,
            checkpoint_events,
            covered_len,
            replayed,
        } = opened;
        tracing::info!(
            file = %path.display(),
            events = state.head(),
            from_checkpoint = checkpoint_events,
            records_replayed = replayed.records,
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "event store opened"
        );
        let damage = Damage::default();
        if covered_len > 0 {
            // A handle of its own: the check seeks, and must not move the writer's offset.
            match File::open(&path) {
                Ok(handle) => scrub::spawn(handle, covered_len, &dir, Arc::clone(&damage)),
                Err(error) => tracing::warn!(file = %path.display(), %error, "cannot check the event log"),
            }
        }
        let state = Arc::new(RwLock::new(state));
        let checkpoints = match log.try_clone() {
            Ok(handle) => Checkpointer::start(&dir, options.index_checkpoint_every, checkpoint_events, move || {
                handle.sync_data()
            }),
            Err(error) => {
                tracing::warn!(file = %path.display(), %error, "no second handle on the event log; no index checkpoints");
                None
            }
        };
        let writer = GroupWriter::new(
            Arc::clone(&state),
            LogWriter::new(log, path.display().to_string(), replayed.len),
            options.fsync,
            options.max_group_requests,
        )
        .with_checkpoints(checkpoints);
        let broken = Arc::clone(&writer.broken);
        let (tx, rx) = mpsc::channel(options.queue_capacity.max(1));
        let wake = tx.downgrade();
        let spawn_error = |e: std::io::Error| EventStoreError::Backend(format!("cannot start the log writer: {e}"));
        let handle = std::thread::Builder::new()
            .name("hive-event-log-writer".into())
            .spawn(move || writer.run(rx, wake))
            .map_err(spawn_error)?;
        if let Some(period) = options.fsync.period() {
            spawn_ticker(&tx, period).map_err(spawn_error)?;
        }
        Ok(Self {
            inner: Arc::new(Inner {
                state,
                durable: Some(Durable {
                    path,
                    tx: Some(tx),
                    writer: Some(handle),
                    broken,
                    damage,
                }),
            }),
        })
    }

    /// Finishes the queued appends, syncs the log, writes an index checkpoint when events came
    /// since the last one, and stops the writer. Later appends fail with
    /// [`EventStoreError::Unavailable`]; reads keep working. A no-op for an in-memory store.
    pub async fn close(&self) -> StoreResult<()> {
        match &self.inner.durable {
            Some(durable) => durable.close().await,
            None => Ok(()),
        }
    }
}

/// A durable store's state as opened: from the checkpoint (if one was used) and the log.
struct Opened {
    state: State,
    log: File,
    path: PathBuf,
    /// The events of the checkpoint opened from (0 when the whole log was replayed).
    checkpoint_events: u64,
    /// The bytes of the log that checkpoint covers, not read on open (0 when none).
    covered_len: u64,
    /// What replaying the log after the checkpoint (or all of it) found.
    replayed: Replay,
}

/// Opens and locks the log of `dir`, loads the index checkpoint when it can be used and
/// replays the log after it (or all of it), keeping bodies in the log behind a cache of
/// `cache_bytes`.
fn load(dir: &Path, cache_bytes: u64) -> StoreResult<Opened> {
    fs::ensure_dir(dir)?;
    let path = dir.join(EVENT_LOG_FILE);
    let mut file = fs::open_locked_log(&path)?;
    let key = stream_key(dir)?;
    let bodies = || -> StoreResult<LogBodies> {
        let reader = File::open(&path).map_err(|e| fs::io_error("open", &path, &e))?;
        Ok(LogBodies::new(reader, EVENT_LOG_FILE, cache_bytes))
    };
    let (mut state, covered) = match index_checkpoint::load(dir, &file, key, bodies()?) {
        Some(loaded) => (loaded.state, Some(loaded.covered)),
        None => (State::new(Bodies::Log(bodies()?), key), None),
    };
    let start = covered.map_or(0, |c| c.log_len);
    let replayed = replay_from(&mut file, &path, start, |offset, payload| {
        let (events, starts) = decode_batch(offset, payload).map_err(Rejected::Undecodable)?;
        check_batch(&state, &events).map_err(Rejected::Inconsistent)?;
        let events: Vec<Arc<EventEnvelope>> = events.into_iter().map(Arc::new).collect();
        let placed = Placed {
            starts: &starts,
            record: offset,
            end: offset + (HEADER_LEN + payload.len()) as u64,
            cache: false,
        };
        state
            .index_batch(&events, placed)
            .map_err(|e| Rejected::Inconsistent(e.to_string()))
    })?;
    Ok(Opened {
        state,
        log: file,
        path,
        checkpoint_events: covered.map_or(0, |c| c.events),
        covered_len: start,
        replayed,
    })
}

/// The events of the record at `offset` holding `payload`, and the file offset of each
/// event's JSON.
fn decode_batch(offset: u64, payload: &[u8]) -> Result<(Vec<EventEnvelope>, Vec<u64>), String> {
    let raw: Vec<&RawValue> = serde_json::from_slice(payload).map_err(|e| format!("bad JSON: {e}"))?;
    let first_byte = offset + HEADER_LEN as u64;
    let mut events = Vec::with_capacity(raw.len());
    let mut starts = Vec::with_capacity(raw.len());
    for value in raw {
        let event: EventEnvelope = serde_json::from_str(value.get()).map_err(|e| format!("bad event: {e}"))?;
        starts.push(first_byte + (value.get().as_ptr().addr() - payload.as_ptr().addr()) as u64);
        events.push(event);
    }
    Ok((events, starts))
}

/// The stream hash key of `dir`: read from its key file, or made and written there.
fn stream_key(dir: &Path) -> StoreResult<StreamKey> {
    let path = dir.join(STREAM_KEY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => {
            if let Ok(key) = StreamKey::try_from(bytes.as_slice()) {
                return Ok(key);
            }
            // The index checkpoint, made with the old key, is then not used (it says which key).
            tracing::warn!(file = %path.display(), "stream key file damaged; making a new key");
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fs::io_error("read", &path, &e)),
    }
    let key = random_key();
    fs::write_atomically(&path, &key, true)?;
    Ok(key)
}

/// Why a replayed batch cannot follow the state, if so.
fn check_batch(state: &State, events: &[EventEnvelope]) -> Result<(), String> {
    let first = events.first().ok_or("empty batch")?;
    let expected = first.version.checked_sub(1).ok_or("event version 0")?;
    validate_append(&first.aggregate_id, expected, events).map_err(|e| e.to_string())?;
    let actual = state.stream_version(&first.aggregate_id);
    if actual != expected {
        return Err(format!(
            "batch of stream `{}` starts at version {}, but the stream is at version {actual}",
            first.aggregate_id, first.version
        ));
    }
    for (event, position) in events.iter().zip(state.head() + 1..) {
        if event.global_position != Some(position) {
            return Err(format!(
                "event {} has global position {:?}, expected {position}",
                event.event_id, event.global_position
            ));
        }
        if state.contains_id(&event.event_id).map_err(|e| e.to_string())? {
            return Err(format!("event id {} is stored twice", event.event_id));
        }
    }
    Ok(())
}
