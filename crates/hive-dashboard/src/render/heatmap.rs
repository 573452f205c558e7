//! The event heatmap: hour of day (UTC) × day of week, darker for more events.

use hive_domain::Heatmap;
use plotters::prelude::*;

use super::{category, label_style, no_data, render, title_style, ChartError};

/// Size of the heatmap.
const SIZE: (u32, u32) = (600, 300);
/// Its title.
pub(crate) const TITLE: &str = "Events by hour (UTC) and weekday";
/// Rows, top to bottom (ISO day of week 1 … 7).
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
/// A cell without events.
pub(crate) const EMPTY_CELL: RGBColor = RGBColor(0xf2, 0xf2, 0xf2);
/// The palest and the darkest colour of a cell with events.
const LOW: (f64, f64, f64) = (198.0, 219.0, 239.0);
const HIGH: (f64, f64, f64) = (8.0, 48.0, 107.0);

/// The colour of a cell with `count` events when the busiest has `max`.
fn shade(count: u64, max: u64) -> RGBColor {
    if count == 0 {
        return EMPTY_CELL;
    }
    #[allow(clippy::cast_precision_loss)]
    let t = (count as f64 / max.max(1) as f64).clamp(0.0, 1.0);
    let mix = |low: f64, high: f64| {
        // In 0..=255 by construction.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let channel = (low + (high - low) * t).round() as u8;
        channel
    };
    RGBColor(mix(LOW.0, HIGH.0), mix(LOW.1, HIGH.1), mix(LOW.2, HIGH.2))
}

/// The heatmap as SVG; `range` names the period in the title and the "No data" message.
pub(crate) fn heatmap(heatmap: &Heatmap, range: &str) -> Result<String, ChartError> {
    let mut grid = [[0u64; 24]; 7];
    for cell in &heatmap.cells {
        if (1..=7).contains(&cell.day_of_week) && cell.hour < 24 {
            grid[usize::from(cell.day_of_week - 1)][usize::from(cell.hour)] += cell.count;
        }
    }
    let max = grid.iter().flatten().copied().max().unwrap_or(0);
    let hours: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    // Row 6 is drawn at the top: Monday.
    let rows: Vec<&str> = DAYS.iter().rev().copied().collect();
    render(SIZE, |root| {
        if max == 0 {
            return no_data(root, TITLE, &format!("no events between {range}"));
        }
        let mut chart = ChartBuilder::on(root)
            .caption(format!("{TITLE} (darkest: {max} events)"), title_style())
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(48)
            .build_cartesian_2d(-0.5..23.5, -0.5..6.5)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(24)
            .y_labels(7)
            .x_label_formatter(&|x| category(&hours, *x))
            .y_label_formatter(&|y| category(&rows, *y))
            .label_style(label_style())
            .draw()?;
        let cells = grid.iter().enumerate().flat_map(|(day, hours)| {
            hours.iter().enumerate().map(move |(hour, count)| {
                let (x, y) = (
                    f64::from(u8::try_from(hour).unwrap_or(0)),
                    f64::from(6 - u8::try_from(day).unwrap_or(0)),
                );
                Rectangle::new(
                    [(x - 0.46, y - 0.46), (x + 0.46, y + 0.46)],
                    shade(*count, max).filled(),
                )
            })
        });
        chart.draw_series(cells)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shades_go_from_pale_to_dark_and_empty_cells_are_grey() {
        assert_eq!(shade(0, 10), EMPTY_CELL);
        assert_eq!(shade(10, 10), RGBColor(8, 48, 107));
        let RGBColor(r1, _, _) = shade(1, 10);
        let RGBColor(r5, _, _) = shade(5, 10);
        assert!(r1 > r5, "more events, darker");
    }
}
