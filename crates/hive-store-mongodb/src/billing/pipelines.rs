//! Statistics and trends as one aggregation: `$match` (organization, `statisticsAt` range),
//! then `$facet` with a `$group` by status × currency and one by day × currency, `$sum` of the
//! `Decimal128` amounts (exact). Averages are `total / count` computed here, rounded
//! half-to-even to the currency's minor units, as `PaymentStatistics::compute` does (`$avg`
//! would round to 34 digits first, and round again here).

use std::collections::BTreeMap;

use bson::{doc, Bson, Document};
use hive_billing::{
    round_to_currency, Amount, BillingStoreError, Currency, CurrencyStatistics, DailyBucket, PaymentStatistics,
    PaymentStatus,
};
use hive_domain::TimeRange;
use rust_decimal::Decimal;

use super::codec::{corrupt, from_decimal, split, SUB_MS};

/// `statisticsAt >= from` and `< to`, exact to the nanosecond.
pub(crate) fn range_filter(organization_id: &str, range: &TimeRange) -> Document {
    let sub = format!("{SUB_MS}.statisticsAt");
    let mut all = vec![doc! { "organizationId": organization_id }];
    if let Some(from) = range.from {
        let (date, nanos) = split(from);
        all.push(if nanos == 0 {
            doc! { "statisticsAt": { "$gte": date } }
        } else {
            doc! { "$or": [ { "statisticsAt": { "$gt": date } }, { "statisticsAt": date, sub.clone(): { "$gte": nanos } } ] }
        });
    }
    if let Some(to) = range.to {
        let (date, nanos) = split(to);
        all.push(if nanos == 0 {
            doc! { "statisticsAt": { "$lt": date } }
        } else {
            doc! { "$or": [ { "statisticsAt": { "$lt": date } }, { "statisticsAt": date, sub: { "$lt": nanos } } ] }
        });
    }
    doc! { "$and": all }
}

fn daily_group() -> Document {
    doc! { "$group": {
        "_id": { "day": { "$dateToString": { "format": "%Y-%m-%d", "date": "$statisticsAt" } }, "currency": "$currency" },
        "count": { "$sum": 1 },
        "total": { "$sum": "$amount" },
    } }
}

/// The pipeline of statistics (`with_status`) or of trends only.
pub(crate) fn pipeline(organization_id: &str, range: &TimeRange, with_status: bool) -> Vec<Document> {
    let mut facets = doc! { "daily": [ daily_group() ] };
    if with_status {
        facets.insert(
            "byStatus",
            vec![doc! { "$group": {
                "_id": { "status": "$status", "currency": "$currency" },
                "count": { "$sum": 1 },
                "total": { "$sum": "$amount" },
            } }],
        );
    }
    vec![
        doc! { "$match": range_filter(organization_id, range) },
        doc! { "$facet": facets },
    ]
}

/// One group: its `_id` sub-document, count and exact total.
struct Group<'a> {
    key: &'a Document,
    count: u64,
    total: Decimal,
}

fn groups<'a>(facet: &'a Document, name: &str) -> Result<Vec<Group<'a>>, BillingStoreError> {
    let Ok(items) = facet.get_array(name) else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .map(|item| {
            let item = item
                .as_document()
                .ok_or_else(|| corrupt("statistics", "a group is not a document"))?;
            let count = match item.get("count") {
                Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or_default(),
                Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or_default(),
                other => return Err(corrupt("statistics", format!("count is {other:?}"))),
            };
            let total = match item.get("total") {
                Some(Bson::Decimal128(d)) => from_decimal(d)?,
                Some(Bson::Int32(0) | Bson::Int64(0)) => Decimal::ZERO,
                other => return Err(corrupt("statistics", format!("total is {other:?}"))),
            };
            let key = item
                .get_document("_id")
                .map_err(|e| corrupt("statistics", e.to_string()))?;
            Ok(Group { key, count, total })
        })
        .collect()
}

fn currency(key: &Document) -> Result<Currency, BillingStoreError> {
    let code = key
        .get_str("currency")
        .map_err(|e| corrupt("statistics", e.to_string()))?;
    code.parse().map_err(|e| corrupt("statistics", format!("{e}")))
}

/// The daily buckets of a `$facet` answer, by date then currency code.
pub(crate) fn daily(facet: &Document) -> Result<Vec<DailyBucket>, BillingStoreError> {
    let mut buckets = groups(facet, "daily")?
        .into_iter()
        .map(|g| {
            let currency = currency(g.key)?;
            Ok(DailyBucket {
                date: g
                    .key
                    .get_str("day")
                    .map_err(|e| corrupt("trends", e.to_string()))?
                    .to_owned(),
                currency,
                count: g.count,
                total_amount: Amount::new(round_to_currency(g.total, currency)),
            })
        })
        .collect::<Result<Vec<_>, BillingStoreError>>()?;
    buckets.sort_by(|a, b| (&a.date, a.currency).cmp(&(&b.date, b.currency)));
    Ok(buckets)
}

/// The statistics of a `$facet` answer.
pub(crate) fn statistics(facet: &Document) -> Result<PaymentStatistics, BillingStoreError> {
    let mut by_status: BTreeMap<PaymentStatus, BTreeMap<Currency, CurrencyStatistics>> = BTreeMap::new();
    for g in groups(facet, "byStatus")? {
        let currency = currency(g.key)?;
        let status: PaymentStatus = g
            .key
            .get_str("status")
            .map_err(|e| corrupt("statistics", e.to_string()))?
            .parse()
            .map_err(|e| corrupt("statistics", format!("{e:?}")))?;
        let average = if g.count == 0 {
            Decimal::ZERO
        } else {
            g.total / Decimal::from(g.count)
        };
        by_status.entry(status).or_default().insert(
            currency,
            CurrencyStatistics {
                count: g.count,
                total_amount: Amount::new(round_to_currency(g.total, currency)),
                average_amount: Amount::new(round_to_currency(average, currency)),
            },
        );
    }
    Ok(PaymentStatistics {
        by_status,
        daily: daily(facet)?,
    })
}
