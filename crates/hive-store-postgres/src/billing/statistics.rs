//! Statistics and trends in SQL: the organization's payments whose `statistics_at` lies in the
//! range (exact to the nanosecond), grouped by status × currency and by UTC day × currency
//! (`GROUPING SETS`), counted and summed as `NUMERIC` (exact). Averages are `total / count`
//! divided here and rounded half-to-even to the currency's minor units, as
//! `PaymentStatistics::compute` does (SQL's `avg` and `round` would round otherwise).

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime};
use hive_billing::{
    round_to_currency, Amount, BillingResult, Currency, CurrencyStatistics, DailyBucket, PaymentStatistics,
    PaymentStatus,
};
use hive_domain::{day_key, TimeRange};
use rust_decimal::Decimal;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::codec::{corrupt, split};
use super::read_model::PostgresPaymentReadModel;

/// The statistics of `organization_id` over `range`.
pub(super) async fn statistics(
    model: &PostgresPaymentReadModel,
    organization_id: &str,
    range: &TimeRange,
) -> BillingResult<PaymentStatistics> {
    let rows = grouped(model, organization_id, range, true).await?;
    let mut by_status: BTreeMap<PaymentStatus, BTreeMap<Currency, CurrencyStatistics>> = BTreeMap::new();
    let mut daily = Vec::new();
    for row in &rows {
        let by_day: bool = row.try_get(0).map_err(|e| bad("grouping", e))?;
        if by_day {
            daily.push(bucket(row)?);
            continue;
        }
        let status: String = row.try_get(1).map_err(|e| bad("status", e))?;
        let status: PaymentStatus = status.parse().map_err(|e| bad("status", format!("{e:?}")))?;
        let (currency, count, total) = sums(row)?;
        let average = if count == 0 {
            Decimal::ZERO
        } else {
            total / Decimal::from(count)
        };
        by_status.entry(status).or_default().insert(
            currency,
            CurrencyStatistics {
                count,
                total_amount: Amount::new(round_to_currency(total, currency)),
                average_amount: Amount::new(round_to_currency(average, currency)),
            },
        );
    }
    Ok(PaymentStatistics {
        by_status,
        daily: sorted(daily),
    })
}

/// The daily buckets of `organization_id` over `range`.
pub(super) async fn trends(
    model: &PostgresPaymentReadModel,
    organization_id: &str,
    range: &TimeRange,
) -> BillingResult<Vec<DailyBucket>> {
    let rows = grouped(model, organization_id, range, false).await?;
    Ok(sorted(rows.iter().map(bucket).collect::<BillingResult<_>>()?))
}

/// Rows `(by_day, status, currency, day, count, total)`: by status × currency (`by_day`
/// false) when `with_status`, and by day × currency (`by_day` true).
async fn grouped(
    model: &PostgresPaymentReadModel,
    organization_id: &str,
    range: &TimeRange,
    with_status: bool,
) -> BillingResult<Vec<Row>> {
    let from = range.from.map(split);
    let to = range.to.map(split);
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&organization_id];
    let mut filter = String::from("organization_id = $1");
    if let Some((at, nanos)) = &from {
        params.extend([at as &(dyn ToSql + Sync), nanos]);
        filter.push_str(&format!(
            " AND (statistics_at, statistics_nanos) >= (${}, ${})",
            params.len() - 1,
            params.len()
        ));
    }
    if let Some((at, nanos)) = &to {
        params.extend([at as &(dyn ToSql + Sync), nanos]);
        filter.push_str(&format!(
            " AND (statistics_at, statistics_nanos) < (${}, ${})",
            params.len() - 1,
            params.len()
        ));
    }
    let (by_day, status, sets) = if with_status {
        (
            "GROUPING(status) = 1",
            "status",
            "GROUPING SETS ((status, currency), (day, currency))",
        )
    } else {
        ("TRUE", "NULL::text", "day, currency")
    };
    let sql = format!(
        "SELECT {by_day}, {status}, currency, day, count(*), sum(amount)::text \
         FROM (SELECT status, currency, amount, (statistics_at AT TIME ZONE 'UTC')::date AS day \
               FROM {} WHERE {filter}) AS counted \
         GROUP BY {sets}",
        model.sql.table
    );
    model.query("payment statistics", &sql, &params).await
}

/// The currency, count and exact total of a group row.
fn sums(row: &Row) -> BillingResult<(Currency, u64, Decimal)> {
    let currency: String = row.try_get(2).map_err(|e| bad("currency", e))?;
    let currency: Currency = currency.parse().map_err(|e| bad("currency", e))?;
    let count: i64 = row.try_get(4).map_err(|e| bad("count", e))?;
    let total: String = row.try_get(5).map_err(|e| bad("total", e))?;
    let total: Amount = total.parse().map_err(|e| bad("total", e))?;
    Ok((
        currency,
        u64::try_from(count).map_err(|e| bad("count", e))?,
        total.value(),
    ))
}

/// The daily bucket of a day × currency row.
fn bucket(row: &Row) -> BillingResult<DailyBucket> {
    let day: NaiveDate = row.try_get(3).map_err(|e| bad("day", e))?;
    let (currency, count, total) = sums(row)?;
    Ok(DailyBucket {
        date: day_key(day.and_time(NaiveTime::MIN).and_utc()),
        currency,
        count,
        total_amount: Amount::new(round_to_currency(total, currency)),
    })
}

/// By date, then currency code (the reference's order).
fn sorted(mut buckets: Vec<DailyBucket>) -> Vec<DailyBucket> {
    buckets.sort_by(|a, b| (&a.date, a.currency).cmp(&(&b.date, b.currency)));
    buckets
}

fn bad(field: &str, error: impl std::fmt::Display) -> hive_billing::BillingStoreError {
    corrupt("payment statistics", format!("`{field}`: {error}"))
}
