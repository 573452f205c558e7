//! `cargo xtask bench`: run the criterion benches and the HTTP benchmark (wrk), then rewrite
//! the tables of docs/performance.md: every result, the HTTP figures, and the figures P1–P8,
//! E1–E3 and G1–G3 against their targets. `cargo xtask bench scale` (never part of the default
//! run) measures the embedded store at scale instead.

mod client;
mod collect;
mod figures;
mod http;
mod report;
mod scale;
mod targets;
mod wrk;

use std::fs;
use std::path::Path;

use clap::Args;

use crate::services::Services;
use crate::{cmd, metadata, Failure, TaskResult};

/// The bench name that selects the HTTP benchmark.
const HTTP: &str = "http";
/// The bench name that selects the embedded store at scale.
const SCALE: &str = "scale";

/// Options of `cargo xtask bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Run only this bench target, `http` for the wrk benchmark, or `scale` for the embedded
    /// store at scale (default: every bench target, then `http`; never `scale`, which takes many
    /// minutes: seeding a million payments, starting the service on them, timing queries).
    pub(crate) name: Option<String>,
    /// A smoke run: criterion's `--quick` and a 2-second wrk load (`scale`: 2 000 payments
    /// unless `--payments` says otherwise). Proves the benches build and run; prints the
    /// figures and leaves docs/performance.md untouched.
    #[arg(long)]
    pub(crate) quick: bool,
    /// Run nothing: rewrite the tables from the results already under `target/criterion`
    /// (and the last saved wrk reports).
    #[arg(long, conflicts_with = "quick")]
    pub(crate) report_only: bool,
    /// With `scale`: the sizes, in payments, comma-separated (`100000`, `100_000`, `100k` or
    /// `1M` each; default: 100000,1000000).
    #[arg(long, value_delimiter = ',', value_parser = scale::parse_payments, value_name = "N,...")]
    pub(crate) payments: Vec<u32>,
    /// With `scale`: write the figures to the "before" table of docs/performance.md, which
    /// runs without `--baseline` leave as it is (they write the latest table beside it).
    #[arg(long, conflicts_with_all = ["quick", "report_only"])]
    pub(crate) baseline: bool,
}

impl BenchArgs {
    /// The options of `cargo xtask bench scale`, `None` for another bench; fails on the
    /// options of one given to the other.
    fn scale(&self) -> TaskResult<Option<scale::Options>> {
        if self.name.as_deref() != Some(SCALE) {
            if !self.payments.is_empty() || self.baseline {
                return Err(Failure::new(
                    "xtask: --payments and --baseline go with `cargo xtask bench scale`",
                ));
            }
            return Ok(None);
        }
        if self.report_only {
            return Err(Failure::new(
                "xtask: `cargo xtask bench scale` keeps no results to report from: run it without --report-only",
            ));
        }
        Ok(Some(scale::Options {
            payments: self.payments.clone(),
            baseline: self.baseline,
            quick: self.quick,
        }))
    }
}

/// Runs the benches (with the servers they need: Redis, a MongoDB-compatible server, OpenSearch), then
/// rewrites the sections between the markers of docs/performance.md (creating the file if
/// needed) from every result under `target/criterion`, or, with `--quick`, prints the figures.
/// `scale` runs [`scale::run`] alone.
pub(crate) fn run(args: &BenchArgs) -> TaskResult {
    if let Some(options) = args.scale()? {
        return scale::run(&options);
    }
    let target = metadata::target_dir()?;
    // A quick run keeps its rough numbers away from the full run's.
    let criterion = target.join(if args.quick { "criterion-quick" } else { "criterion" });
    let name = args.name.as_deref();
    let mut ran = Vec::new();

    if name != Some(HTTP) && !args.report_only {
        let services = Services::start()?;
        ran.push(run_criterion(&criterion, name, args.quick, &services)?);
        drop(services);
    }
    let http = if (name.is_none() || name == Some(HTTP)) && !args.report_only {
        let load = if args.quick {
            wrk::Load {
                seconds: 2,
                threads: 2,
                connections: 32,
            }
        } else {
            wrk::Load {
                seconds: 10,
                threads: 2,
                connections: 32,
            }
        };
        let results = http::run(load)?;
        if !args.quick {
            http::save(&criterion, &results)?;
        }
        ran.push(format!("`{}` (via `cargo xtask bench http`)", results.load));
        Some(results)
    } else {
        http::load_saved(&criterion)
    };

    let entries = if criterion.is_dir() {
        collect::collect(&criterion)?
    } else {
        Vec::new()
    };
    let figures = figures::render(&entries, http.as_ref());
    if args.quick {
        println!("{figures}");
        eprintln!("xtask: quick run: docs/performance.md left as it was (rough numbers above)");
        return Ok(());
    }
    if entries.is_empty() {
        return Err(Failure::new(format!(
            "xtask: no criterion results under {}; does the workspace have any benches?",
            criterion.display()
        )));
    }
    if args.report_only {
        ran.push("nothing (`--report-only`: the tables were rewritten from the results on disk)".to_string());
    }
    let context = report::RunContext {
        machine: machine(),
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        command: format!(
            "`cargo xtask bench{}{}`, which ran {}",
            name.map(|n| format!(" {n}")).unwrap_or_default(),
            if args.report_only { " --report-only" } else { "" },
            ran.join(" and ")
        ),
    };
    let path = cmd::workspace_root().join("docs").join("performance.md");
    let doc = match fs::read_to_string(&path) {
        Ok(doc) => doc,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => report::HEADER.to_string(),
        Err(e) => return Err(Failure::new(format!("xtask: cannot read {}: {e}", path.display()))),
    };
    let broken = |e: String| Failure::new(format!("xtask: {}: {e}", path.display()));
    let mut doc = report::replace_between(
        &doc,
        report::BEGIN,
        report::END,
        &report::render_section(&entries, &context),
    )
    .map_err(broken)?;
    if let Some(http) = &http {
        doc = report::replace_between(&doc, http::BEGIN, http::END, &http::render(http)).map_err(broken)?;
    }
    doc = report::replace_between(&doc, figures::BEGIN, figures::END, &figures).map_err(broken)?;
    write(&path, &doc)?;
    eprintln!("xtask: wrote {} results to {}", entries.len(), path.display());
    Ok(())
}

/// Runs `cargo bench` for `name` (every bench target when `None`) with the servers' variables;
/// returns the command, as markdown.
fn run_criterion(criterion: &Path, name: Option<&str>, quick: bool, services: &Services) -> TaskResult<String> {
    // `--bench '*'` and not `--benches`: the latter also runs the libraries' libtest harness in
    // bench mode, which rejects criterion's options.
    let mut bench = cmd::cargo(["bench", "--workspace", "--bench", name.unwrap_or("*")]);
    // Criterion finds its output folder with `cargo metadata` from the bench's crate and falls
    // back to a folder of its own when that fails; name it, so the table reads every result.
    bench.env("CRITERION_HOME", criterion);
    if quick {
        bench.args(["--", "--quick"]);
    }
    let shown = format!("`{}`", cmd::display(&bench));
    services.apply(&mut bench);
    cmd::run("the benchmarks", &mut bench)?;
    Ok(shown)
}

/// Writes `doc` to `path`, creating its folder.
fn write(path: &Path, doc: &str) -> TaskResult {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| Failure::new(format!("xtask: cannot create {}: {e}", dir.display())))?;
    }
    fs::write(path, doc).map_err(|e| Failure::new(format!("xtask: cannot write {}: {e}", path.display())))
}

/// This machine, as `N × CPU model` (the model from /proc/cpuinfo).
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name").and_then(|rest| rest.split_once(':')))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    format!("{cpus} × {model}")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// `cargo xtask bench`'s arguments, alone.
    #[derive(Debug, Parser)]
    struct Bench {
        #[command(flatten)]
        args: BenchArgs,
    }

    fn parse(words: &[&str]) -> Result<BenchArgs, String> {
        Bench::try_parse_from(std::iter::once("bench").chain(words.iter().copied()))
            .map(|bench| bench.args)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn scale_takes_its_sizes_and_baseline() -> Result<(), String> {
        let args = parse(&["scale", "--payments", "100000,300k", "--baseline"])?;
        let options = args.scale().map_err(|f| f.message)?;
        assert_eq!(
            options,
            Some(scale::Options {
                payments: vec![100_000, 300_000],
                baseline: true,
                quick: false,
            })
        );
        let options = parse(&["scale"])?.scale().map_err(|f| f.message)?;
        assert_eq!(
            options.map(|o| o.payments),
            Some(Vec::new()),
            "the defaults are scale's to choose"
        );
        Ok(())
    }

    #[test]
    fn scale_is_never_run_by_default() -> Result<(), String> {
        assert!(parse(&[])?.scale().map_err(|f| f.message)?.is_none());
        assert!(parse(&["http"])?.scale().map_err(|f| f.message)?.is_none());
        Ok(())
    }

    #[test]
    fn scale_options_are_refused_elsewhere_and_bad_sizes_at_parsing() -> Result<(), String> {
        assert!(parse(&["--payments", "1000"])?.scale().is_err());
        assert!(parse(&["http", "--baseline"])?.scale().is_err());
        assert!(parse(&["scale", "--report-only"])?.scale().is_err());
        assert!(parse(&["scale", "--baseline", "--quick"]).is_err());
        assert!(parse(&["scale", "--payments", "100000,lots"]).is_err_and(|e| e.contains("lots")));
        Ok(())
    }
}
