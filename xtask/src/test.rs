//! `cargo xtask test`: the one command that runs the whole test suite, servers included.
//!
//! It finds or starts Redis, a MongoDB-compatible server, OpenSearch and PostgreSQL (see
//! [`crate::services`]), runs the tests and the doctests with their URLs, and closes with a table
//! of where each server came from and how many tests used it. The runnable examples under
//! `examples/` run after the tests. With `--require-backends`, or
//! where `CI` is set, every backend must be had and used by at least one test.

use std::path::Path;

use clap::Args;

use crate::services::{require, tally, Services};
use crate::{cmd, examples, metadata, signals, Failure, TaskResult};

/// Options of `cargo xtask test`.
#[derive(Debug, Default, Args)]
pub(crate) struct TestArgs {
    /// Skip the doctests (`cargo test --workspace --doc`).
    #[arg(long)]
    pub(crate) no_doc: bool,
    /// Fail, instead of skipping their tests, when Redis, MongoDB, OpenSearch or PostgreSQL cannot
    /// be had, and when no test used one of them. Always on where `CI` is set.
    #[arg(long)]
    pub(crate) require_backends: bool,
    /// Passed on to `cargo nextest run` (or `cargo test`), e.g. a test name filter.
    #[arg(last = true)]
    pub(crate) extra: Vec<String>,
}

/// Finds or starts the servers, runs every test (then the doctests, even if tests failed),
/// stops the servers it started (on success, on failure, and on Ctrl-C), and prints the tally.
pub(crate) fn run(args: &TestArgs) -> TaskResult {
    let required = require::from_env(args.require_backends);
    if let Some(reason) = required {
        eprintln!("xtask: every backend is required ({reason}): none may be missing or unused");
    }
    let target = metadata::target_dir()?;
    let tally_dir = tally::fresh(&target)?;
    let services = Services::start_in(&target, required)
        .map_err(|f| Failure::with_code(format!("{}\nxtask: no test was run", f.message), f.code))?;
    let result = run_suites(&services, &tally_dir, args);
    let rows = services.rows();
    drop(services);
    let rows = tally::counted(rows, &tally_dir);
    eprint!("{}", tally::render(&rows));
    let used = match required {
        Some(reason) if !signals::interrupted() => tally::check_used(&rows, reason),
        _ => Ok(()),
    };
    both(result, used)
}

/// The test runs themselves, with the servers' variables and the tally folder set; the first
/// failure is returned.
fn run_suites(services: &Services, tally_dir: &Path, args: &TestArgs) -> TaskResult {
    let mut tests = if cmd::cargo_has("nextest") {
        cmd::cargo(["nextest", "run", "--workspace", "--all-targets", "--no-fail-fast"])
    } else {
        eprintln!("xtask: cargo-nextest is not installed; using cargo test");
        cmd::cargo(["test", "--workspace", "--all-targets", "--no-fail-fast"])
    };
    tests.args(&args.extra);
    services.apply(&mut tests);
    tests.env(tally::ENV, tally_dir);
    let tests = cmd::run("the tests", &mut tests);
    // The examples run with the whole suite only (not with a test filter).
    let tests = if args.extra.is_empty() {
        both(tests, examples::run_all(services))
    } else {
        tests
    };
    if args.no_doc {
        return tests;
    }
    // nextest does not run doctests.
    let mut doc = cmd::cargo(["test", "--workspace", "--doc"]);
    services.apply(&mut doc);
    doc.env(tally::ENV, tally_dir);
    let doc = cmd::run("the doctests", &mut doc);
    both(tests, doc)
}

/// `first`'s failure and `second`'s together (the exit status of the first), or whichever failed.
fn both(first: TaskResult, second: TaskResult) -> TaskResult {
    match (first, second) {
        (Err(first), Err(second)) => Err(Failure::with_code(
            format!("{}\n{}", first.message, second.message),
            first.code,
        )),
        (first, second) => first.and(second),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_keeps_every_message_and_the_first_code() {
        assert!(both(Ok(()), Ok(())).is_ok());
        let failed = |message: &str, code| Err(Failure::with_code(message, code));
        assert_eq!(
            both(Ok(()), failed("b", 2)).err().map(|f| (f.message, f.code)),
            Some(("b".into(), 2))
        );
        assert_eq!(
            both(failed("a", 101), failed("b", 1))
                .err()
                .map(|f| (f.message, f.code)),
            Some(("a\nb".into(), 101))
        );
    }
}
