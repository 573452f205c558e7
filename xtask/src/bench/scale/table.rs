//! The figures of `cargo xtask bench scale` and their table; the small parsers the run needs
//! (the seeder's summary, `/proc/<pid>/status`, the `--payments` sizes).

use std::fmt::Write as _;
use std::time::Duration;

use super::super::report::short;

/// The line that opens the latest run's table in docs/performance.md.
pub(crate) const BEGIN: &str = "<!-- bench:scale:begin -->";
/// The line that closes it.
pub(crate) const END: &str = "<!-- bench:scale:end -->";
/// The line that opens the "before" table (`--baseline`), which other runs leave alone.
pub(crate) const BEFORE_BEGIN: &str = "<!-- bench:scale-before:begin -->";
/// The line that closes it.
pub(crate) const BEFORE_END: &str = "<!-- bench:scale-before:end -->";

/// The first and the repeated call of one query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Timing {
    /// The request, as markdown (e.g. `` `GET /events/heatmap` ``).
    pub(crate) label: String,
    /// The first call after the start.
    pub(crate) first: Duration,
    /// The same call again, right after.
    pub(crate) repeat: Duration,
}

/// What one size's run measured.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Figures {
    /// Payments seeded.
    pub(crate) payments: u32,
    /// Events stored, as the seeder counts them.
    pub(crate) events: u64,
    /// How long `hive demo seed` ran.
    pub(crate) seed: Duration,
    /// The seeder's peak resident memory (`VmHWM`, sampled), in KiB.
    pub(crate) seed_peak_kib: Option<u64>,
    /// The size of `events.log`, in bytes.
    pub(crate) log_bytes: u64,
    /// From spawning the service to its first ready answer of `GET /readyz`.
    pub(crate) ready: Duration,
    /// Resident memory once ready (`VmRSS`), in KiB.
    pub(crate) rss_ready_kib: u64,
    /// Peak resident memory up to ready (`VmHWM`), in KiB.
    pub(crate) peak_ready_kib: u64,
    /// The queries, in the order they ran.
    pub(crate) queries: Vec<Timing>,
    /// How many payments the search matched.
    pub(crate) search_matches: u64,
    /// Resident memory after the queries (`VmRSS`), in KiB.
    pub(crate) rss_after_kib: u64,
    /// From SIGTERM to the service's exit.
    pub(crate) stop: Duration,
    /// Every file of the data directory once the service stopped, in bytes.
    pub(crate) dir_bytes: u64,
}

/// Where and how the figures were measured.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    /// The machine, e.g. `2 × AMD EPYC`.
    pub(crate) machine: String,
    /// When, e.g. `2026-12-06 04:10 UTC`.
    pub(crate) date: String,
    /// The command, as typed.
    pub(crate) command: String,
}

/// The section between the markers: how it was measured, then one row per figure and one
/// column per size.
pub(crate) fn render(figures: &[Figures], context: &Context) -> String {
    let mut out = format!(
        "Measured on {}, {}, with `{}`.\n\n| figure | unit |",
        context.machine, context.date, context.command
    );
    for f in figures {
        let _ = write!(out, " {} payments |", group(u64::from(f.payments)));
    }
    out.push_str("\n| --- | --- |");
    out.push_str(&" ---: |".repeat(figures.len()));
    out.push('\n');
    let mut row = |figure: &str, unit: &str, cell: &dyn Fn(&Figures) -> String| {
        let _ = write!(out, "| {figure} | {unit} |");
        for f in figures {
            let _ = write!(out, " {} |", cell(f));
        }
        out.push('\n');
    };
    let per_second = |count: u64, time: Duration| group((count as f64 / time.as_secs_f64().max(1e-9)).round() as u64);
    row("events stored", "events", &|f| group(f.events));
    row("seeding: `hive demo seed`", "s", &|f| figure(f.seed.as_secs_f64()));
    row("seeding rate", "payments/s", &|f| {
        per_second(u64::from(f.payments), f.seed)
    });
    row("seeding rate", "events/s", &|f| per_second(f.events, f.seed));
    row("seeding: peak resident memory", "MiB", &|f| {
        f.seed_peak_kib.map_or("—".into(), mib)
    });
    row("`events.log`", "MiB", &|f| figure(f.log_bytes as f64 / MIB));
    row("log bytes per event", "B", &|f| {
        figure(per_event(f.log_bytes, f.events))
    });
    row("start to ready (spawn to `GET /readyz` 200)", "s", &|f| {
        figure(f.ready.as_secs_f64())
    });
    row("resident memory once ready", "MiB", &|f| mib(f.rss_ready_kib));
    row("resident bytes per event once ready", "B", &|f| {
        figure(per_event(f.rss_ready_kib * 1024, f.events))
    });
    row("peak resident memory while starting", "MiB", &|f| mib(f.peak_ready_kib));
    let labels: Vec<String> = figures
        .first()
        .map(|f| f.queries.iter().map(|q| q.label.clone()).collect())
        .unwrap_or_default();
    for (i, label) in labels.iter().enumerate() {
        let time = |pick: fn(&Timing) -> Duration| {
            move |f: &Figures| {
                f.queries
                    .get(i)
                    .map_or("—".into(), |q| figure(pick(q).as_secs_f64() * 1e3))
            }
        };
        row(&format!("{label}, first call"), "ms", &time(|q| q.first));
        row(&format!("{label}, repeat"), "ms", &time(|q| q.repeat));
    }
    row("payments the search matched", "payments", &|f| group(f.search_matches));
    row("resident memory after the queries", "MiB", &|f| mib(f.rss_after_kib));
    row("stop (SIGTERM to exit)", "s", &|f| figure(f.stop.as_secs_f64()));
    row("data directory once stopped (every file)", "MiB", &|f| {
        figure(f.dir_bytes as f64 / MIB)
    });
    out
}

/// Bytes in a MiB.
const MIB: f64 = 1024.0 * 1024.0;

/// KiB as MiB, three significant digits or so.
fn mib(kib: u64) -> String {
    figure(kib as f64 / 1024.0)
}

/// `bytes` shared by `events`.
fn per_event(bytes: u64, events: u64) -> f64 {
    bytes as f64 / events.max(1) as f64
}

/// A measured value: three significant digits or so below 1 000, a whole number with its
/// thousands apart above.
fn figure(x: f64) -> String {
    if x >= 999.5 {
        group(x.round() as u64)
    } else {
        short(x)
    }
}

/// A whole number with its thousands apart: `2 700 000`.
pub(crate) fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(digit);
    }
    out
}

/// A field of `/proc/<pid>/status` given in kB (`VmRSS`, `VmHWM`), in KiB.
pub(crate) fn status_kib(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        let number = value.trim().strip_suffix("kB")?;
        number.trim().parse().ok()
    })
}

/// What `hive demo seed` says it did, from its last line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeedSummary {
    /// Payments created.
    pub(crate) payments: u64,
    /// Processed (refunded ones included).
    pub(crate) processed: u64,
    /// Refunded, in part or in full.
    pub(crate) refunded: u64,
    /// Failed.
    pub(crate) failed: u64,
}

impl SeedSummary {
    /// The events the seeder stored: one per command (create, process, refund, fail).
    pub(crate) fn events(self) -> u64 {
        self.payments + self.processed + self.refunded + self.failed
    }
}

/// Reads the seeder's summary line, `seeded N payments over the last 30 days: P pending,
/// Q processed (R of them refunded), F failed`, from its output.
pub(crate) fn seed_summary(output: &str) -> Option<SeedSummary> {
    let line = output.lines().rev().find(|line| line.starts_with("seeded "))?;
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|word| !word.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    match numbers[..] {
        [payments, _days, pending, processed, refunded, failed] if pending + processed + failed == payments => {
            Some(SeedSummary {
                payments,
                processed,
                refunded,
                failed,
            })
        }
        _ => None,
    }
}

/// One `--payments` size: a whole number from 1 to 4 294 967 295, with `_` between digits
/// allowed and a `k` or `M` suffix (`100_000`, `100k`, `1M`).
pub(crate) fn parse_payments(text: &str) -> Result<u32, String> {
    let clean = text.trim().replace('_', "");
    let (number, factor) = match clean.strip_suffix(['k', 'K']) {
        Some(number) => (number, 1_000),
        None => match clean.strip_suffix('M') {
            Some(number) => (number, 1_000_000),
            None => (clean.as_str(), 1),
        },
    };
    let expected = || format!("expected a number of payments like 100000, 100_000, 100k or 1M, not `{text}`");
    let number: u64 = number.parse().map_err(|_| expected())?;
    let too_many = || format!("`{text}` is more than {} payments", u32::MAX);
    match u32::try_from(number.checked_mul(factor).ok_or_else(too_many)?) {
        Ok(0) => Err("at least 1 payment".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(too_many()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(payments: u32, events: u64) -> Figures {
        Figures {
            payments,
            events,
            seed: Duration::from_secs(50),
            seed_peak_kib: Some(512 * 1024),
            log_bytes: 117 * 1024 * 1024,
            ready: Duration::from_millis(4_030),
            rss_ready_kib: 723 * 1024,
            peak_ready_kib: 800 * 1024,
            queries: vec![
                Timing {
                    label: "`GET /events/heatmap`".into(),
                    first: Duration::from_micros(812_400),
                    repeat: Duration::from_micros(350),
                },
                Timing {
                    label: "`GET /payments/statistics`".into(),
                    first: Duration::from_millis(105),
                    repeat: Duration::from_micros(4_250),
                },
            ],
            search_matches: 3_125,
            rss_after_kib: 731 * 1024,
            stop: Duration::from_millis(120),
            dir_bytes: 130 * 1024 * 1024,
        }
    }

    #[test]
    fn the_table_has_a_row_per_figure_and_a_column_per_size() {
        let context = Context {
            machine: "2 × Test CPU".into(),
            date: "2026-12-06 04:10 UTC".into(),
            command: "cargo xtask bench scale --payments 100000,1000000".into(),
        };
        let mut big = figures(1_000_000, 2_700_000);
        big.seed_peak_kib = None;
        big.queries.pop();
        let table = render(&[figures(100_000, 270_000), big], &context);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "Measured on 2 × Test CPU, 2026-12-06 04:10 UTC, with `cargo xtask bench scale --payments 100000,1000000`."
        );
        assert_eq!(lines[2], "| figure | unit | 100 000 payments | 1 000 000 payments |");
        assert_eq!(lines[3], "| --- | --- | ---: | ---: |");
        for expected in [
            "| events stored | events | 270 000 | 2 700 000 |",
            "| seeding: `hive demo seed` | s | 50.0 | 50.0 |",
            "| seeding rate | payments/s | 2 000 | 20 000 |",
            "| seeding rate | events/s | 5 400 | 54 000 |",
            "| seeding: peak resident memory | MiB | 512 | — |",
            "| `events.log` | MiB | 117 | 117 |",
            "| log bytes per event | B | 454 | 45.4 |",
            "| start to ready (spawn to `GET /readyz` 200) | s | 4.03 | 4.03 |",
            "| resident memory once ready | MiB | 723 | 723 |",
            "| resident bytes per event once ready | B | 2 808 | 281 |",
            "| `GET /events/heatmap`, first call | ms | 812 | 812 |",
            "| `GET /events/heatmap`, repeat | ms | 0.35 | 0.35 |",
            "| `GET /payments/statistics`, first call | ms | 105 | — |",
            "| `GET /payments/statistics`, repeat | ms | 4.25 | — |",
            "| payments the search matched | payments | 3 125 | 3 125 |",
            "| resident memory after the queries | MiB | 731 | 731 |",
            "| stop (SIGTERM to exit) | s | 0.12 | 0.12 |",
            "| data directory once stopped (every file) | MiB | 130 | 130 |",
        ] {
            assert!(lines.contains(&expected), "no row `{expected}` in\n{table}");
        }
        assert_eq!(lines.len(), 4 + 11 + 4 + 4, "{table}");
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(figure(0.354), "0.35");
        assert_eq!(figure(999.4), "999");
        assert_eq!(figure(999.6), "1 000");
        assert_eq!(figure(74_386.2), "74 386");
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1_000), "1 000");
        assert_eq!(group(270_123), "270 123");
        assert_eq!(group(2_700_000), "2 700 000");
    }

    #[test]
    fn resident_memory_is_read_from_proc_status() {
        let status = "Name:\thive\nVmPeak:\t 2000000 kB\nVmHWM:\t  812345 kB\nVmRSS:\t  740000 kB\nThreads:\t5\n";
        assert_eq!(status_kib(status, "VmRSS"), Some(740_000));
        assert_eq!(status_kib(status, "VmHWM"), Some(812_345));
        assert_eq!(status_kib(status, "VmSwap"), None);
        assert_eq!(status_kib("Threads:\t5\n", "Threads"), None, "not a kB field");
    }

    #[test]
    fn the_seeders_summary_gives_the_events() {
        let output = "demo seed: 99900/100000 payments\ndemo seed: 100000/100000 payments, done in 50 s\n\
                      seeded 100000 payments over the last 30 days: 15000 pending, 70000 processed (13000 of them refunded), 15000 failed\n";
        let summary = seed_summary(output);
        assert_eq!(
            summary,
            Some(SeedSummary {
                payments: 100_000,
                processed: 70_000,
                refunded: 13_000,
                failed: 15_000,
            })
        );
        assert_eq!(summary.map(SeedSummary::events), Some(198_000));
        assert_eq!(seed_summary("demo seed: started\n"), None);
        assert_eq!(
            seed_summary(
                "seeded 10 payments over the last 30 days: 1 pending, 2 processed (1 of them refunded), 3 failed"
            ),
            None,
            "the counts do not add up"
        );
    }

    #[test]
    fn sizes_read_with_separators_and_suffixes() {
        assert_eq!(parse_payments("100000"), Ok(100_000));
        assert_eq!(parse_payments("100_000"), Ok(100_000));
        assert_eq!(parse_payments("300k"), Ok(300_000));
        assert_eq!(parse_payments("1M"), Ok(1_000_000));
        assert!(parse_payments("0").is_err());
        assert!(parse_payments("-5").is_err());
        assert!(parse_payments("1.5M").is_err());
        assert!(parse_payments("5000M").is_err_and(|e| e.contains("more than")));
        assert!(parse_payments("18446744073709551615M").is_err_and(|e| e.contains("more than")));
    }
}
