//! Payment statistics and trends as one aggregation request, answering exactly what
//! `PaymentStatistics::compute` and `PaymentStatistics::daily_buckets` answer.
//!
//! * The query (`bool.filter`): the organization's `term`, and `statisticsAt` in `[from, to)`
//!   to the nanosecond: a `date` keeps milliseconds, so a bound with sub-millisecond digits is
//!   `statisticsAt` past its millisecond, or at it with `subMillisecondNanos.statisticsAt` on
//!   the right side.
//! * `byStatus`: `terms` on `status` › `terms` on `currency` › `stats` of `amountMinorUnits`;
//!   `daily`: `date_histogram` on `statisticsAt` (`calendar_interval: day`, UTC,
//!   `min_doc_count: 1`) › `terms` on `currency` › `stats` of `amountMinorUnits`.
//! * Totals are the `stats` sums of whole minor units, turned back into decimals at the
//!   currency's scale. Elasticsearch sums in `f64`; integers are exact in an `f64` below 2⁵³,
//!   and `count × max(|min|, |max|) < 2⁵³` bounds every partial sum, in any order and on any
//!   shard, so such a sum is exact. Averages are `total / count` computed here and rounded
//!   half-to-even to the currency's minor units, as the reference does (Elasticsearch's `avg`
//!   would be a float).
//! * A group whose sum may not be exact (past that bound, or an amount without a whole number
//!   of minor units, which has no `amountMinorUnits`), or a `terms` that left buckets out, makes
//!   the answer `None`: the caller then computes the figures from the matching documents with
//!   the reference functions.
//! * Day keys come from the bucket's epoch-millisecond `key` through `hive_domain::day_key`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SecondsFormat, SubsecRound, Utc};
use hive_billing::{
    round_to_currency, Amount, Currency, CurrencyStatistics, DailyBucket, PaymentStatistics, PaymentStatus,
};
use hive_domain::{day_key, TimeRange};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::document::sub_millisecond;
use crate::{EsError, EsResult};

/// `terms` size on `status` (there are five).
const STATUSES: usize = 100;
/// `terms` size on `currency` (ISO 4217 has fewer than 200 codes).
const CURRENCIES: usize = 1_000;
/// 2⁵³: every integer below it is exact in an `f64`.
const EXACT: f64 = 9_007_199_254_740_992.0;

const WHAT: &str = "payments statistics";

/// An instant at millisecond precision, always with its three digits.
///
/// Only `gte` and `lt` are used with it: Elasticsearch parses the bound of `gt` and `lte`
/// "rounded up", filling the fields a date string leaves out with their largest value (`lte
/// "10:00:00Z"` means up to `10:00:00.999`).
fn millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `field` (a `date`) and `sub` (its sub-millisecond nanoseconds) against `bound`: `lower`
/// means `>= bound`, else `< bound`.
fn bound_filter(field: &str, sub: &str, bound: DateTime<Utc>, lower: bool) -> Value {
    let floor = bound.trunc_subsecs(3);
    let nanos = sub_millisecond(bound);
    if nanos == 0 {
        let op = if lower { "gte" } else { "lt" };
        return json!({"range": {field: {op: millis(floor)}}});
    }
    let next = millis(floor + Duration::milliseconds(1));
    let beyond = if lower {
        json!({"range": {field: {"gte": next}}})
    } else {
        json!({"range": {field: {"lt": millis(floor)}}})
    };
    let op = if lower { "gte" } else { "lt" };
    json!({"bool": {
        "should": [
            beyond,
            {"bool": {"filter": [
                {"range": {field: {"gte": millis(floor), "lt": next}}},
                {"range": {sub: {op: nanos}}}
            ]}}
        ],
        "minimum_should_match": 1
    }})
}

/// The organization's payments whose `statisticsAt` lies in `range` (half-open, exact).
pub(crate) fn query(organization_id: &str, range: &TimeRange) -> Value {
    let (field, sub) = ("statisticsAt", "subMillisecondNanos.statisticsAt");
    let mut filter = vec![json!({"term": {"organizationId": organization_id}})];
    if let Some(from) = range.from {
        filter.push(bound_filter(field, sub, from, true));
    }
    if let Some(to) = range.to {
        filter.push(bound_filter(field, sub, to, false));
    }
    json!({"bool": {"filter": filter}})
}

fn by_currency() -> Value {
    json!({
        "terms": {"field": "currency", "size": CURRENCIES},
        "aggs": {"amount": {"stats": {"field": "amountMinorUnits"}}}
    })
}

/// The `_search` body of statistics (`with_status`) or of trends only.
pub(crate) fn body(organization_id: &str, range: &TimeRange, with_status: bool) -> Value {
    let mut aggs = json!({
        "daily": {
            "date_histogram": {
                "field": "statisticsAt",
                "calendar_interval": "day",
                "time_zone": "UTC",
                "min_doc_count": 1
            },
            "aggs": {"byCurrency": by_currency()}
        }
    });
    if with_status {
        aggs["byStatus"] = json!({
            "terms": {"field": "status", "size": STATUSES},
            "aggs": {"byCurrency": by_currency()}
        });
    }
    json!({
        "size": 0,
        "track_total_hits": false,
        "query": query(organization_id, range),
        "aggs": aggs
    })
}

/// The payments of one group and their exact total in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Group {
    count: u64,
    units: i128,
}

impl Group {
    /// The total at the currency's scale.
    fn total(&self, currency: Currency) -> Decimal {
        Decimal::try_from_i128_with_scale(self.units, currency.minor_units()).unwrap_or_default()
    }
}

fn number(value: &Value, what: &str) -> EsResult<f64> {
    value
        .as_f64()
        .ok_or_else(|| EsError::decode(WHAT, format!("`{what}` is not a number: {value}")))
}

fn count(value: &Value, what: &str) -> EsResult<u64> {
    value
        .as_u64()
        .ok_or_else(|| EsError::decode(WHAT, format!("`{what}` is not a count: {value}")))
}

/// The buckets of a `terms` aggregation, `None` when some were left out.
fn terms_buckets(agg: &Value) -> EsResult<Option<&Vec<Value>>> {
    if agg.get("sum_other_doc_count").and_then(Value::as_u64).unwrap_or(0) != 0 {
        return Ok(None);
    }
    agg.get("buckets")
        .and_then(Value::as_array)
        .map(Some)
        .ok_or_else(|| EsError::decode(WHAT, "a `terms` aggregation without `buckets`"))
}

/// The exact sum of a `stats` aggregation over `doc_count` documents, `None` when it may not
/// be exact.
fn exact_sum(stats: &Value, doc_count: u64) -> EsResult<Option<i128>> {
    if count(&stats["count"], "stats.count")? != doc_count {
        return Ok(None);
    }
    if doc_count == 0 {
        return Ok(Some(0));
    }
    let (min, max, sum) = (
        number(&stats["min"], "stats.min")?,
        number(&stats["max"], "stats.max")?,
        number(&stats["sum"], "stats.sum")?,
    );
    #[allow(clippy::cast_precision_loss)] // a bound: a rounded count only makes it looser by far less than 2⁵³
    let bound = doc_count as f64 * min.abs().max(max.abs());
    // Strictly below: a long of 2⁵³ + 1 reads back as the float 2⁵³.
    if !(bound < EXACT && sum.is_finite() && sum.fract() == 0.0 && sum.abs() < EXACT) {
        return Ok(None);
    }
    #[allow(clippy::cast_possible_truncation)] // a whole number of at most 2⁵³ in magnitude
    Ok(Some(sum as i128))
}

/// The groups of a `byCurrency` aggregation, `None` when one may not be exact.
fn currencies(agg: &Value) -> EsResult<Option<Vec<(Currency, Group)>>> {
    let Some(buckets) = terms_buckets(agg)? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(buckets.len());
    for bucket in buckets {
        let code = bucket["key"]
            .as_str()
            .ok_or_else(|| EsError::decode(WHAT, "a currency bucket without a `key`"))?;
        let currency: Currency = code.parse().map_err(|e| EsError::decode(WHAT, e))?;
        let doc_count = count(&bucket["doc_count"], "doc_count")?;
        let Some(units) = exact_sum(&bucket["amount"], doc_count)? else {
            return Ok(None);
        };
        out.push((
            currency,
            Group {
                count: doc_count,
                units,
            },
        ));
    }
    Ok(Some(out))
}

/// The daily buckets of an answer, by date then currency; `None` when a sum may not be exact.
pub(crate) fn daily(answer: &Value) -> EsResult<Option<Vec<DailyBucket>>> {
    let days = answer
        .pointer("/aggregations/daily/buckets")
        .and_then(Value::as_array)
        .ok_or_else(|| EsError::decode(WHAT, "no `aggregations.daily.buckets`"))?;
    let mut out = Vec::new();
    for day in days {
        let key = day["key"]
            .as_i64()
            .and_then(DateTime::from_timestamp_millis)
            .ok_or_else(|| EsError::decode(WHAT, format!("a day bucket's `key` is not an instant: {}", day["key"])))?;
        let Some(groups) = currencies(&day["byCurrency"])? else {
            return Ok(None);
        };
        for (currency, group) in groups {
            out.push(DailyBucket {
                date: day_key(key),
                currency,
                count: group.count,
                total_amount: Amount::new(round_to_currency(group.total(currency), currency)),
            });
        }
    }
    out.sort_by(|a, b| (&a.date, a.currency).cmp(&(&b.date, b.currency)));
    Ok(Some(out))
}

/// The statistics of an answer; `None` when a sum may not be exact.
pub(crate) fn statistics(answer: &Value) -> EsResult<Option<PaymentStatistics>> {
    let agg = answer
        .pointer("/aggregations/byStatus")
        .ok_or_else(|| EsError::decode(WHAT, "no `aggregations.byStatus`"))?;
    let Some(statuses) = terms_buckets(agg)? else {
        return Ok(None);
    };
    let mut by_status: BTreeMap<PaymentStatus, BTreeMap<Currency, CurrencyStatistics>> = BTreeMap::new();
    for bucket in statuses {
        let status: PaymentStatus = bucket["key"]
            .as_str()
            .ok_or_else(|| EsError::decode(WHAT, "a status bucket without a `key`"))?
            .parse()
            .map_err(|e| EsError::decode(WHAT, format!("{e:?}")))?;
        let Some(groups) = currencies(&bucket["byCurrency"])? else {
            return Ok(None);
        };
        for (currency, group) in groups {
            let total = group.total(currency);
            let average = if group.count == 0 {
                Decimal::ZERO
            } else {
                total / Decimal::from(group.count)
            };
            by_status.entry(status).or_default().insert(
                currency,
                CurrencyStatistics {
                    count: group.count,
                    total_amount: Amount::new(round_to_currency(total, currency)),
                    average_amount: Amount::new(round_to_currency(average, currency)),
                },
            );
        }
    }
    let Some(daily) = daily(answer)? else {
        return Ok(None);
    };
    Ok(Some(PaymentStatistics { by_status, daily }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_millisecond_bounds_are_plain_ranges_and_others_use_the_nanoseconds() {
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap_or_default();
        let range = TimeRange::between(at("2024-03-04T00:00:00Z"), at("2024-03-05T10:00:00.123456789Z"));
        let q = query("org-1", &range);
        let filter = q["bool"]["filter"].as_array().cloned().unwrap_or_default();
        assert_eq!(filter[0], json!({"term": {"organizationId": "org-1"}}));
        assert_eq!(
            filter[1],
            json!({"range": {"statisticsAt": {"gte": "2024-03-04T00:00:00.000Z"}}})
        );
        assert_eq!(
            filter[2]["bool"]["should"][0],
            json!({"range": {"statisticsAt": {"lt": "2024-03-05T10:00:00.123Z"}}})
        );
        assert_eq!(
            filter[2]["bool"]["should"][1]["bool"]["filter"],
            json!([
                {"range": {"statisticsAt": {"gte": "2024-03-05T10:00:00.123Z", "lt": "2024-03-05T10:00:00.124Z"}}},
                {"range": {"subMillisecondNanos.statisticsAt": {"lt": 456_789}}}
            ])
        );
    }

    #[test]
    fn sums_are_exact_below_two_to_the_53_or_refused() {
        let stats =
            |count: u64, min: f64, max: f64, sum: f64| json!({"count": count, "min": min, "max": max, "sum": sum});
        assert_eq!(
            exact_sum(&stats(2, 1.0, 12_002.0, 12_003.0), 2).ok().flatten(),
            Some(12_003)
        );
        assert_eq!(exact_sum(&stats(1, -3.0, -3.0, -3.0), 1).ok().flatten(), Some(-3));
        assert_eq!(
            exact_sum(&json!({"count": 0, "min": null, "max": null, "sum": 0.0}), 0)
                .ok()
                .flatten(),
            Some(0)
        );
        assert_eq!(
            exact_sum(&stats(1, 1.0, 1.0, 1.0), 2).ok().flatten(),
            None,
            "a document without minor units"
        );
        assert_eq!(
            exact_sum(&stats(4, 1.0, EXACT / 2.0, EXACT), 4).ok().flatten(),
            None,
            "partial sums may pass 2⁵³"
        );
        assert_eq!(
            exact_sum(&stats(1, EXACT, EXACT, EXACT), 1).ok().flatten(),
            None,
            "2⁵³ may be a rounded 2⁵³ + 1"
        );
    }

    #[test]
    fn a_terms_aggregation_that_left_buckets_out_is_not_exact() {
        let agg = json!({"sum_other_doc_count": 3, "buckets": []});
        assert!(matches!(currencies(&agg), Ok(None)));
    }
}
