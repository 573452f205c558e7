-- Hive's core tables: the events, the global position, the streams' versions, snapshots,
-- projection checkpoints and dead letters. Applied with `search_path` set to the configured
-- schema, so no name here is qualified.

-- The last global position handed out: one row, updated by every append inside its
-- transaction (`UPDATE global_position SET last = last + n RETURNING last`). Its row lock is
-- held until the append commits, so positions become visible in commit order (ADR 0009).
CREATE TABLE global_position (
    id   BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    last BIGINT  NOT NULL CHECK (last >= 0)
);
INSERT INTO global_position (id, last) VALUES (TRUE, 0);

-- One row per stream: its current version. An append updates it from the expected version
-- (or inserts it at version 0) before it takes a global position, so a stale append is
-- refused without touching the global row, and writers of one stream queue on its row.
CREATE TABLE streams (
    aggregate_id   TEXT   PRIMARY KEY,
    aggregate_type TEXT   NOT NULL,
    version        BIGINT NOT NULL CHECK (version > 0)
);

-- The events. `global_position` is the primary key; `(aggregate_id, version)` is unique.
-- `recorded_at` is the envelope's timestamp, kept to the millisecond.
CREATE TABLE events (
    global_position BIGINT      PRIMARY KEY CHECK (global_position > 0),
    event_id        UUID        NOT NULL,
    aggregate_id    TEXT        NOT NULL,
    aggregate_type  TEXT        NOT NULL,
    event_type      TEXT        NOT NULL,
    schema_version  INTEGER     NOT NULL,
    version         BIGINT      NOT NULL CHECK (version > 0),
    recorded_at     TIMESTAMPTZ NOT NULL,
    correlation_id  TEXT        NOT NULL,
    causation_id    TEXT        NOT NULL,
    event_data      JSONB       NOT NULL,
    metadata        JSONB       NOT NULL,
    -- The distinct lower-cased words of `event_data` and `metadata` (hive_domain::words of
    -- hive_domain::searchable_text): whole-word text look-ups with `@>`.
    search_terms    TEXT[]      NOT NULL,
    CONSTRAINT events_stream_version UNIQUE (aggregate_id, version)
);
-- `event_by_id`. Not unique: an import made twice may hold copies; the look-up answers the
-- copy of lowest position.
CREATE INDEX events_event_id ON events (event_id);
CREATE INDEX events_type_time ON events (event_type, recorded_at, global_position);
CREATE INDEX events_aggregate_type_time ON events (aggregate_type, recorded_at, global_position);
CREATE INDEX events_correlation_time ON events (correlation_id, recorded_at, global_position);
CREATE INDEX events_time ON events (recorded_at, global_position);
CREATE INDEX events_organization_time ON events ((metadata ->> 'organizationId'), recorded_at, global_position);
CREATE INDEX events_search_terms ON events USING GIN (search_terms);

-- The latest snapshot of each aggregate: a newer one replaces it, an older one is ignored.
CREATE TABLE snapshots (
    aggregate_id   TEXT        PRIMARY KEY,
    aggregate_type TEXT        NOT NULL,
    version        BIGINT      NOT NULL CHECK (version >= 0),
    state          JSONB       NOT NULL,
    taken_at       TIMESTAMPTZ NOT NULL
);

-- One checkpoint per projection. PostgreSQL keeps microseconds: the timestamp of the last
-- event applied keeps its nanoseconds within the second in `last_processed_nanos` (a
-- projection may compare it with the event's own).
CREATE TABLE checkpoints (
    projection              TEXT        PRIMARY KEY,
    position                BIGINT      NOT NULL CHECK (position >= 0),
    last_event_id           UUID,
    last_processed_at       TIMESTAMPTZ,
    last_processed_nanos    INTEGER,
    code_version            BIGINT      NOT NULL DEFAULT 0,
    updated_at              TIMESTAMPTZ NOT NULL
);

-- The events projections could not apply.
CREATE TABLE dead_letters (
    id          BIGSERIAL   PRIMARY KEY,
    projection  TEXT        NOT NULL,
    position    BIGINT      NOT NULL,
    event_id    UUID        NOT NULL,
    event_type  TEXT        NOT NULL,
    error       TEXT        NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX dead_letters_projection ON dead_letters (projection, recorded_at, id);
