//! Runs the real `hive` binary as an operator would: one command in a child process with its
//! standard output and error on pipes (not terminals: progress comes as plain lines), its exit
//! status and what it printed. Shared by `operator_cli.rs` and `operator_cli_mongodb.rs`.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::process::{Command, Stdio};

/// The four organizations `hive demo seed` spreads payments over.
pub const DEMO_ORGANIZATIONS: [&str; 4] = ["org-dev", "org-acme", "org-globex", "org-initech"];

/// The read-model projection's name.
pub const READ_MODEL: &str = "billing.payment_read_model";
/// The search projection's name.
pub const SEARCH: &str = "billing.payment_search_index";

/// One finished `hive` command.
#[derive(Debug)]
pub struct Run {
    /// The command line, for messages.
    pub args: String,
    /// The exit status (-1: killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error (progress lines, warnings, the error).
    pub stderr: String,
}

/// Runs `hive <args>` with data in `data_dir`, the `HIVE_…` variables of `env` (the inherited
/// ones removed) and `RUST_LOG=warn`, and waits for it.
pub fn hive(data_dir: &Path, env: &[(&str, String)], args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hive"));
    for (key, _) in std::env::vars() {
        if key.starts_with("HIVE_") || key == "RUST_LOG" {
            command.env_remove(key);
        }
    }
    let output = command
        .args(args)
        .env("HIVE_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let run = Run {
        args: args.join(" "),
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    };
    run.assert_plain();
    run
}

/// [`hive`] from async code (it blocks the worker thread while the command runs).
pub fn hive_blocking(data_dir: &Path, env: &[(&str, String)], args: &[&str]) -> Run {
    tokio::task::block_in_place(|| hive(data_dir, env, args))
}

/// `hive search verify` of the one payment `key`, which must be out of sync (exit status 1).
pub fn verify_one_out_of_sync(data_dir: &Path, env: &[(&str, String)], key: &hive_billing::PaymentKey) -> Run {
    let args = [
        "search",
        "verify",
        "--organization",
        key.organization_id(),
        "--payment",
        key.payment_id(),
    ];
    hive_blocking(data_dir, env, &args).exits(1)
}

impl Run {
    /// Asserts that standard error says the index is out of sync by `mismatches`.
    #[track_caller]
    pub fn out_of_sync_by(&self, mismatches: usize) -> &Self {
        let said = format!("hive: the search index is out of sync: {mismatches} mismatches");
        assert!(
            self.stderr.contains(&said),
            "no `{said}`:
{self}"
        );
        self
    }

    /// Asserts exit status 0; returns the run.
    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(self.code, 0, "`hive {}` failed:\n{self}", self.args);
        self
    }

    /// Asserts the exit status `code`; returns the run.
    #[track_caller]
    pub fn exits(self, code: i32) -> Self {
        assert_eq!(self.code, code, "`hive {}`: wrong exit status:\n{self}", self.args);
        self
    }

    /// Asserts that standard error has the line `line`.
    #[track_caller]
    pub fn stderr_has_line(&self, line: &str) -> &Self {
        assert!(
            self.stderr.lines().any(|l| l == line),
            "no line `{line}` on stderr:\n{self}"
        );
        self
    }

    /// The counts of the progress lines `{label}: {done}/{total} {unit}` before the final one,
    /// asserted to grow.
    #[track_caller]
    pub fn progress(&self, label: &str, unit: &str) -> Vec<(u64, u64)> {
        let prefix = format!("{label}: ");
        let suffix = format!(" {unit}");
        let counts: Vec<(u64, u64)> = self
            .stderr
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix)?.strip_suffix(&suffix))
            .map(|count| {
                let (done, total) = count.split_once('/').unwrap();
                (done.parse().unwrap(), total.parse().unwrap())
            })
            .collect();
        assert!(
            counts.windows(2).all(|w| w[0].0 < w[1].0),
            "progress goes forward:\n{self}"
        );
        counts
    }

    /// The final progress line of `label`: `{label}: {count} {unit}, done in … s`, asserted.
    #[track_caller]
    pub fn finished(&self, label: &str, count: &str, unit: &str) -> &Self {
        let start = format!("{label}: {count} {unit}, done in ");
        assert!(
            self.stderr.lines().any(|l| l.starts_with(&start) && l.ends_with(" s")),
            "no final progress line `{start}… s`:\n{self}"
        );
        self
    }

    /// Nothing a terminal would interpret: no carriage return, no escape sequence (the
    /// bars are for terminals only).
    #[track_caller]
    fn assert_plain(&self) {
        for text in [&self.stdout, &self.stderr] {
            assert!(
                !text.contains('\r') && !text.contains('\u{1b}'),
                "`hive {}` wrote terminal control characters to a pipe:\n{self}",
                self.args
            );
        }
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit status {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A row of `hive projections status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRow {
    /// The projection.
    pub name: String,
    /// Its checkpoint.
    pub position: u64,
    /// The log's head.
    pub head: u64,
    /// `head - position`.
    pub lag: u64,
    /// The projection code version that wrote the read model.
    pub version: u32,
    /// The last event's timestamp (`-`: none).
    pub last_processed_timestamp: String,
}

/// The rows of `hive projections status`, its header checked.
pub fn status_rows(stdout: &str) -> Vec<StatusRow> {
    let mut lines = stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "projection",
            "position",
            "head",
            "lag",
            "version",
            "lastProcessedTimestamp"
        ],
        "{stdout}"
    );
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(cells.len(), 6, "{line}");
            StatusRow {
                name: cells[0].to_owned(),
                position: cells[1].parse().unwrap(),
                head: cells[2].parse().unwrap(),
                lag: cells[3].parse().unwrap(),
                version: cells[4].parse().unwrap(),
                last_processed_timestamp: cells[5].to_owned(),
            }
        })
        .collect()
}

/// The events `hive demo seed` wrote, from its summary line (`seeded N payments …: a pending,
/// b processed (c of them refunded), d failed`): one per payment, plus one per processing,
/// failure and refund.
pub fn seeded_events(stdout: &str) -> u64 {
    let line = stdout.lines().find(|l| l.starts_with("seeded ")).unwrap();
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let [payments, _days, pending, processed, refunded, failed] = numbers[..] else {
        panic!("unexpected seed summary: {line}")
    };
    assert_eq!(pending + processed + failed, payments, "{line}");
    payments + processed + refunded + failed
}

/// The number after `indexed ` in the summary of `hive search sync`.
pub fn indexed(run: &Run) -> u64 {
    let rest = run
        .stdout
        .strip_prefix("indexed ")
        .unwrap_or_else(|| panic!("no sync summary:\n{run}"));
    rest.split(',').next().unwrap().parse().unwrap()
}

/// Fresh indices on the cluster (prefix `hive-cli-<uuid>`), deleted when dropped.
pub struct Indices {
    /// The cluster.
    pub url: String,
    /// The index prefix (`HIVE_ELASTICSEARCH_INDEX_PREFIX`).
    pub prefix: String,
}

impl Indices {
    /// A fresh prefix on the cluster at `url`.
    pub fn new(url: String) -> Self {
        let prefix = format!("hive-cli-{}", uuid::Uuid::new_v4().simple());
        Self { url, prefix }
    }

    /// The adapter's options for these indices.
    pub fn options(&self) -> hive_store_elasticsearch::EsOptions {
        hive_store_elasticsearch::EsOptions::new(self.url.clone()).with_prefix(&self.prefix)
    }
}

impl Drop for Indices {
    fn drop(&mut self) {
        let options = self.options();
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let store = hive_store_elasticsearch::EsStore::lazy(options).map_err(std::io::Error::other)?;
            runtime.block_on(store.delete_indices()).map_err(std::io::Error::other)
        })
        .join();
        if !matches!(deleted, Ok(Ok(()))) {
            eprintln!("could not delete the test indices {}-*: {deleted:?}", self.prefix);
        }
    }
}
