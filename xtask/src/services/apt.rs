//! Installing a server from Debian's packages, when xtask runs as root.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use super::Backend;
use crate::{cmd, signals, TaskResult};

/// Set once `apt-get update` succeeded in this run.
static UPDATED: AtomicBool = AtomicBool::new(false);

/// Whether xtask runs as root (`id -u` prints 0).
pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// `apt-get update` (once per run), then `apt-get install -y <packages>`, non-interactively.
pub(crate) fn install(packages: &[&str]) -> TaskResult {
    if !UPDATED.load(Ordering::SeqCst) {
        cmd::run("apt-get update", &mut apt_get(&["update"]))?;
        UPDATED.store(true, Ordering::SeqCst);
    }
    let mut args = vec!["install", "-y"];
    args.extend_from_slice(packages);
    cmd::run(&format!("installing {}", packages.join(" ")), &mut apt_get(&args))
}

/// A server's program that `find` does not find (`not_here` says so): installed from Debian's
/// `package` when running as root, then found again. `Ok(Err(why))`, with the command to run or
/// `backend`'s variable to set instead, when not root, when apt-get fails, or when the package
/// brought no `program` that `find` finds.
pub(crate) fn install_program(
    backend: Backend,
    package: &str,
    program: &str,
    not_here: &str,
    find: impl Fn() -> Option<PathBuf>,
) -> TaskResult<Result<PathBuf, String>> {
    let env = backend.env;
    if !is_root() {
        return Ok(Err(format!(
            "{not_here}; install it with `sudo apt-get install -y {package}`, or set {env}"
        )));
    }
    eprintln!(
        "xtask: {}: {not_here}; installing Debian's {package} (running as root)",
        backend.name
    );
    if let Err(failure) = install(&[package]) {
        if signals::interrupted() {
            return Err(failure);
        }
        return Ok(Err(format!(
            "{}; install it with `apt-get install -y {package}`, or set {env}",
            failure.message
        )));
    }
    Ok(find().ok_or_else(|| format!("apt-get installed {package}, but there is still no {program}")))
}

/// An `apt-get` command that asks no question, its output on stderr (`cargo xtask services`
/// keeps stdout for the exports).
fn apt_get(args: &[&str]) -> Command {
    let mut command = Command::new("apt-get");
    command
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(std::io::stderr());
    command
}
