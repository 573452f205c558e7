//! The dashboard's charts, rendered server-side as SVG with plotters: pure functions from query
//! answers to SVG text. An empty answer gives an explicit "No data" chart, never an empty one.

mod heatmap;
mod statistics;
mod trends;

pub(crate) use heatmap::heatmap;
pub(crate) use statistics::statistics;
pub(crate) use trends::{trends, TrendsChart};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The words an empty chart shows.
pub(crate) const NO_DATA: &str = "No data";
/// Font of every label.
const FONT: &str = "sans-serif";
/// Colours of the series (currencies), in order.
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
];
/// Text and axes.
const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);
/// The "No data" message.
const MUTED: RGBColor = RGBColor(0x88, 0x88, 0x88);

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// A chart that could not be drawn (a plotters error: never expected for valid input).
#[derive(Debug)]
pub(crate) struct ChartError(pub(crate) String);

impl From<DrawingAreaErrorKind<std::io::Error>> for ChartError {
    fn from(error: DrawingAreaErrorKind<std::io::Error>) -> Self {
        Self(error.to_string())
    }
}

/// The colour of the `index`-th series.
fn colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Draws with `draw` on a white canvas of `size` (SVG pixels) and returns the SVG text.
fn render(size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> DrawResult) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(svg)
}

/// `title` at the top of `area` and "No data: `why`" in its middle.
fn no_data(area: &Area<'_>, title: &str, why: &str) -> DrawResult {
    let (width, height) = area.dim_in_pixel();
    let centre = Pos::new(HPos::Center, VPos::Center);
    let title_style = (FONT, 20).into_font().color(&INK).pos(centre);
    area.draw(&Text::new(title.to_owned(), (to_i32(width) / 2, 18), title_style))?;
    let message_style = (FONT, 18).into_font().color(&MUTED).pos(centre);
    let message = format!("{NO_DATA}: {why}");
    area.draw(&Text::new(
        message,
        (to_i32(width) / 2, to_i32(height) / 2),
        message_style,
    ))
}

/// The label of an integer tick `value` of a category axis, `""` between categories or outside.
fn category<T: AsRef<str>>(labels: &[T], value: f64) -> String {
    let index = value.round();
    if (value - index).abs() > 1e-6 || index < 0.0 {
        return String::new();
    }
    // `index` is a non-negative whole number here.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    labels
        .get(index as usize)
        .map(|l| l.as_ref().to_owned())
        .unwrap_or_default()
}

/// A count axis with head room above `max` (whole-number ticks).
fn count_axis(max: u64) -> std::ops::Range<u64> {
    0..max.max(1) + max / 5 + 1
}

/// The style of axis labels.
fn label_style() -> TextStyle<'static> {
    (FONT, 15).into_font().color(&INK)
}

/// The style of titles.
fn title_style() -> TextStyle<'static> {
    (FONT, 22).into_font().color(&INK)
}

fn to_i32(pixels: u32) -> i32 {
    i32::try_from(pixels).unwrap_or(i32::MAX)
}

/// A count as a chart coordinate.
#[allow(clippy::cast_precision_loss)]
fn as_f64(count: u64) -> f64 {
    count as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_labels_only_whole_ticks_inside_the_axis() {
        let labels = ["a", "b"];
        assert_eq!(category(&labels, 0.0), "a");
        assert_eq!(category(&labels, 1.0), "b");
        assert_eq!(category(&labels, 0.5), "");
        assert_eq!(category(&labels, 2.0), "");
        assert_eq!(category(&labels, -1.0), "");
    }

    #[test]
    fn an_empty_chart_says_no_data() {
        let svg = render((400, 200), |area| no_data(area, "Title", "nothing here")).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("Title"));
        assert!(svg.contains("No data: nothing here"));
    }
}
