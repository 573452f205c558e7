//! Records to columns and back: instants split at the microsecond, amounts as exact text.

use std::collections::HashSet;

use chrono::{DateTime, Timelike, Utc};
use hive_billing::{BillingStoreError, PaymentRecord, PaymentView};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::error::PostgresError;
use crate::event_store::codec::int;

/// Records per upsert statement (a record's parameters are well under 1 KiB).
pub(super) const UPSERT_BATCH: usize = 1000;

/// A driver or pool failure as the billing ports see it (`Unavailable` when the server is out
/// of reach, `Corrupt` for rows that do not decode, `Backend` otherwise). A server's refusal
/// carries its message and SQLSTATE (`… db error: <message> (<code>)`).
pub(super) fn billing_error(error: PostgresError) -> BillingStoreError {
    let message = error.to_string();
    match error {
        PostgresError::Corrupt { record, reason } => BillingStoreError::Corrupt { record, reason },
        error if error.is_unavailable() => BillingStoreError::Unavailable(message),
        _ => BillingStoreError::Backend(message),
    }
}

/// A closure wrapping a driver error about `what` as a [`BillingStoreError`].
pub(super) fn failure(what: &'static str) -> impl Fn(tokio_postgres::Error) -> BillingStoreError {
    move |error| billing_error(PostgresError::query(what)(error))
}

/// A stored row that does not decode.
pub(super) fn corrupt(record: impl Into<String>, reason: impl ToString) -> BillingStoreError {
    BillingStoreError::Corrupt {
        record: record.into(),
        reason: reason.to_string(),
    }
}

/// `at` floored to the microsecond (what `TIMESTAMPTZ` holds exactly) and the nanoseconds
/// below it (0 to 999): ordered as pairs, they order as the instants.
pub(super) fn split(at: DateTime<Utc>) -> (DateTime<Utc>, i16) {
    let nanos = at.nanosecond();
    let below = nanos % 1000;
    let micros = at.with_nanosecond(nanos - below).unwrap_or(at);
    (micros, i16::try_from(below).unwrap_or_default())
}

/// The parameters of the upsert statement: one array per column.
#[derive(Debug, Default)]
pub(super) struct Columns {
    keys: Vec<String>,
    organizations: Vec<String>,
    ids: Vec<String>,
    statuses: Vec<&'static str>,
    currencies: Vec<&'static str>,
    amounts: Vec<String>,
    created: Vec<DateTime<Utc>>,
    processed: Vec<Option<DateTime<Utc>>>,
    processed_nanos: Vec<i16>,
    statistics: Vec<DateTime<Utc>>,
    statistics_nanos: Vec<i16>,
    updated: Vec<DateTime<Utc>>,
    positions: Vec<i64>,
    views: Vec<serde_json::Value>,
}

impl Columns {
    /// Adds `record`.
    fn push(&mut self, record: &PaymentRecord) -> Result<(), BillingStoreError> {
        let view = &record.payment;
        let json = serde_json::to_value(view)
            .map_err(|e| BillingStoreError::Backend(format!("encode payment `{}`: {e}", view.key())))?;
        let (processed, processed_nanos) = view.processed_at.map(split).map_or((None, 0), |(at, n)| (Some(at), n));
        let (statistics, statistics_nanos) = split(view.statistics_at());
        self.keys.push(view.key().into());
        self.organizations.push(view.organization_id.clone());
        self.ids.push(view.payment_id.clone());
        self.statuses.push(view.status.as_str());
        self.currencies.push(view.currency.code());
        self.amounts.push(view.amount.value().to_string());
        // Microseconds are what the column keeps of these two; the view keeps them exactly.
        self.created.push(split(view.created_at).0);
        self.processed.push(processed);
        self.processed_nanos.push(processed_nanos);
        self.statistics.push(statistics);
        self.statistics_nanos.push(statistics_nanos);
        self.updated.push(split(view.updated_at).0);
        self.positions.push(int(record.position));
        self.views.push(json);
        Ok(())
    }

    /// The 14 parameters, in the order of the statement's `unnest`.
    pub(super) fn params(&self) -> [&(dyn ToSql + Sync); 14] {
        [
            &self.keys,
            &self.organizations,
            &self.ids,
            &self.statuses,
            &self.currencies,
            &self.amounts,
            &self.created,
            &self.processed,
            &self.processed_nanos,
            &self.statistics,
            &self.statistics_nanos,
            &self.updated,
            &self.positions,
            &self.views,
        ]
    }
}

/// `records` as statements' parameters, in order: each of at most [`UPSERT_BATCH`] records of
/// distinct keys (an `ON CONFLICT DO UPDATE` statement cannot touch a row twice), so that a
/// key given twice is written by two statements, in order, as consecutive upserts would.
/// Within a statement the rows go by key (their order there changes nothing), so concurrent
/// batches lock shared rows in the same order.
pub(super) fn batches(records: &[PaymentRecord]) -> Result<Vec<Columns>, BillingStoreError> {
    let mut batches = Vec::new();
    let mut run: Vec<(String, &PaymentRecord)> = Vec::new();
    let mut keys: HashSet<String> = HashSet::new();
    let mut flush = |run: &mut Vec<(String, &PaymentRecord)>| -> Result<(), BillingStoreError> {
        run.sort_by(|a, b| a.0.cmp(&b.0));
        let mut columns = Columns::default();
        for (_, record) in run.drain(..) {
            columns.push(record)?;
        }
        batches.push(columns);
        Ok(())
    };
    for record in records {
        let key: String = record.payment.key().into();
        if run.len() == UPSERT_BATCH || keys.contains(&key) {
            flush(&mut run)?;
            keys.clear();
        }
        keys.insert(key.clone());
        run.push((key, record));
    }
    if !run.is_empty() {
        flush(&mut run)?;
    }
    Ok(batches)
}

/// The record of a row whose columns `view_at` and `view_at + 1` are the view and position.
pub(super) fn decode(row: &Row, view_at: usize) -> Result<PaymentRecord, BillingStoreError> {
    let json: serde_json::Value = row
        .try_get(view_at)
        .map_err(|e| corrupt("payment", format!("`view`: {e}")))?;
    let position: i64 = row
        .try_get(view_at + 1)
        .map_err(|e| corrupt("payment", format!("`position`: {e}")))?;
    let payment: PaymentView = serde_json::from_value(json).map_err(|e| corrupt("payment", format!("`view`: {e}")))?;
    let position = u64::try_from(position).map_err(|e| corrupt(payment.key().as_str(), format!("`position`: {e}")))?;
    Ok(PaymentRecord { payment, position })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn instants_split_at_the_microsecond_and_order_as_pairs() {
        let base = Utc.with_ymd_and_hms(2024, 3, 4, 10, 0, 0).unwrap();
        let at = base + Duration::nanoseconds(1_000_400);
        assert_eq!(split(at), (base + Duration::microseconds(1000), 400));
        let before_epoch = Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).unwrap() + Duration::nanoseconds(999_999_999);
        let (micros, nanos) = split(before_epoch);
        assert_eq!(micros + Duration::nanoseconds(i64::from(nanos)), before_epoch);
        assert!(micros <= before_epoch && nanos == 999);
        let mut instants = [300, 1_000, 999, 0, 2_001].map(|n| base + Duration::nanoseconds(n));
        let mut pairs = instants.map(split);
        instants.sort();
        pairs.sort();
        assert_eq!(instants.map(split), pairs);
    }
}
