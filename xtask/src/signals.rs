//! Ctrl-C and SIGTERM: xtask must outlive its children long enough to stop the servers it started.
//!
//! The handler only records that a signal came and passes it on to the command running in the
//! foreground (cargo); the servers run in their own process group, so a Ctrl-C in the terminal
//! does not reach them, and the guard in [`crate::services`] stops them on the way out.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::{Failure, TaskResult};

/// Set once Ctrl-C, SIGTERM or SIGHUP arrived.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The process id of the command running in the foreground, 0 when none.
static FOREGROUND: AtomicU32 = AtomicU32::new(0);

/// Installs the handler; call once, first thing.
pub(crate) fn install() -> TaskResult {
    ctrlc::set_handler(|| {
        INTERRUPTED.store(true, Ordering::SeqCst);
        let pid = FOREGROUND.load(Ordering::SeqCst);
        if pid != 0 {
            send_signal("TERM", &pid.to_string());
        }
    })
    .map_err(|e| Failure::new(format!("xtask: could not install the Ctrl-C handler: {e}")))
}

/// Whether Ctrl-C (or SIGTERM) has been received.
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Sends `SIG<signal>` to `target`, a pid or `-pgid` for a whole process group. Best effort:
/// the target may already be gone.
pub(crate) fn send_signal(signal: &str, target: &str) -> bool {
    Command::new("kill")
        .args([&format!("-{signal}"), "--", target])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Marks a child as the foreground command (the one a signal is passed on to) while alive.
#[derive(Debug)]
pub(crate) struct Foreground(());

impl Foreground {
    /// Marks process `pid` as the foreground command until the guard drops.
    pub(crate) fn new(pid: u32) -> Self {
        FOREGROUND.store(pid, Ordering::SeqCst);
        Foreground(())
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        FOREGROUND.store(0, Ordering::SeqCst);
    }
}
