//! Payment trends: payments per day (bars) over the amount per day of one currency (line).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use hive_billing::PaymentTrends;
use plotters::prelude::*;

use super::{as_f64, category, colour, count_axis, label_style, no_data, render, title_style, ChartError, DrawResult};

/// Size of the trends chart (two panels).
const SIZE: (u32, u32) = (1200, 500);
/// Title of the upper panel.
pub(crate) const COUNT_TITLE: &str = "Payments per day";

/// What the trends chart shows: `trends` over the UTC days of `[from, to)`, amounts in
/// `currency` (default: the currency with the most payments).
#[derive(Debug)]
pub(crate) struct TrendsChart<'a> {
    pub(crate) trends: &'a PaymentTrends,
    pub(crate) from: DateTime<Utc>,
    pub(crate) to: DateTime<Utc>,
    pub(crate) currency: Option<&'a str>,
}

/// Per day of the range: the payments (all currencies) and the amount in the chosen currency.
struct Days {
    labels: Vec<String>,
    counts: Vec<u64>,
    amounts: Vec<f64>,
    currency: Option<String>,
}

impl TrendsChart<'_> {
    fn first_day(&self) -> NaiveDate {
        self.from.date_naive()
    }

    /// The last day that has an instant in `[from, to)`.
    fn last_day(&self) -> NaiveDate {
        (self.to - Duration::nanoseconds(1)).date_naive().max(self.first_day())
    }

    /// The currency with the most payments (ties: the first code).
    fn busiest_currency(&self) -> Option<String> {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for bucket in &self.trends.daily {
            *counts.entry(bucket.currency.to_string()).or_default() += bucket.count;
        }
        counts
            .into_iter()
            .fold(None, |best: Option<(String, u64)>, (code, n)| match best {
                Some((_, m)) if m >= n => best,
                _ => Some((code, n)),
            })
            .map(|(code, _)| code)
    }

    fn days(&self) -> Days {
        let first = self.first_day();
        let len = usize::try_from((self.last_day() - first).num_days() + 1).unwrap_or(1);
        let labels = (0..len)
            .map(|i| {
                (first + Duration::days(i64::try_from(i).unwrap_or(0)))
                    .format("%m-%d")
                    .to_string()
            })
            .collect();
        let currency = self.currency.map(str::to_owned).or_else(|| self.busiest_currency());
        let mut days = Days {
            labels,
            counts: vec![0; len],
            amounts: vec![0.0; len],
            currency,
        };
        for bucket in &self.trends.daily {
            let Ok(date) = NaiveDate::parse_from_str(&bucket.date, "%Y-%m-%d") else {
                continue;
            };
            let Some(index) = usize::try_from((date - first).num_days()).ok().filter(|i| *i < len) else {
                continue;
            };
            days.counts[index] += bucket.count;
            if days.currency.as_deref() == Some(bucket.currency.code()) {
                days.amounts[index] += bucket.total_amount.to_string().parse::<f64>().unwrap_or(0.0);
            }
        }
        days
    }
}

/// The trends chart as SVG.
pub(crate) fn trends(chart: &TrendsChart<'_>) -> Result<String, ChartError> {
    let range = format!("{} – {}", chart.first_day(), chart.last_day());
    let days = chart.days();
    render(SIZE, |root| {
        if chart.trends.daily.is_empty() {
            return no_data(root, "Payment trends", &format!("no payments between {range}"));
        }
        let (upper, lower) = root.split_vertically(SIZE.1 / 2);
        draw_counts(&upper, &days, &range)?;
        match &days.currency {
            Some(code) if days.amounts.iter().any(|a| *a > 0.0) => draw_amounts(&lower, &days, code),
            Some(code) => no_data(
                &lower,
                &format!("Amount per day ({code})"),
                &format!("no {code} payments"),
            ),
            None => Ok(()),
        }
    })
}

fn x_range(days: &Days) -> std::ops::Range<f64> {
    -0.5..as_f64(days.labels.len() as u64) - 0.5
}

fn draw_counts(area: &super::Area<'_>, days: &Days, range: &str) -> DrawResult {
    let max = days.counts.iter().copied().max().unwrap_or(0).max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{COUNT_TITLE} ({range})"), title_style())
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(64)
        .build_cartesian_2d(x_range(days), count_axis(max))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels(10)
        .x_label_formatter(&|x| category(&days.labels, *x))
        .y_desc("payments")
        .label_style(label_style())
        .axis_desc_style(label_style())
        .draw()?;
    let bars = days.counts.iter().enumerate().filter(|(_, n)| **n > 0).map(|(i, n)| {
        let x = as_f64(i as u64);
        Rectangle::new([(x - 0.35, 0), (x + 0.35, *n)], colour(0).filled())
    });
    chart.draw_series(bars)?;
    Ok(())
}

fn draw_amounts(area: &super::Area<'_>, days: &Days, code: &str) -> DrawResult {
    let max = days.amounts.iter().copied().fold(0.0, f64::max).max(1.0);
    let mut chart = ChartBuilder::on(area)
        .caption(format!("Amount per day ({code})"), title_style())
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(64)
        .build_cartesian_2d(x_range(days), 0.0..max * 1.15)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels(10)
        .x_label_formatter(&|x| category(&days.labels, *x))
        .y_desc(code)
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(label_style())
        .axis_desc_style(label_style())
        .draw()?;
    let points: Vec<(f64, f64)> = days
        .amounts
        .iter()
        .enumerate()
        .map(|(i, a)| (as_f64(i as u64), *a))
        .collect();
    let line = colour(1);
    chart.draw_series(LineSeries::new(points.iter().copied(), line.stroke_width(2)))?;
    chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, line.filled())))?;
    Ok(())
}
