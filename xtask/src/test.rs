//! `cargo xtask test`: the one command that runs the whole test suite, servers included.

use clap::Args;

use crate::services::Services;
use crate::{cmd, TaskResult};

/// Options of `cargo xtask test`.
#[derive(Debug, Default, Args)]
pub(crate) struct TestArgs {
    /// Skip the doctests (`cargo test --workspace --doc`).
    #[arg(long)]
    pub(crate) no_doc: bool,
    /// Passed on to `cargo nextest run` (or `cargo test`), e.g. a test name filter.
    #[arg(last = true)]
    pub(crate) extra: Vec<String>,
}

/// Finds or starts the servers, runs every test (then the doctests, even if tests failed), and
/// stops the servers it started: on success, on failure, and on Ctrl-C.
pub(crate) fn run(args: &TestArgs) -> TaskResult {
    let services = Services::start()?;
    let result = run_suites(&services, args);
    drop(services);
    result
}

/// The test runs themselves, with the servers' variables set; the first failure is returned.
fn run_suites(services: &Services, args: &TestArgs) -> TaskResult {
    let mut tests = if cmd::cargo_has("nextest") {
        cmd::cargo(["nextest", "run", "--workspace", "--all-targets", "--no-fail-fast"])
    } else {
        eprintln!("xtask: cargo-nextest is not installed; using cargo test");
        cmd::cargo(["test", "--workspace", "--all-targets", "--no-fail-fast"])
    };
    tests.args(&args.extra);
    services.apply(&mut tests);
    let tests = cmd::run("the tests", &mut tests);
    if args.no_doc {
        return tests;
    }
    // nextest does not run doctests.
    let mut doc = cmd::cargo(["test", "--workspace", "--doc"]);
    services.apply(&mut doc);
    let doc = cmd::run("the doctests", &mut doc);
    match (tests, doc) {
        (Err(tests), Err(doc)) => Err(crate::Failure::with_code(
            format!("{}\n{}", tests.message, doc.message),
            tests.code,
        )),
        (tests, doc) => tests.and(doc),
    }
}
