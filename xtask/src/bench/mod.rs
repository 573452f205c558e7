//! `cargo xtask bench`: run the criterion benches and the HTTP benchmark (wrk), then rewrite
//! the tables of docs/performance.md: every result, the HTTP figures, and the figures P1–P8
//! and E1–E3 against their targets.

mod collect;
mod figures;
mod http;
mod report;
mod targets;
mod wrk;

use std::fs;
use std::path::Path;

use clap::Args;

use crate::services::Services;
use crate::{cmd, metadata, Failure, TaskResult};

/// The bench name that selects the HTTP benchmark.
const HTTP: &str = "http";

/// Options of `cargo xtask bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Run only this bench target, or `http` for the wrk benchmark (default: all of them).
    pub(crate) name: Option<String>,
    /// A smoke run: criterion's `--quick` and a 2-second wrk load. Proves the benches build and
    /// run; prints the figures and leaves docs/performance.md untouched.
    #[arg(long)]
    pub(crate) quick: bool,
    /// Run nothing: rewrite the tables from the results already under `target/criterion`
    /// (and the last saved wrk reports).
    #[arg(long, conflicts_with = "quick")]
    pub(crate) report_only: bool,
}

/// Runs the benches (with the servers they need: Redis, a MongoDB-compatible server, OpenSearch), then
/// rewrites the sections between the markers of docs/performance.md (creating the file if
/// needed) from every result under `target/criterion`, or, with `--quick`, prints the figures.
pub(crate) fn run(args: &BenchArgs) -> TaskResult {
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
