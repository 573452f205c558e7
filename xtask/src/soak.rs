//! `cargo xtask soak`: the long variants of the reliability tests (issue #9), with the servers
//! the tests need. It sets `HIVE_SOAK=1`, which scales them up: R1 to 32 writers × 1000
//! commands (memory, memory-durable, MongoDB), R2 to 20 SIGKILLs of the service, and
//! PostgreSQL's chaos test to 32 writers × 1 000 appends. Then, when
//! cargo-fuzz is installed, it fuzzes the durable log reader (`fuzz/`, target `durable_log`) for
//! two minutes (`RUSTC_BOOTSTRAP=1`: the stable compiler accepts cargo-fuzz's nightly flags).
//! See docs/reliability.md.

use crate::services::Services;
use crate::{cmd, TaskResult};

/// The test binaries the soak runs: package, features, test target.
const SUITES: [(&str, &str, &str); 4] = [
    ("hive-store-memory", "billing", "reliability"),
    ("hive-store-mongodb", "billing", "reliability"),
    ("hive-store-postgres", "", "chaos"),
    ("hive-server", "", "reliability_crash"),
];

/// Runs every soak suite (all of them, even after a failure); the first failure is returned.
pub(crate) fn run() -> TaskResult {
    let services = Services::start()?;
    let mut result = Ok(());
    for (package, features, target) in SUITES {
        let mut test = cmd::cargo(["test", "-p", package, "--test", target]);
        if !features.is_empty() {
            test.args(["--features", features]);
        }
        test.args(["--", "--nocapture", "--test-threads", "1"]);
        test.env("HIVE_SOAK", "1");
        services.apply(&mut test);
        let outcome = cmd::run(&format!("the soak of {package} ({target})"), &mut test);
        if result.is_ok() {
            result = outcome;
        }
    }
    drop(services);
    let fuzz = fuzz_durable_log();
    result.and(fuzz)
}

/// `cargo fuzz run durable_log` for a bounded time, or a notice when cargo-fuzz is missing.
fn fuzz_durable_log() -> TaskResult {
    if !cmd::cargo_has("fuzz") {
        eprintln!(
            "xtask: cargo-fuzz is not installed (`cargo install cargo-fuzz`); the durable log fuzz target is skipped"
        );
        return Ok(());
    }
    let mut fuzz = cmd::cargo(["fuzz", "run", "durable_log", "--", "-max_total_time=120"]);
    fuzz.current_dir(cmd::workspace_root().join("fuzz"))
        .env("RUSTC_BOOTSTRAP", "1");
    cmd::run("the durable log fuzz target", &mut fuzz)
}
