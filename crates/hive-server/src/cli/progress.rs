//! Progress of a long operator command: a bar when standard error is a terminal, plain lines
//! otherwise (a log file, a pipe, a CI job), where a bar would be invisible or a mess of
//! carriage returns.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// The longest a plain-line progress stays silent while the count moves.
const PLAIN_PERIOD: Duration = Duration::from_secs(1);

/// The progress of one task counted in `unit`s (`events`, `payments`), towards a total when
/// it is known.
///
/// On a terminal it is an indicatif bar (a spinner without a total) on standard error.
/// Otherwise it writes lines `{label}: {done}/{total} {unit}` to standard error: one whenever
/// the count moved by `every` since the last line or a second passed with the count moving,
/// and a final one `{label}: {done}/{total} {unit}, done in {seconds} s`. Without a total the
/// lines are `{label}: {done} {unit}`, after a first line `{label}: started`.
pub struct Progress {
    label: String,
    unit: &'static str,
    every: u64,
    started: Instant,
    mode: Mode,
}

enum Mode {
    Bar(ProgressBar),
    Lines(Mutex<Lines>),
}

struct Lines {
    out: Box<dyn Write + Send>,
    total: Option<u64>,
    printed: u64,
    at: Instant,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("label", &self.label)
            .field("unit", &self.unit)
            .field("bar", &matches!(self.mode, Mode::Bar(_)))
            .finish_non_exhaustive()
    }
}

impl Progress {
    /// A bar if standard error is a terminal, plain lines on standard error otherwise; a
    /// plain line at least every `every` units.
    pub fn new(label: impl Into<String>, unit: &'static str, total: u64, every: u64) -> Self {
        Self::on_stderr(label, unit, Some(total), every)
    }

    /// A task whose total is not known in advance: a spinner on a terminal; otherwise a line
    /// when it starts and one when it ends.
    pub fn open_ended(label: impl Into<String>, unit: &'static str) -> Self {
        Self::on_stderr(label, unit, None, u64::MAX)
    }

    fn on_stderr(label: impl Into<String>, unit: &'static str, total: Option<u64>, every: u64) -> Self {
        if std::io::stderr().is_terminal() {
            Self::bar(label, unit, total)
        } else {
            Self::lines(label, unit, total, every, Box::new(std::io::stderr()))
        }
    }

    /// An indicatif bar (or spinner) on standard error.
    fn bar(label: impl Into<String>, unit: &'static str, total: Option<u64>) -> Self {
        let label = label.into();
        let (bar, template) = match total {
            Some(total) => (
                ProgressBar::new(total),
                format!("{{msg:<28}} [{{bar:40}}] {{pos}}/{{len}} {unit}, {{per_sec}}, ETA {{eta}}"),
            ),
            None => (
                ProgressBar::new_spinner(),
                format!("{{spinner}} {{msg}} {{pos}} {unit} {{elapsed}}"),
            ),
        };
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        if total.is_none() {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        bar.set_message(label.clone());
        Self {
            label,
            unit,
            every: 1,
            started: Instant::now(),
            mode: Mode::Bar(bar),
        }
    }

    /// Plain lines written to `out`.
    fn lines(
        label: impl Into<String>,
        unit: &'static str,
        total: Option<u64>,
        every: u64,
        out: Box<dyn Write + Send>,
    ) -> Self {
        let now = Instant::now();
        let label = label.into();
        let mut lines = Lines {
            out,
            total,
            printed: 0,
            at: now,
        };
        if total.is_none() {
            lines.write(&format!("{label}: started"));
        }
        Self {
            label,
            unit,
            every: every.max(1),
            started: now,
            mode: Mode::Lines(Mutex::new(lines)),
        }
    }

    /// Whether this is a bar (standard error is a terminal).
    pub fn is_bar(&self) -> bool {
        matches!(self.mode, Mode::Bar(_))
    }

    /// `done` units are done.
    pub fn set(&self, done: u64) {
        match &self.mode {
            Mode::Bar(bar) => Self::move_bar(bar, done),
            Mode::Lines(lines) => {
                let mut lines = lines.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let moved = done.saturating_sub(lines.printed);
                // The last count is the final line's (`finish`).
                let last = lines.total.is_some_and(|total| done == total);
                if !last && (moved >= self.every || (moved > 0 && lines.at.elapsed() >= PLAIN_PERIOD)) {
                    let line = format!("{}: {} {}", self.label, lines.count(done), self.unit);
                    lines.write(&line);
                    lines.printed = done;
                    lines.at = Instant::now();
                }
            }
        }
    }

    /// The task ended with `done` units done: the bar is completed, or the final line written.
    pub fn finish(&self, done: u64) {
        match &self.mode {
            Mode::Bar(bar) => {
                Self::move_bar(bar, done);
                bar.finish();
            }
            Mode::Lines(lines) => {
                let mut lines = lines.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let line = format!(
                    "{}: {} {}, done in {:.1} s",
                    self.label,
                    lines.count(done),
                    self.unit,
                    self.started.elapsed().as_secs_f64()
                );
                lines.write(&line);
                lines.printed = done;
            }
        }
    }
}

impl Progress {
    fn move_bar(bar: &ProgressBar, done: u64) {
        if bar.length().is_some_and(|length| done > length) {
            bar.set_length(done);
        }
        bar.set_position(done);
    }
}

impl Lines {
    /// `{done}/{total}`, the total raised to `done` when the count passed it; `{done}` alone
    /// without a total.
    fn count(&mut self, done: u64) -> String {
        match &mut self.total {
            Some(total) => {
                *total = (*total).max(done);
                format!("{done}/{total}")
            }
            None => done.to_string(),
        }
    }

    fn write(&mut self, line: &str) {
        // Progress is best effort: a closed standard error does not fail the command.
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use hive_testkit::CapturedLog;

    use super::*;

    #[test]
    fn plain_lines_every_n_units_and_a_final_one() {
        let out = CapturedLog::default();
        let progress = Progress::lines(
            "billing.payment_read_model",
            "events",
            Some(2400),
            1000,
            Box::new(out.clone()),
        );
        assert!(!progress.is_bar());
        for done in (0..=2400).step_by(100) {
            progress.set(done);
        }
        progress.finish(2400);
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0], "billing.payment_read_model: 1000/2400 events");
        assert_eq!(lines[1], "billing.payment_read_model: 2000/2400 events");
        assert!(
            lines[2].starts_with("billing.payment_read_model: 2400/2400 events, done in "),
            "{text}"
        );
        assert!(
            !text.contains('\r') && !text.contains('\u{1b}'),
            "no terminal control: {text:?}"
        );
    }

    #[test]
    fn a_plain_line_every_second_while_the_count_moves() {
        let out = CapturedLog::default();
        let progress = Progress::lines("demo seed", "payments", Some(50), 1000, Box::new(out.clone()));
        progress.set(3);
        assert_eq!(out.text(), "", "neither 1000 payments nor a second yet");
        if let Mode::Lines(lines) = &progress.mode {
            lines.lock().unwrap().at = Instant::now() - PLAIN_PERIOD;
        }
        progress.set(3);
        assert_eq!(out.text(), "demo seed: 3/50 payments\n");
        if let Mode::Lines(lines) = &progress.mode {
            lines.lock().unwrap().at = Instant::now() - PLAIN_PERIOD;
        }
        progress.set(3);
        assert_eq!(
            out.text(),
            "demo seed: 3/50 payments\n",
            "no line while the count stands still"
        );
    }

    #[test]
    fn a_count_past_the_total_raises_the_total() {
        let out = CapturedLog::default();
        let progress = Progress::lines("p", "events", Some(10), 5, Box::new(out.clone()));
        progress.set(10);
        progress.set(12);
        progress.finish(14);
        let text = out.text();
        assert!(text.starts_with("p: 12/12 events\np: 14/14 events, done in "), "{text}");
    }

    #[test]
    fn without_a_total_a_line_at_the_start_and_one_at_the_end() {
        let out = CapturedLog::default();
        let progress = Progress::lines(
            "search sync, every payment",
            "payments",
            None,
            u64::MAX,
            Box::new(out.clone()),
        );
        progress.set(10);
        progress.finish(202);
        let text = out.text();
        assert!(
            text.starts_with("search sync, every payment: started\nsearch sync, every payment: 202 payments, done in "),
            "{text}"
        );
    }
}
