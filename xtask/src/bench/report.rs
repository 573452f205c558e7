//! The results table of docs/performance.md: pure rendering and marker replacement.

use std::cmp::Ordering;
use std::fmt::Write as _;

/// The line that opens the generated section.
pub(crate) const BEGIN: &str = "<!-- bench:begin -->";
/// The line that closes the generated section.
pub(crate) const END: &str = "<!-- bench:end -->";

/// The start of a new docs/performance.md; the section is appended after it.
pub(crate) const HEADER: &str = "# Performance

How Hive's speed is measured. The benchmarks are the criterion benches in the crates' `benches/`
folders. `cargo xtask bench` runs them all (`cargo xtask bench NAME` runs one bench target;
`--quick` makes a short smoke run whose numbers are rough), then reads criterion's results
(`target/criterion/**/new/estimates.json` and `benchmark.json`) and rewrites the table between
the `bench:begin` and `bench:end` markers below. Everything outside the markers is kept: write
the analysis there, not inside.

Times are criterion's estimate of the mean time of one iteration. Throughput is shown where the
benchmark declares one. In a group that has a benchmark whose name starts with `baseline` or
`reference`, the last column gives each benchmark's time as a multiple of that baseline's
(lower is faster).
";

/// What a benchmark processes per iteration, as criterion records it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Throughput {
    /// Bytes, shown in binary units (KiB/s, MiB/s, ...).
    Bytes(f64),
    /// Bytes, shown in decimal units (KB/s, MB/s, ...).
    BytesDecimal(f64),
    /// Elements (events, commands, ...), shown as elem/s.
    Elements(f64),
}

/// One benchmark's result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    /// Criterion's group id (the whole id for a lone `bench_function`).
    pub(crate) group: String,
    /// The function id within the group, if any.
    pub(crate) function: Option<String>,
    /// The parameter value, if any.
    pub(crate) value: Option<String>,
    /// The mean time of one iteration, in nanoseconds.
    pub(crate) mean_ns: f64,
    /// The declared throughput per iteration, if any.
    pub(crate) throughput: Option<Throughput>,
}

impl Entry {
    /// The benchmark's name within its group: function id and parameter, joined by `/`.
    fn name(&self) -> String {
        let parts: Vec<&str> = [&self.function, &self.value]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if parts.is_empty() {
            "—".to_string()
        } else {
            parts.join("/")
        }
    }

    /// Whether this is the benchmark the others in its group are compared with.
    fn is_baseline(&self) -> bool {
        self.function
            .as_deref()
            .is_some_and(|f| f.starts_with("baseline") || f.starts_with("reference"))
    }
}

/// Where and how the numbers were measured.
#[derive(Debug, Clone)]
pub(crate) struct RunContext {
    /// The machine, e.g. `2 × Intel(R) Xeon(R) ...`.
    pub(crate) machine: String,
    /// When, e.g. `2026-11-23 01:50 UTC`.
    pub(crate) date: String,
    /// The exact command that produced the numbers, as markdown.
    pub(crate) command: String,
}

/// The generated section (without the markers): how it was measured, then the table.
pub(crate) fn render_section(entries: &[Entry], context: &RunContext) -> String {
    let mut entries = entries.to_vec();
    entries.sort_by(compare);
    let mut out = format!(
        "Measured on {}, {}, with {}.\n\n| group | benchmark | mean time | throughput | vs baseline |\n\
         | --- | --- | ---: | ---: | ---: |\n",
        context.machine, context.date, context.command
    );
    for entry in &entries {
        let throughput = entry
            .throughput
            .map(|t| format_throughput(t, entry.mean_ns))
            .unwrap_or_default();
        let ratio = match baseline_of(entry, &entries) {
            Some(base) if std::ptr::eq(base, entry) => "1.00× (baseline)".to_string(),
            Some(base) => format_ratio(entry.mean_ns / base.mean_ns),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {throughput} | {ratio} |",
            escape(&entry.group),
            escape(&entry.name()),
            format_time(entry.mean_ns)
        );
    }
    out
}

/// The baseline `entry` is compared with: the group's baseline with the same parameter, else
/// the group's only baseline.
fn baseline_of<'a>(entry: &Entry, entries: &'a [Entry]) -> Option<&'a Entry> {
    let baselines: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.group == entry.group && e.is_baseline())
        .collect();
    let same_parameter = baselines.iter().copied().find(|b| b.value == entry.value);
    same_parameter.or(match baselines[..] {
        [only] => Some(only),
        _ => None,
    })
}

/// Table order: by group, function, then parameter (numbers by value).
fn compare(a: &Entry, b: &Entry) -> Ordering {
    let value = |e: &Entry| e.value.as_deref().map(|v| (v.parse::<f64>().ok(), v.to_string()));
    a.group
        .cmp(&b.group)
        .then_with(|| a.function.cmp(&b.function))
        .then_with(|| match (value(a), value(b)) {
            (Some((Some(x), _)), Some((Some(y), _))) => x.total_cmp(&y),
            (x, y) => x.map(|v| v.1).cmp(&y.map(|v| v.1)),
        })
}

/// `|` would end a table cell.
fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

/// A number with three significant digits or so.
pub(crate) fn short(x: f64) -> String {
    if x < 10.0 {
        format!("{x:.2}")
    } else if x < 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    }
}

/// A duration in nanoseconds, in the unit that reads best.
pub(crate) fn format_time(ns: f64) -> String {
    let (value, unit) = if ns < 1.0 {
        (ns * 1e3, "ps")
    } else if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    format!("{} {unit}", short(value))
}

/// A rate: `throughput` per iteration of `mean_ns`.
pub(crate) fn format_throughput(throughput: Throughput, mean_ns: f64) -> String {
    let per_second = |n: f64| n / (mean_ns / 1e9);
    let (rate, step, units): (f64, f64, [&str; 5]) = match throughput {
        Throughput::Bytes(n) => (per_second(n), 1024.0, ["B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s"]),
        Throughput::BytesDecimal(n) => (per_second(n), 1000.0, ["B/s", "KB/s", "MB/s", "GB/s", "TB/s"]),
        Throughput::Elements(n) => (
            per_second(n),
            1000.0,
            ["elem/s", "Kelem/s", "Melem/s", "Gelem/s", "Telem/s"],
        ),
    };
    let mut value = rate;
    let mut unit = 0;
    while value >= step && unit + 1 < units.len() {
        value /= step;
        unit += 1;
    }
    format!("{} {}", short(value), units[unit])
}

/// A multiple of the baseline's time.
fn format_ratio(ratio: f64) -> String {
    format!("{}×", short(ratio))
}

/// `doc` with the text between the lines `begin` and `end` replaced by `section`; the section
/// (with its markers) is appended when `doc` has neither marker yet.
pub(crate) fn replace_between(doc: &str, begin: &str, end: &str, section: &str) -> Result<String, String> {
    let block = format!("{begin}\n{}\n{end}", section.trim_end());
    match (doc.find(begin), doc.find(end)) {
        (Some(b), Some(e)) if b < e => Ok(format!("{}{block}{}", &doc[..b], &doc[e + end.len()..])),
        (None, None) => {
            let separator = if doc.is_empty() || doc.ends_with("\n\n") {
                ""
            } else if doc.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            };
            Ok(format!("{doc}{separator}{block}\n"))
        }
        _ => Err(format!(
            "the markers are broken: expect one `{begin}` line, then one `{end}` line"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(group: &str, function: Option<&str>, value: Option<&str>, mean_ns: f64) -> Entry {
        Entry {
            group: group.into(),
            function: function.map(Into::into),
            value: value.map(Into::into),
            mean_ns,
            throughput: None,
        }
    }

    fn context() -> RunContext {
        RunContext {
            machine: "2 × Test CPU".into(),
            date: "2026-11-23 01:50 UTC".into(),
            command: "`cargo bench`".into(),
        }
    }

    #[test]
    fn times_and_rates_read_in_the_best_unit() {
        assert_eq!(format_time(0.5627), "563 ps");
        assert_eq!(format_time(706.78), "707 ns");
        assert_eq!(format_time(1_500.0), "1.50 µs");
        assert_eq!(format_time(25_000_000.0), "25.0 ms");
        assert_eq!(format_time(3e9), "3.00 s");
        assert_eq!(format_throughput(Throughput::Elements(1000.0), 1000.0), "1.00 Gelem/s");
        assert_eq!(format_throughput(Throughput::Bytes(1024.0), 1e9), "1.00 KiB/s");
        assert_eq!(format_throughput(Throughput::BytesDecimal(10.0), 1e9), "10.0 B/s");
    }

    #[test]
    fn the_table_sorts_and_compares_with_the_baseline() {
        let mut fold = entry("sum", Some("iter_fold"), None, 700.0);
        fold.throughput = Some(Throughput::Elements(1000.0));
        let entries = vec![
            entry("param", Some("vec"), Some("100"), 43.0),
            fold,
            entry("lonely", None, None, 0.34),
            entry("param", Some("vec"), Some("10"), 42.0),
            entry("sum", Some("baseline_loop"), None, 350.0),
        ];
        let section = render_section(&entries, &context());
        let expected = "Measured on 2 × Test CPU, 2026-11-23 01:50 UTC, with `cargo bench`.

| group | benchmark | mean time | throughput | vs baseline |
| --- | --- | ---: | ---: | ---: |
| lonely | — | 340 ps |  |  |
| param | vec/10 | 42.0 ns |  |  |
| param | vec/100 | 43.0 ns |  |  |
| sum | baseline_loop | 350 ns |  | 1.00× (baseline) |
| sum | iter_fold | 700 ns | 1.43 Gelem/s | 2.00× |
";
        assert_eq!(section, expected);
    }

    #[test]
    fn parameterised_baselines_match_by_parameter() {
        let entries = vec![
            entry("append", Some("reference_vec"), Some("10"), 10.0),
            entry("append", Some("reference_vec"), Some("100"), 100.0),
            entry("append", Some("memory"), Some("10"), 30.0),
            entry("append", Some("memory"), Some("100"), 150.0),
            entry("append", Some("memory"), Some("1000"), 900.0),
        ];
        let section = render_section(&entries, &context());
        assert!(
            section.contains("| append | memory/10 | 30.0 ns |  | 3.00× |"),
            "{section}"
        );
        assert!(
            section.contains("| append | memory/100 | 150 ns |  | 1.50× |"),
            "{section}"
        );
        assert!(
            section.contains("| append | memory/1000 | 900 ns |  |  |"),
            "two baselines, none for 1000: {section}"
        );
    }

    #[test]
    fn pipes_in_names_are_escaped() {
        let section = render_section(&[entry("a|b", Some("c"), None, 1.0)], &context());
        assert!(section.contains("| a\\|b | c |"), "{section}");
    }

    #[test]
    fn the_section_between_the_markers_is_replaced_and_the_rest_kept() -> Result<(), String> {
        let doc = format!("# Perf\n\nintro\n\n{BEGIN}\nold table\n{END}\n\n## Analysis\nkept\n");
        let new = replace_between(&doc, BEGIN, END, "new table\n")?;
        assert_eq!(
            new,
            format!("# Perf\n\nintro\n\n{BEGIN}\nnew table\n{END}\n\n## Analysis\nkept\n")
        );
        assert_eq!(
            replace_between(&new, BEGIN, END, "new table")?,
            new,
            "replacing again changes nothing"
        );
        Ok(())
    }

    #[test]
    fn a_doc_without_markers_gets_the_section_appended() -> Result<(), String> {
        assert_eq!(
            replace_between("# Perf\n", BEGIN, END, "t")?,
            format!("# Perf\n\n{BEGIN}\nt\n{END}\n")
        );
        assert_eq!(
            replace_between(HEADER, BEGIN, END, "t")?,
            format!("{HEADER}\n{BEGIN}\nt\n{END}\n")
        );
        Ok(())
    }

    #[test]
    fn broken_markers_are_an_error() {
        assert!(replace_between(&format!("{END}\n{BEGIN}\n"), BEGIN, END, "t").is_err());
        assert!(replace_between(&format!("{BEGIN}\nno end\n"), BEGIN, END, "t").is_err());
    }
}
