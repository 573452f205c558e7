//! `cargo xtask bench scale`: the embedded durable store at scale, as a new user meets it. For
//! each size, a release `hive` seeds that many payments with `hive demo seed` into a fresh
//! data directory, serves it, answers a few queries, and stops; the figures go to a table of
//! docs/performance.md (the "before" table with `--baseline`). Not part of the default run:
//! it takes many minutes.

mod measure;
mod table;

use std::fs;

pub(crate) use table::parse_payments;

use crate::{cmd, metadata, Failure, TaskResult};

/// The sizes measured when `--payments` is not given.
const DEFAULT_PAYMENTS: &[u32] = &[100_000, 1_000_000];
/// The size of a `--quick` run without `--payments`.
const QUICK_PAYMENTS: &[u32] = &[2_000];

/// What `cargo xtask bench scale` was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    /// The sizes, in payments (empty: the defaults).
    pub(crate) payments: Vec<u32>,
    /// Write the "before" table instead of the latest one.
    pub(crate) baseline: bool,
    /// Print the table and leave docs/performance.md as it is.
    pub(crate) quick: bool,
}

impl Options {
    /// The sizes to measure, in order.
    fn sizes(&self) -> &[u32] {
        match (&self.payments[..], self.quick) {
            ([], true) => QUICK_PAYMENTS,
            ([], false) => DEFAULT_PAYMENTS,
            (given, _) => given,
        }
    }

    /// The command as typed, with the sizes spelled out.
    fn command(&self) -> String {
        let sizes: Vec<String> = self.sizes().iter().map(u32::to_string).collect();
        format!(
            "cargo xtask bench scale --payments {}{}{}",
            sizes.join(","),
            if self.baseline { " --baseline" } else { "" },
            if self.quick { " --quick" } else { "" }
        )
    }
}

/// Builds `hive` (release), measures every size in turn (printing each size's table as it
/// comes, so a later failure loses nothing), then writes the table between its markers.
pub(crate) fn run(options: &Options) -> TaskResult {
    let mut build = cmd::cargo(["build", "--release", "-p", "hive-server", "--bin", "hive"]);
    cmd::run("the release build of hive", &mut build)?;
    let target = metadata::target_dir()?;
    let logs = target.join("xtask");
    fs::create_dir_all(&logs).map_err(|e| Failure::new(format!("xtask: cannot create {}: {e}", logs.display())))?;
    // Where the durable benches write too: a disk, not a tmpfs, makes fsync mean something.
    let scratch = std::env::var_os("HIVE_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let setup = measure::Setup {
        hive: target.join("release").join("hive"),
        logs,
        scratch,
    };
    let context = |figures: &[table::Figures]| table::Context {
        machine: super::machine(),
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        command: if figures.len() == options.sizes().len() {
            options.command()
        } else {
            format!("{} (so far)", options.command())
        },
    };
    let mut figures = Vec::new();
    for &payments in options.sizes() {
        figures.push(measure::measure(&setup, payments)?);
        println!("{}", table::render(&figures, &context(&figures)));
    }
    if options.quick {
        eprintln!("xtask: quick run: docs/performance.md left as it was (the table above)");
        return Ok(());
    }
    let (begin, end) = if options.baseline {
        (table::BEFORE_BEGIN, table::BEFORE_END)
    } else {
        (table::BEGIN, table::END)
    };
    let path = cmd::workspace_root().join("docs").join("performance.md");
    let doc =
        fs::read_to_string(&path).map_err(|e| Failure::new(format!("xtask: cannot read {}: {e}", path.display())))?;
    let doc = super::report::replace_between(&doc, begin, end, &table::render(&figures, &context(&figures)))
        .map_err(|e| Failure::new(format!("xtask: {}: {e}", path.display())))?;
    super::write(&path, &doc)?;
    eprintln!(
        "xtask: wrote the {} table of the embedded store at scale to {}",
        if options.baseline { "before" } else { "latest" },
        path.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(payments: &[u32], baseline: bool, quick: bool) -> Options {
        Options {
            payments: payments.to_vec(),
            baseline,
            quick,
        }
    }

    #[test]
    fn the_sizes_default_by_kind_of_run() {
        assert_eq!(options(&[], false, false).sizes(), DEFAULT_PAYMENTS);
        assert_eq!(options(&[], false, true).sizes(), QUICK_PAYMENTS);
        assert_eq!(options(&[300_000], false, true).sizes(), [300_000]);
    }

    #[test]
    fn the_command_names_every_size() {
        assert_eq!(
            options(&[], true, false).command(),
            "cargo xtask bench scale --payments 100000,1000000 --baseline"
        );
        assert_eq!(
            options(&[100_000, 300_000], false, false).command(),
            "cargo xtask bench scale --payments 100000,300000"
        );
    }
}
