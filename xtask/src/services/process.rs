//! A server process that xtask started and must stop, whatever happens.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::signals::send_signal;
use crate::{Failure, TaskResult};

/// How long a server gets to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// A running server; dropping it stops it (SIGTERM to its process group, SIGKILL after a grace
/// period).
#[derive(Debug)]
pub(crate) struct Server {
    /// The program's name, for messages.
    name: String,
    /// The process.
    child: Child,
    /// Where its output goes.
    log: PathBuf,
}

impl Server {
    /// Starts `command` as `name` in its own process group (so a Ctrl-C in the terminal goes to
    /// xtask, which then stops it), with stdin closed and stdout appended to `log`; stderr too,
    /// unless `pipe_stderr`, for a caller that reads it (see [`Server::take_stderr`]).
    pub(crate) fn spawn(name: &str, command: &mut Command, log: &Path, pipe_stderr: bool) -> TaskResult<Self> {
        use std::os::unix::process::CommandExt;
        let _ = std::fs::remove_file(log); // a fresh log per run
        let stderr = if pipe_stderr {
            Stdio::piped()
        } else {
            open_log(log)?.into()
        };
        command
            .stdin(Stdio::null())
            .stdout(open_log(log)?)
            .stderr(stderr)
            .process_group(0);
        let child = command
            .spawn()
            .map_err(|e| Failure::new(format!("xtask: could not start {name}: {e}")))?;
        Ok(Self {
            name: name.to_string(),
            child,
            log: log.to_path_buf(),
        })
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Takes the piped stderr, if the command was spawned with one.
    pub(crate) fn take_stderr(&mut self) -> Option<std::process::ChildStderr> {
        self.child.stderr.take()
    }

    /// A failure saying the server died or never became ready, pointing at its log.
    pub(crate) fn failure(&mut self, what: &str) -> Failure {
        let status = match self.child.try_wait() {
            Ok(Some(status)) => format!(" (it exited: {status})"),
            _ => String::new(),
        };
        Failure::new(format!(
            "xtask: {} {what}{status}; its output is in {}",
            self.name,
            self.log.display()
        ))
    }

    /// Whether the process has exited.
    pub(crate) fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops the server: SIGTERM to its process group, then SIGKILL if it is still there after
    /// the grace period. Waits for it, so nothing is left behind.
    fn stop(&mut self) {
        if self.has_exited() {
            eprintln!("xtask: {} (pid {}) had already exited", self.name, self.pid());
            return;
        }
        let group = format!("-{}", self.pid());
        if !send_signal("TERM", &group) {
            let _ = self.child.kill();
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if self.has_exited() {
                eprintln!("xtask: stopped {} (pid {})", self.name, self.pid());
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        eprintln!(
            "xtask: {} (pid {}) ignored SIGTERM for {STOP_GRACE:?}; killing it",
            self.name,
            self.pid()
        );
        send_signal("KILL", &group);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens `log` for appending.
pub(crate) fn open_log(log: &Path) -> TaskResult<File> {
    File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Failure::new(format!("xtask: cannot open the log {}: {e}", log.display())))
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
