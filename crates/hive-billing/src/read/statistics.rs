//! Payment statistics and daily trends, with their reference computation.

use std::collections::BTreeMap;

use hive_domain::{day_key, TimeRange};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{round_to_currency, Amount, Currency, PaymentStatus, PaymentView};

/// Count, total and average amount of a group of payments of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyStatistics {
    /// Payments in the group.
    pub count: u64,
    /// Sum of their amounts, at the currency's scale.
    pub total_amount: Amount,
    /// `totalAmount / count`, rounded half-to-even to the currency's minor units.
    pub average_amount: Amount,
}

/// The payments of one UTC day in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyBucket {
    /// The UTC day, `YYYY-MM-DD`.
    pub date: String,
    /// The currency (amounts of different currencies are never added together).
    pub currency: Currency,
    /// Payments that day.
    pub count: u64,
    /// Sum of their amounts.
    pub total_amount: Amount,
}

/// Statistics of an organization's payments over a time range:
/// `{"byStatus": {status: {currency: {count, totalAmount, averageAmount}}}, "daily": [...]}`.
///
/// Reference semantics (every adapter reproduces them exactly):
/// * a payment counts when its [`PaymentView::statistics_at`] (`processedAt`, else `createdAt`)
///   lies in the half-open range `[from, to)`;
/// * it is grouped by its current status and its currency; amounts are the payment's `amount`
///   (refunds are not subtracted); totals are exact sums at the currency's scale;
/// * averages are `total / count` rounded half-to-even to the currency's minor units;
/// * `daily` has one bucket per UTC day of `statistics_at` and currency that has payments,
///   ordered by date then currency code.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentStatistics {
    /// Status → currency → figures.
    pub by_status: BTreeMap<PaymentStatus, BTreeMap<Currency, CurrencyStatistics>>,
    /// Per day and currency.
    pub daily: Vec<DailyBucket>,
}

#[derive(Default)]
struct Sum {
    count: u64,
    total: Decimal,
}

impl PaymentStatistics {
    /// Whether `payment` of `organization_id` is counted for `range`.
    pub fn counts(payment: &PaymentView, organization_id: &str, range: &TimeRange) -> bool {
        payment.organization_id == organization_id && range.contains(payment.statistics_at())
    }

    /// The reference computation over the payments of `organization_id` in `range` among
    /// `payments` (others are ignored).
    pub fn compute<'a>(
        payments: impl IntoIterator<Item = &'a PaymentView>,
        organization_id: &str,
        range: &TimeRange,
    ) -> Self {
        let counted: Vec<&PaymentView> = payments
            .into_iter()
            .filter(|p| Self::counts(p, organization_id, range))
            .collect();
        let mut groups: BTreeMap<PaymentStatus, BTreeMap<Currency, Sum>> = BTreeMap::new();
        for payment in &counted {
            let sum = groups
                .entry(payment.status)
                .or_default()
                .entry(payment.currency)
                .or_default();
            sum.count += 1;
            sum.total += payment.amount.value();
        }
        let by_status = groups
            .into_iter()
            .map(|(status, currencies)| {
                let figures = currencies
                    .into_iter()
                    .map(|(currency, sum)| (currency, figures(currency, &sum)))
                    .collect();
                (status, figures)
            })
            .collect();
        Self {
            by_status,
            daily: Self::daily_buckets(counted, organization_id, range),
        }
    }

    /// The reference daily buckets (the `daily` part of the statistics, and the answer of the
    /// payment trends) of the payments of `organization_id` in `range` among `payments`.
    pub fn daily_buckets<'a>(
        payments: impl IntoIterator<Item = &'a PaymentView>,
        organization_id: &str,
        range: &TimeRange,
    ) -> Vec<DailyBucket> {
        let mut days: BTreeMap<(String, Currency), Sum> = BTreeMap::new();
        for payment in payments.into_iter().filter(|p| Self::counts(p, organization_id, range)) {
            let sum = days
                .entry((day_key(payment.statistics_at()), payment.currency))
                .or_default();
            sum.count += 1;
            sum.total += payment.amount.value();
        }
        days.into_iter()
            .map(|((date, currency), sum)| DailyBucket {
                date,
                currency,
                count: sum.count,
                total_amount: Amount::new(at_scale(sum.total, currency)),
            })
            .collect()
    }
}

fn at_scale(value: Decimal, currency: Currency) -> Decimal {
    round_to_currency(value, currency)
}

fn figures(currency: Currency, sum: &Sum) -> CurrencyStatistics {
    let average = if sum.count == 0 {
        Decimal::ZERO
    } else {
        sum.total / Decimal::from(sum.count)
    };
    CurrencyStatistics {
        count: sum.count,
        total_amount: Amount::new(at_scale(sum.total, currency)),
        average_amount: Amount::new(round_to_currency(average, currency)),
    }
}
