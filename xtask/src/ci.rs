//! `cargo xtask ci`: every check CI makes, in order, stopping at the first that fails.

use crate::{arch, cmd, docker, fuzz_api, test, Failure, TaskResult};

/// One step: its name and what it runs.
type Step = (&'static str, fn() -> TaskResult);

/// The steps, in order.
const STEPS: [Step; 8] = [
    ("fmt", fmt),
    ("clippy", clippy),
    ("test", tests),
    ("fuzz-api", fuzz),
    ("docker", docker::run),
    ("doc", doc),
    ("package", package),
    ("arch-check", arch::run),
];

/// Runs the steps; a failure names the step that failed.
pub(crate) fn run() -> TaskResult {
    for (index, (name, step)) in STEPS.iter().enumerate() {
        eprintln!("ci: [{}/{}] {name}", index + 1, STEPS.len());
        step().map_err(|f| {
            Failure::with_code(
                format!("{}\nci: step `{name}` failed; stopping here", f.message),
                f.code,
            )
        })?;
    }
    eprintln!("ci: all {} steps passed", STEPS.len());
    Ok(())
}

/// `cargo fmt --all --check`, skipped (with a line saying so) when rustfmt is not installed.
fn fmt() -> TaskResult {
    if !cmd::cargo_has("fmt") {
        eprintln!("ci: cargo fmt is not installed (`rustup component add rustfmt`); the format check is skipped");
        return Ok(());
    }
    cmd::run(
        "the format check (`cargo fmt --all` fixes it)",
        &mut cmd::cargo(["fmt", "--all", "--check"]),
    )
}

/// `cargo clippy --workspace --all-targets -- -D warnings`, skipped (with a line saying so)
/// when clippy is not installed.
fn clippy() -> TaskResult {
    if !cmd::cargo_has("clippy") {
        eprintln!("ci: cargo clippy is not installed (`rustup component add clippy`); the lint step is skipped");
        return Ok(());
    }
    cmd::run(
        "clippy",
        &mut cmd::cargo(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
    )
}

/// `cargo xtask test` (backends required: `CI` is set where this runs, and it is `ci`).
fn tests() -> TaskResult {
    test::run(&test::TestArgs {
        require_backends: true,
        ..test::TestArgs::default()
    })
}

/// `cargo xtask fuzz-api` with its default budget and seed.
fn fuzz() -> TaskResult {
    fuzz_api::run(&fuzz_api::FuzzApiArgs::default())
}

/// `RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps`.
fn doc() -> TaskResult {
    let mut doc = cmd::cargo(["doc", "--workspace", "--no-deps"]);
    doc.env("RUSTDOCFLAGS", "-D warnings");
    cmd::run("the docs", &mut doc)
}

/// `cargo package --workspace` for the library crates (not `xtask`, the benches or the
/// examples, which are not published): every crate under `crates/` packs into the `.crate`
/// crates.io would get (metadata, README, workspace dependencies by version). `--no-verify`:
/// rebuilding each `.crate` from scratch would add a quarter of an hour to CI for what the
/// workspace build, docs and tests already compile.
fn package() -> TaskResult {
    cmd::run(
        "the packaging check (the crates as crates.io would get them)",
        &mut cmd::cargo([
            "package",
            "--workspace",
            "--exclude",
            "xtask",
            "--exclude",
            "hive-benches",
            "--exclude",
            "example-*",
            "--locked",
            "--no-verify",
        ]),
    )
}
