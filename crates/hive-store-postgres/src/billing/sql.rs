//! The fixed statements of the payment read model, on the store's schema.

/// The columns a record is written to, in the order of [`super::codec::Columns`]' arrays.
const COLUMNS: &str = "payment_key, organization_id, payment_id, status, currency, amount, created_at, \
                       processed_at, processed_nanos, statistics_at, statistics_nanos, updated_at, position, view";

/// The statements, their table name qualified once.
#[derive(Debug)]
pub(super) struct PaymentStatements {
    /// `payments`, qualified: the statements with optional filters are built on it.
    pub(super) table: String,
    /// Upserts a batch of distinct keys given as 14 arrays; a stored row with a greater
    /// position is left alone (and not counted).
    pub(super) upsert: String,
    /// The view and position of a key.
    pub(super) get: String,
    /// Key, view and position of the keys of an array.
    pub(super) get_many: String,
    /// The organization's number of payments, and one page of them in `organization_order`
    /// (`total, view, position`; one row of `total` and `NULL`s when the page is empty).
    pub(super) page: String,
    /// Deletes every row.
    pub(super) reset: String,
}

impl PaymentStatements {
    /// The statements on `schema` (quoted).
    pub(super) fn new(schema: &str) -> Self {
        let table = format!("{schema}.payments");
        Self {
            upsert: format!(
                "INSERT INTO {table} AS p ({COLUMNS}) \
                 SELECT r.k, r.o, r.i, r.s, r.c, r.a::numeric, r.ca, r.pa, r.pn, r.sa, r.sn, r.ua, r.pos, r.v \
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                   $7::timestamptz[], $8::timestamptz[], $9::int2[], $10::timestamptz[], $11::int2[], \
                   $12::timestamptz[], $13::int8[], $14::jsonb[]) \
                   AS r(k, o, i, s, c, a, ca, pa, pn, sa, sn, ua, pos, v) \
                 ON CONFLICT (payment_key) DO UPDATE SET organization_id = EXCLUDED.organization_id, \
                   payment_id = EXCLUDED.payment_id, status = EXCLUDED.status, currency = EXCLUDED.currency, \
                   amount = EXCLUDED.amount, created_at = EXCLUDED.created_at, \
                   processed_at = EXCLUDED.processed_at, processed_nanos = EXCLUDED.processed_nanos, \
                   statistics_at = EXCLUDED.statistics_at, statistics_nanos = EXCLUDED.statistics_nanos, \
                   updated_at = EXCLUDED.updated_at, position = EXCLUDED.position, view = EXCLUDED.view \
                 WHERE p.position <= EXCLUDED.position"
            ),
            get: format!("SELECT view, position FROM {table} WHERE payment_key = $1"),
            get_many: format!("SELECT payment_key, view, position FROM {table} WHERE payment_key = ANY($1::text[])"),
            page: format!(
                "SELECT counted.total, listed.view, listed.position \
                 FROM (SELECT count(*) AS total FROM {table} WHERE organization_id = $1) AS counted \
                 LEFT JOIN LATERAL ( \
                   SELECT view, position, processed_at, processed_nanos, payment_id FROM {table} \
                   WHERE organization_id = $1 \
                   ORDER BY processed_at DESC NULLS LAST, processed_nanos DESC, payment_id LIMIT $2 OFFSET $3 \
                 ) AS listed ON TRUE \
                 ORDER BY listed.processed_at DESC NULLS LAST, listed.processed_nanos DESC, listed.payment_id"
            ),
            reset: format!("DELETE FROM {table}"),
            table,
        }
    }
}
