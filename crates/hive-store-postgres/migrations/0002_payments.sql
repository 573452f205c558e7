-- The payment read model of the `billing` feature (hive_store_postgres::billing): one row per
-- payment, keyed by its PaymentKey (`{organizationId}/{paymentId}`). `view` holds the whole
-- PaymentView as JSON (it reads back exactly, instants to the nanosecond); the columns beside
-- it are what is filtered, sorted and aggregated. Texts compare as bytes (`COLLATE "C"`), the
-- order of Rust strings, so keyset paging and the listing's tie-break match the reference.
-- Instants are TIMESTAMPTZ truncated (floor) to the microsecond, with the nanoseconds below it
-- (0 to 999) in the `*_nanos` column: `(at, nanos)` compares as the exact instant.
CREATE TABLE payments (
    payment_key      TEXT COLLATE "C" PRIMARY KEY,
    organization_id  TEXT COLLATE "C" NOT NULL,
    payment_id       TEXT COLLATE "C" NOT NULL,
    status           TEXT             NOT NULL,
    currency         TEXT COLLATE "C" NOT NULL,
    -- Exact: the payment's amount at its currency's scale (ADR 0001), never a float.
    amount           NUMERIC          NOT NULL,
    created_at       TIMESTAMPTZ      NOT NULL,
    -- NULL while the payment was never processed; `processed_nanos` is then 0.
    processed_at     TIMESTAMPTZ,
    processed_nanos  SMALLINT         NOT NULL CHECK (processed_nanos BETWEEN 0 AND 999),
    -- PaymentView::statistics_at: `processed_at`, else `created_at`.
    statistics_at    TIMESTAMPTZ      NOT NULL,
    statistics_nanos SMALLINT         NOT NULL CHECK (statistics_nanos BETWEEN 0 AND 999),
    updated_at       TIMESTAMPTZ      NOT NULL,
    -- The global position of the last event applied: an upsert at a smaller one is refused.
    position         BIGINT           NOT NULL CHECK (position >= 0),
    view             JSONB            NOT NULL
);

-- list_keys of one organization (keyset on the key).
CREATE INDEX payments_organization_key ON payments (organization_id, payment_key);

-- list_by_organization: processedAt descending (never processed last), then paymentId.
CREATE INDEX payments_organization_listing
    ON payments (organization_id, processed_at DESC NULLS LAST, processed_nanos DESC, payment_id);

-- statistics and trends: the organization's payments in a statistics_at range, with what is
-- grouped and summed (an index-only scan when the visibility map allows).
CREATE INDEX payments_organization_statistics
    ON payments (organization_id, statistics_at, statistics_nanos) INCLUDE (status, currency, amount);
