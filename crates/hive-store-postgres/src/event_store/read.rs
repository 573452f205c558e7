//! Reading: one stream in chunks, the global log, versions, the head position, an event by id.

use futures::stream::{self, StreamExt, TryStreamExt};
use hive_domain::{EventEnvelope, EventStream};
use uuid::Uuid;

use super::codec::{decode, int};
use super::PostgresEventStore;
use crate::error::PostgresError;

/// Events fetched per query while a stream is read (a stream is never read whole at once).
const STREAM_CHUNK: i64 = 1_000;

fn decode_all(rows: &[tokio_postgres::Row]) -> Result<Vec<EventEnvelope>, PostgresError> {
    rows.iter().map(decode).collect()
}

impl PostgresEventStore {
    /// The committed head of the log: the global row's `last` (an append's update of it is
    /// visible only once the append commits).
    pub(crate) async fn committed_position(&self) -> Result<u64, PostgresError> {
        let rows = self
            .shared
            .query("read the head position", &self.shared.sql.head, &[])
            .await?;
        let last: i64 = match rows.first() {
            Some(row) => row
                .try_get(0)
                .map_err(|e| PostgresError::corrupt("global_position", e))?,
            None => return Err(PostgresError::corrupt("global_position", "the row is missing")),
        };
        u64::try_from(last).map_err(|e| PostgresError::corrupt("global_position", e))
    }

    /// The version of a stream (0 when it has no event).
    pub(crate) async fn version_of(&self, aggregate_id: &str) -> Result<u64, PostgresError> {
        let rows = self
            .shared
            .query(
                "read a stream version",
                &self.shared.sql.stream_version,
                &[&aggregate_id],
            )
            .await?;
        match rows.first() {
            None => Ok(0),
            Some(row) => {
                let version: i64 = row
                    .try_get(0)
                    .map_err(|e| PostgresError::corrupt(format!("stream {aggregate_id}"), e))?;
                u64::try_from(version).map_err(|e| PostgresError::corrupt(format!("stream {aggregate_id}"), e))
            }
        }
    }

    /// The events of a stream from `from_version`, `STREAM_CHUNK` per query, lazily.
    pub(crate) fn stream_from<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> EventStream<'a> {
        let start = Some(int(from_version.max(1)));
        stream::try_unfold(start, move |next| async move {
            let Some(from) = next else {
                return Ok::<_, PostgresError>(None);
            };
            let rows = self
                .shared
                .query(
                    "read a stream",
                    &self.shared.sql.stream_chunk,
                    &[&aggregate_id, &from, &STREAM_CHUNK],
                )
                .await?;
            let chunk = decode_all(&rows)?;
            if chunk.is_empty() {
                return Ok(None);
            }
            let after = (chunk.len() as i64 == STREAM_CHUNK).then(|| from + STREAM_CHUNK);
            Ok(Some((chunk, after)))
        })
        .map_ok(|chunk| stream::iter(chunk.into_iter().map(Ok)))
        .map_err(hive_domain::EventStoreError::from)
        .try_flatten()
        .boxed()
    }

    /// Up to `limit` events of the log after `after`, in position order.
    pub(crate) async fn log_after(&self, after: u64, limit: usize) -> Result<Vec<EventEnvelope>, PostgresError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .shared
            .query(
                "read the global log",
                &self.shared.sql.log_after,
                &[&int(after), &limit],
            )
            .await?;
        decode_all(&rows)
    }

    /// The stored event with id `event_id` (the copy of lowest position, if it was imported twice).
    pub(crate) async fn find_event(&self, event_id: Uuid) -> Result<Option<EventEnvelope>, PostgresError> {
        let rows = self
            .shared
            .query("read an event by id", &self.shared.sql.event_by_id, &[&event_id])
            .await?;
        rows.first().map(decode).transpose()
    }

    /// The stored events of a stream with versions `from..=to`, in order.
    pub(crate) async fn versions_between(
        &self,
        aggregate_id: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<EventEnvelope>, PostgresError> {
        let rows = self
            .shared
            .query(
                "read a stream",
                &self.shared.sql.stream_range,
                &[&aggregate_id, &int(from), &int(to)],
            )
            .await?;
        decode_all(&rows)
    }
}
