//! `cargo xtask bench`: run the criterion benches and rewrite the table in docs/performance.md.

mod collect;
mod report;

use std::fs;

use clap::Args;

use crate::{cmd, metadata, Failure, TaskResult};

/// Options of `cargo xtask bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Run only this bench target (default: every bench target of the workspace).
    pub(crate) name: Option<String>,
    /// A short smoke run (criterion's `--quick`): rough numbers, in seconds rather than minutes.
    #[arg(long)]
    pub(crate) quick: bool,
}

/// Runs the benches, then rewrites the section between the markers of docs/performance.md
/// (creating the file if needed) from every result under `target/criterion`.
pub(crate) fn run(args: &BenchArgs) -> TaskResult {
    // `--bench '*'` and not `--benches`: the latter also runs the libraries' libtest harness in
    // bench mode, which rejects criterion's options.
    let criterion = metadata::target_dir()?.join("criterion");
    let mut bench = cmd::cargo(["bench", "--workspace", "--bench", args.name.as_deref().unwrap_or("*")]);
    // Criterion finds its output folder with `cargo metadata` from the bench's crate and falls
    // back to a folder of its own when that fails; name it, so the table reads every result.
    bench.env("CRITERION_HOME", &criterion);
    if args.quick {
        bench.args(["--", "--quick"]);
    }
    let xtask = format!(
        "cargo xtask bench{}{}",
        args.name.as_deref().map(|n| format!(" {n}")).unwrap_or_default(),
        if args.quick { " --quick" } else { "" }
    );
    let command = format!("`{xtask}`, which ran `{}`", cmd::display(&bench));
    cmd::run("the benchmarks", &mut bench)?;

    let entries = if criterion.is_dir() {
        collect::collect(&criterion)?
    } else {
        Vec::new()
    };
    if entries.is_empty() {
        return Err(Failure::new(format!(
            "xtask: no criterion results under {}; does the workspace have any benches?",
            criterion.display()
        )));
    }
    let context = report::RunContext {
        machine: machine(),
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        command,
    };
    let section = report::render_section(&entries, &context);

    let path = cmd::workspace_root().join("docs").join("performance.md");
    let doc = match fs::read_to_string(&path) {
        Ok(doc) => doc,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => report::HEADER.to_string(),
        Err(e) => return Err(Failure::new(format!("xtask: cannot read {}: {e}", path.display()))),
    };
    let doc =
        report::replace_section(&doc, &section).map_err(|e| Failure::new(format!("xtask: {}: {e}", path.display())))?;
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| Failure::new(format!("xtask: cannot create {}: {e}", dir.display())))?;
    }
    fs::write(&path, doc).map_err(|e| Failure::new(format!("xtask: cannot write {}: {e}", path.display())))?;
    eprintln!("xtask: wrote {} results to {}", entries.len(), path.display());
    Ok(())
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
