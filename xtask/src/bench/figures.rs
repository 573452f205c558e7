//! The figures table: each figure (listed in [`super::targets`]) computed from one run's
//! measurements, its target, and whether it is met.

use std::fmt::Write as _;

use super::http::HttpResults;
use super::report::{format_time, Entry, Throughput};
use super::targets::{Key, Measure, Target, FIGURES};

/// The line that opens the figures table.
pub(crate) const BEGIN: &str = "<!-- bench:figures:begin -->";
/// The line that closes the figures table.
pub(crate) const END: &str = "<!-- bench:figures:end -->";

/// The entry of `key`, if measured.
fn find(entries: &[Entry], (group, function, value): Key) -> Option<&Entry> {
    entries
        .iter()
        .find(|e| e.group == group && e.function.as_deref() == Some(function) && e.value.as_deref() == value)
}

/// A key as criterion names it.
fn name((group, function, value): Key) -> String {
    match value {
        Some(value) => format!("{group}/{function}/{value}"),
        None => format!("{group}/{function}"),
    }
}

/// Elements per second of `entry`, if it declares elements.
fn rate(entry: &Entry) -> Option<f64> {
    match entry.throughput {
        Some(Throughput::Elements(n)) => Some(n / (entry.mean_ns / 1e9)),
        _ => None,
    }
}

/// A figure's row, computed: (measured, reference, value) as text and the value.
struct Computed {
    /// The subject's measurement.
    subject: String,
    /// The reference's measurement.
    reference: String,
    /// The figure.
    value: f64,
}

fn compute(measure: Measure, entries: &[Entry], http: Option<&HttpResults>) -> Result<Computed, String> {
    let pair = |subject: Key, reference: Key| -> Result<(&Entry, &Entry), String> {
        let s = find(entries, subject).ok_or_else(|| format!("`{}` not measured", name(subject)))?;
        let r = find(entries, reference).ok_or_else(|| format!("`{}` not measured", name(reference)))?;
        Ok((s, r))
    };
    match measure {
        Measure::Speedup(subject, reference)
        | Measure::Share(subject, reference)
        | Measure::Added(subject, reference) => {
            let (s, r) = pair(subject, reference)?;
            let value = match measure {
                Measure::Added(..) => s.mean_ns - r.mean_ns,
                _ => r.mean_ns / s.mean_ns,
            };
            Ok(Computed {
                subject: format_time(s.mean_ns),
                reference: format_time(r.mean_ns),
                value,
            })
        }
        Measure::Flat(keys) => {
            let found: Vec<&Entry> = keys
                .iter()
                .map(|&k| find(entries, k).ok_or_else(|| format!("`{}` not measured", name(k))))
                .collect::<Result<_, _>>()?;
            let (first, rest) = found.split_first().ok_or("no benchmark named")?;
            let worst = rest
                .iter()
                .map(|e| e.mean_ns / first.mean_ns - 1.0)
                .fold(0.0_f64, |worst, d| if d.abs() > worst.abs() { d } else { worst });
            Ok(Computed {
                subject: rest
                    .iter()
                    .map(|e| format_time(e.mean_ns))
                    .collect::<Vec<_>>()
                    .join(", "),
                reference: format_time(first.mean_ns),
                value: worst,
            })
        }
        Measure::Time(subject) => {
            let s = find(entries, subject).ok_or_else(|| format!("`{}` not measured", name(subject)))?;
            Ok(Computed {
                subject: format_time(s.mean_ns),
                reference: String::new(),
                value: s.mean_ns,
            })
        }
        Measure::Rate(subject) => {
            let s = find(entries, subject).ok_or_else(|| format!("`{}` not measured", name(subject)))?;
            let value = rate(s).ok_or_else(|| format!("`{}` declares no element throughput", name(subject)))?;
            Ok(Computed {
                subject: format!("{} per batch round", format_time(s.mean_ns)),
                reference: String::new(),
                value,
            })
        }
        Measure::HttpShare => {
            let http = http.ok_or("`cargo xtask bench http` not run")?;
            Ok(Computed {
                subject: format!("{:.0} req/s", http.service.requests_per_sec),
                reference: format!("{:.0} req/s", http.hello.requests_per_sec),
                value: http.service.requests_per_sec / http.hello.requests_per_sec,
            })
        }
    }
}

/// A figure's value as text.
fn show(measure: Measure, value: f64) -> String {
    match measure {
        Measure::Speedup(..) => format!("{} faster", times(value)),
        Measure::Added(..) => format!("+{}", format_time(value)),
        Measure::Share(..) | Measure::HttpShare => format!("{:.0}% of the reference", value * 100.0),
        Measure::Flat(..) => format!("{:+.0}%", value * 100.0),
        Measure::Rate(..) => format!("{:.0} events/s", value),
        Measure::Time(..) => format_time(value),
    }
}

/// A target as text.
fn show_target(measure: Measure, target: Target) -> String {
    let bound = |x: f64| match measure {
        Measure::Speedup(..) => format!("{} faster", times(x)),
        Measure::Added(..) => format!("+{}", format_time(x)),
        Measure::Share(..) | Measure::HttpShare => format!("{:.0}%", x * 100.0),
        Measure::Flat(..) => format!("±{:.0}%", x * 100.0),
        Measure::Rate(..) => format!("{x:.0} events/s"),
        Measure::Time(..) => format_time(x),
    };
    match target {
        Target::AtLeast(x) => format!("≥ {}", bound(x)),
        Target::AtMost(x) => format!("≤ {}", bound(x)),
        Target::Shown => "— (shown)".to_string(),
    }
}

/// `12.3×`, three significant digits or so.
fn times(x: f64) -> String {
    if x < 10.0 {
        format!("{x:.2}×")
    } else if x < 100.0 {
        format!("{x:.1}×")
    } else {
        format!("{x:.0}×")
    }
}

/// The figures table (without the markers).
pub(crate) fn render(entries: &[Entry], http: Option<&HttpResults>) -> String {
    let mut out = String::from(
        "| figure | what | measured | reference | ratio | target | status |\n\
         | --- | --- | ---: | ---: | ---: | --- | --- |\n",
    );
    for figure in FIGURES {
        let (subject, reference, ratio, status) = match compute(figure.measure, entries, http) {
            Ok(c) => {
                let met = match figure.target {
                    Target::AtLeast(x) => Some(c.value >= x),
                    Target::AtMost(x) => Some(c.value.abs() <= x),
                    Target::Shown => None,
                };
                let status = match met {
                    Some(true) => "met",
                    Some(false) => "**missed**",
                    None => "—",
                };
                (
                    c.subject,
                    c.reference,
                    show(figure.measure, c.value),
                    status.to_string(),
                )
            }
            Err(why) => (
                String::new(),
                String::new(),
                String::new(),
                format!("not measured: {why}"),
            ),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {subject} | {reference} | {ratio} | {} | {status} |",
            figure.id,
            figure.what,
            show_target(figure.measure, figure.target)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::wrk::Report;

    fn entry(group: &str, function: &str, value: Option<&str>, mean_ns: f64) -> Entry {
        Entry {
            group: group.into(),
            function: Some(function.into()),
            value: value.map(Into::into),
            mean_ns,
            throughput: Some(Throughput::Elements(1.0)),
        }
    }

    fn row<'a>(table: &'a str, what: &str) -> &'a str {
        table.lines().find(|l| l.contains(what)).unwrap_or("")
    }

    #[test]
    fn ratios_targets_and_status() {
        let entries = vec![
            entry("vs_cqrs_es", "reference_cqrs_es", Some("10"), 3_000.0),
            entry("vs_cqrs_es", "hive", Some("10"), 1_000.0),
            entry("vs_cqrs_es", "reference_cqrs_es", Some("100"), 10_000.0),
            entry("vs_cqrs_es", "hive", Some("100"), 5_000.0),
            entry("bus", "full_default_stack", None, 450.0),
            entry("bus", "baseline_direct_call", None, 100.0),
            entry("command_latency", "hive", Some("10"), 100.0),
            entry("command_latency", "hive", Some("1000"), 105.0),
            entry("command_latency", "hive", Some("10000"), 70.0),
            entry("command_latency", "hive", Some("100000"), 108.0),
            entry("command_latency", "hive", Some("1000000"), 110.0),
        ];
        let table = render(&entries, None);
        assert!(
            row(&table, "| command, 10 events/stream").contains("| 3.00× faster | ≥ 2.00× faster | met |"),
            "{table}"
        );
        assert!(
            row(&table, "| command, 100 events/stream").contains("| 2.00× faster | ≥ 5.00× faster | **missed** |"),
            "{table}"
        );
        assert!(
            row(&table, "middleware").contains("| +350 ns | ≤ +300 ns | **missed** |"),
            "{table}"
        );
        assert!(
            row(&table, "largest deviation").contains("| -30% | ≤ ±10% | **missed** |"),
            "{table}"
        );
        assert!(
            row(&table, "10 000 events/stream").contains("not measured: `vs_cqrs_es/hive/10000`"),
            "{table}"
        );
    }

    #[test]
    fn http_share_comes_from_wrk() {
        let report = |rate: f64| Report {
            requests_per_sec: rate,
            p50_us: 100.0,
            p99_us: 900.0,
            requests: 1_000,
            errors: 0,
        };
        let http = HttpResults {
            load: "wrk -t2 -c32 -d10s".into(),
            date: "2026-11-23 06:00 UTC".into(),
            service: report(29_000.0),
            hello: report(50_000.0),
        };
        let table = render(&[], Some(&http));
        assert!(
            row(&table, "HTTP").contains("| 29000 req/s | 50000 req/s | 58% of the reference | ≥ 60% | **missed** |"),
            "{table}"
        );
    }
}
