//! Statistics by status × currency: one bar per status, stacked by currency (payment counts,
//! which add up across currencies where amounts would not).

use std::collections::BTreeSet;

use hive_billing::{PaymentStatistics, PaymentStatus};
use plotters::prelude::*;

use super::{as_f64, category, colour, count_axis, label_style, no_data, render, title_style, ChartError, INK};

/// Size of the statistics chart.
const SIZE: (u32, u32) = (600, 340);
/// Its title.
pub(crate) const TITLE: &str = "Payments by status and currency";

/// The statistics chart as SVG; `range` names the period in the "No data" message.
pub(crate) fn statistics(statistics: &PaymentStatistics, range: &str) -> Result<String, ChartError> {
    let currencies: Vec<String> = statistics
        .by_status
        .values()
        .flat_map(|by_currency| by_currency.keys().map(ToString::to_string))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let statuses: Vec<&str> = PaymentStatus::ALL.iter().map(PaymentStatus::as_str).collect();
    let count = |status: &PaymentStatus, code: &str| -> u64 {
        statistics.by_status.get(status).map_or(0, |by_currency| {
            by_currency
                .iter()
                .filter(|(currency, _)| currency.code() == code)
                .map(|(_, figures)| figures.count)
                .sum()
        })
    };
    let totals: Vec<u64> = PaymentStatus::ALL
        .iter()
        .map(|status| currencies.iter().map(|code| count(status, code)).sum())
        .collect();
    render(SIZE, |root| {
        if currencies.is_empty() {
            return no_data(root, TITLE, &format!("no payments between {range}"));
        }
        let max = totals.iter().copied().max().unwrap_or(0).max(1);
        let mut chart = ChartBuilder::on(root)
            .caption(format!("{TITLE} ({range})"), title_style())
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5..as_f64(statuses.len() as u64) - 0.5, count_axis(max))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(statuses.len())
            .x_label_formatter(&|x| category(&statuses, *x))
            .y_desc("payments")
            .label_style(label_style())
            .axis_desc_style(label_style())
            .draw()?;
        let mut base = vec![0u64; statuses.len()];
        for (c, code) in currencies.iter().enumerate() {
            let fill = colour(c);
            let mut bars = Vec::new();
            for (s, status) in PaymentStatus::ALL.iter().enumerate() {
                let n = count(status, code);
                if n > 0 {
                    let x = as_f64(s as u64);
                    let (low, high) = (base[s], base[s] + n);
                    bars.push(Rectangle::new([(x - 0.3, low), (x + 0.3, high)], fill.filled()));
                    base[s] += n;
                }
            }
            chart
                .draw_series(bars)?
                .label(code.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], fill.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(INK)
            .label_font(label_style())
            .draw()
    })
}
