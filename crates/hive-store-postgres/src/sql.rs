//! The statements of the core adapters, their table names qualified with the configured
//! schema once, when the store opens (deadpool caches each prepared statement per connection).

/// The columns of an event, in the order [`crate::event_store::codec::decode`] reads them.
pub(crate) const EVENT_COLUMNS: &str = "global_position, event_id, aggregate_id, aggregate_type, event_type, \
     schema_version, version, recorded_at, correlation_id, causation_id, event_data, metadata";

/// Every fixed statement of the event, snapshot and checkpoint stores.
#[derive(Debug)]
pub(crate) struct Statements {
    /// `events`, qualified: search and analytics build their own statements on it.
    pub(crate) events: String,
    /// The append of a batch opening a new stream, in one statement (see [`append`]).
    pub(crate) append_new: String,
    /// The append of a batch to an existing stream at the expected version, in one statement
    /// (see [`append`]).
    pub(crate) append_next: String,
    pub(crate) stream_version: String,
    pub(crate) stream_chunk: String,
    pub(crate) stream_range: String,
    pub(crate) log_after: String,
    pub(crate) head: String,
    pub(crate) event_by_id: String,
    pub(crate) save_snapshot: String,
    pub(crate) load_snapshot: String,
    pub(crate) save_checkpoint: String,
    pub(crate) load_checkpoint: String,
    pub(crate) list_checkpoints: String,
    pub(crate) record_dead_letter: String,
    pub(crate) dead_letters: String,
    /// Deletes a projection's dead letters at the positions of an `int8[]` (all of them when it
    /// is empty), in one statement.
    pub(crate) remove_dead_letters: String,
}

impl Statements {
    /// The statements on the tables of `schema` (quoted).
    pub(crate) fn new(schema: &str) -> Self {
        let t = |name: &str| format!("{schema}.{name}");
        let (events, streams, position) = (t("events"), t("streams"), t("global_position"));
        let (snapshots, checkpoints, dead_letters) = (t("snapshots"), t("checkpoints"), t("dead_letters"));
        const CHECKPOINT: &str = "projection, position, last_event_id, last_processed_at, last_processed_nanos, \
                                  code_version, updated_at";
        Self {
            append_new: append(
                &format!(
                    "INSERT INTO {streams} (aggregate_id, aggregate_type, version) VALUES ($1, $4, $2::int8 + $3::int8) \
                     ON CONFLICT (aggregate_id) DO NOTHING RETURNING version"
                ),
                &position,
                &events,
            ),
            append_next: append(
                &format!(
                    "UPDATE {streams} SET version = $2::int8 + $3::int8 WHERE aggregate_id = $1 AND version = $2 \
                     RETURNING version"
                ),
                &position,
                &events,
            ),
            stream_version: format!("SELECT version FROM {streams} WHERE aggregate_id = $1"),
            stream_chunk: format!(
                "SELECT {EVENT_COLUMNS} FROM {events} WHERE aggregate_id = $1 AND version >= $2 \
                 ORDER BY version LIMIT $3"
            ),
            stream_range: format!(
                "SELECT {EVENT_COLUMNS} FROM {events} WHERE aggregate_id = $1 AND version BETWEEN $2 AND $3 \
                 ORDER BY version"
            ),
            log_after: format!(
                "SELECT {EVENT_COLUMNS} FROM {events} WHERE global_position > $1 ORDER BY global_position LIMIT $2"
            ),
            head: format!("SELECT last FROM {position}"),
            event_by_id: format!(
                "SELECT {EVENT_COLUMNS} FROM {events} WHERE event_id = $1 ORDER BY global_position LIMIT 1"
            ),
            save_snapshot: format!(
                "INSERT INTO {snapshots} AS s (aggregate_id, aggregate_type, version, state, taken_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (aggregate_id) DO UPDATE SET \
                 aggregate_type = EXCLUDED.aggregate_type, version = EXCLUDED.version, state = EXCLUDED.state, \
                 taken_at = EXCLUDED.taken_at WHERE s.version <= EXCLUDED.version"
            ),
            load_snapshot: format!(
                "SELECT aggregate_id, aggregate_type, version, state, taken_at FROM {snapshots} WHERE aggregate_id = $1"
            ),
            save_checkpoint: format!(
                "INSERT INTO {checkpoints} ({CHECKPOINT}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (projection) DO UPDATE SET position = EXCLUDED.position, \
                 last_event_id = EXCLUDED.last_event_id, last_processed_at = EXCLUDED.last_processed_at, \
                 last_processed_nanos = EXCLUDED.last_processed_nanos, code_version = EXCLUDED.code_version, \
                 updated_at = EXCLUDED.updated_at"
            ),
            load_checkpoint: format!("SELECT {CHECKPOINT} FROM {checkpoints} WHERE projection = $1"),
            list_checkpoints: format!("SELECT {CHECKPOINT} FROM {checkpoints} ORDER BY projection"),
            record_dead_letter: format!(
                "INSERT INTO {dead_letters} (projection, position, event_id, event_type, error, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)"
            ),
            dead_letters: format!(
                "SELECT projection, position, event_id, event_type, error, recorded_at FROM {dead_letters} \
                 WHERE projection = $1 ORDER BY recorded_at, id"
            ),
            remove_dead_letters: format!(
                "DELETE FROM {dead_letters} WHERE projection = $1 \
                 AND (cardinality($2::int8[]) = 0 OR position = ANY($2::int8[]))"
            ),
            events,
        }
    }
}

/// One append as one statement, `moved` the change of the stream's row:
///
/// 1. `moved` moves the stream from the expected version to the batch's last (or opens it);
///    no row when the stream is elsewhere;
/// 2. `taken` takes the batch's global positions only if the stream moved (its condition reads
///    `moved`, so the stream's row is locked first and a stale append never touches the global
///    row); the global row stays locked until the statement's transaction commits;
/// 3. `inserted` writes the batch at those positions, and the statement answers the last
///    position with `pg_notify`, which is delivered only if the transaction commits.
///
/// Run on its own, the statement is its own transaction: the global row is locked from the
/// moment the positions are taken to the commit, within one round trip.
///
/// Parameters: `$1` aggregate id, `$2` expected version, `$3` count, `$4` aggregate type,
/// `$5`…`$13` the event columns (arrays), `$14` the notification channel.
fn append(moved: &str, position: &str, events: &str) -> String {
    format!(
        "WITH moved AS ({moved}), \
         taken AS (UPDATE {position} SET last = last + $3 WHERE EXISTS (SELECT 1 FROM moved) RETURNING last), \
         inserted AS ( \
           INSERT INTO {events} (global_position, event_id, aggregate_id, aggregate_type, event_type, \
             schema_version, version, recorded_at, correlation_id, causation_id, event_data, metadata, \
             search_terms) \
           SELECT taken.last - $3 + e.n, e.id, $1, $4, e.type, e.schema, $2 + e.n, e.at, e.correlation, \
             e.causation, e.data, e.meta, string_to_array(e.terms, ' ') \
           FROM taken, unnest($5::uuid[], $6::text[], $7::int4[], $8::timestamptz[], $9::text[], \
             $10::text[], $11::jsonb[], $12::jsonb[], $13::text[]) \
             WITH ORDINALITY AS e(id, type, schema, at, correlation, causation, data, meta, terms, n)) \
         SELECT last, pg_notify($14, last::text) FROM taken"
    )
}
