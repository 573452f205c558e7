//! Installing a server from Debian's packages, when xtask runs as root.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::{cmd, TaskResult};

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
