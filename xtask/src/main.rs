//! `cargo xtask`: Hive's project tasks.
//!
//! Run `cargo xtask --help` for the list. The tasks are plain Rust so they work the same on a
//! developer's machine and in CI (`.ci/run`), with nothing to install but what they install
//! themselves.

mod arch;
mod bench;
mod ci;
mod cmd;
mod docker;
mod examples;
mod fuzz_api;
mod metadata;
mod services;
mod signals;
mod soak;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Hive's project tasks.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "Hive's project tasks: ci, test, services, bench, fuzz-api, soak, docker, arch-check."
)]
struct Cli {
    /// The task to run.
    #[command(subcommand)]
    task: Task,
}

/// One task.
#[derive(Debug, Subcommand)]
enum Task {
    /// Check the crate dependency rules of ARCHITECTURE.md against `cargo metadata`.
    ArchCheck,
    /// Run the whole test suite, with the servers the tests need (Redis, SecantusDB for MongoDB,
    /// OpenSearch, PostgreSQL: from HIVE_… variables, else started), and tally which tests used
    /// them.
    Test(test::TestArgs),
    /// Start the servers the tests need (Redis, SecantusDB, OpenSearch, PostgreSQL), print their
    /// variables as `export` lines, keep them until Ctrl-C.
    Services,
    /// What CI runs: fmt, clippy, tests, fuzz-api, docker check, docs, package, arch-check, bench smoke; stops at the first failure.
    Ci,
    /// Print how to build and run the Docker stack; check docker/compose.yml and docker/Dockerfile (no engine needed).
    Docker,
    /// Run the criterion benches and the HTTP benchmark, and rewrite the tables in
    /// docs/performance.md; `bench scale` (the embedded store at scale, many minutes) runs only
    /// when named.
    Bench(bench::BenchArgs),
    /// Fuzz the running service's API with schemathesis (R5): no 5xx, every error a problem+json.
    FuzzApi(fuzz_api::FuzzApiArgs),
    /// Run the long reliability variants (HIVE_SOAK=1): R1 at 32 × 1000 commands, R2 at 20 SIGKILLs.
    Soak,
}

/// Why a task failed: what to tell the user, and the exit status to leave with.
#[derive(Debug)]
pub(crate) struct Failure {
    /// One or more lines for the user, already saying what to do where it can.
    pub(crate) message: String,
    /// The process exit status (never 0).
    pub(crate) code: u8,
}

impl Failure {
    /// A failure with exit status 1.
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 1,
        }
    }

    /// A failure with the given exit status (0 is turned into 1).
    pub(crate) fn with_code(message: impl Into<String>, code: u8) -> Self {
        Self {
            message: message.into(),
            code: code.max(1),
        }
    }
}

/// What every task returns.
pub(crate) type TaskResult<T = ()> = Result<T, Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(failure) = signals::install() {
        eprintln!("{}", failure.message);
        return ExitCode::from(failure.code);
    }
    let result = match cli.task {
        Task::ArchCheck => arch::run(),
        Task::Test(args) => test::run(&args),
        Task::Services => services::run_until_interrupted(),
        Task::Ci => ci::run(),
        Task::Docker => docker::run(),
        Task::Bench(args) => bench::run(&args),
        Task::FuzzApi(args) => fuzz_api::run(&args),
        Task::Soak => soak::run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
