//! A process that xtask started and must stop, whatever happens: a server, or a long job
//! waited for.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::signals::{self, send_signal};
use crate::{Failure, TaskResult};

/// How long a server gets to stop after SIGTERM before it is killed: a `hive` holding a
/// million payments saves its payment views at shutdown (13 s here) before it exits.
const STOP_GRACE: Duration = Duration::from_secs(60);
/// How many of the last lines of its log a failure shows.
const TAIL_LINES: usize = 20;

/// A running server; dropping it stops it (SIGTERM, or the signal set with
/// [`Server::stopping_with`], to its process group; SIGKILL after a grace period).
#[derive(Debug)]
pub(crate) struct Server {
    /// The program's name, for messages.
    name: String,
    /// The process.
    child: Child,
    /// Where its output goes.
    log: PathBuf,
    /// Whether it was stopped already (and its stop reported).
    stopped: bool,
    /// The signal that asks it to stop (`TERM` unless set otherwise).
    stop_signal: &'static str,
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
            stopped: false,
            stop_signal: "TERM",
        })
    }

    /// The same server, asked to stop with `SIG<signal>` rather than SIGTERM (PostgreSQL: `INT`,
    /// its fast shutdown; SIGTERM would wait for every client to disconnect).
    pub(crate) fn stopping_with(mut self, signal: &'static str) -> Self {
        self.stop_signal = signal;
        self
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Takes the piped stderr, if the command was spawned with one.
    pub(crate) fn take_stderr(&mut self) -> Option<std::process::ChildStderr> {
        self.child.stderr.take()
    }

    /// A failure saying the server died or never became ready, with the last lines of its
    /// log and where the rest is.
    pub(crate) fn failure(&mut self, what: &str) -> Failure {
        let status = match self.child.try_wait() {
            Ok(Some(status)) => format!(" (it exited: {status})"),
            _ => String::new(),
        };
        let tail = std::fs::read_to_string(&self.log)
            .map(|text| tail(&text, TAIL_LINES))
            .unwrap_or_default();
        let tail = if tail.is_empty() {
            String::new()
        } else {
            format!(", which ends:\n{tail}")
        };
        Failure::new(format!(
            "xtask: {} {what}{status}; its output is in {}{tail}",
            self.name,
            self.log.display()
        ))
    }

    /// Polls `probe` until it says the server is ready (`Ok`), every 50 ms; fails when the
    /// server exits, Ctrl-C comes, or `timeout` passes. `ready` is what the server must do
    /// ("answer PING on …"); a failure names it, with the probe's last reason if it gave one.
    pub(crate) fn await_ready(
        &mut self,
        timeout: Duration,
        ready: &str,
        mut probe: impl FnMut() -> Result<(), String>,
    ) -> TaskResult {
        let deadline = Instant::now() + timeout;
        loop {
            let why = match probe() {
                Ok(()) => return Ok(()),
                Err(why) if why.is_empty() => String::new(),
                Err(why) => format!(" (last: {why})"),
            };
            if self.has_exited() {
                return Err(self.failure(&format!("exited before it could {ready}{why}")));
            }
            if signals::interrupted() {
                return Err(Failure::with_code(
                    format!("xtask: interrupted while starting {}", self.name),
                    130,
                ));
            }
            if Instant::now() > deadline {
                return Err(self.failure(&format!("did not {ready} within {timeout:?}{why}")));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server as [`Drop`] would, and fails unless it exited by itself with status 0
    /// within the grace period (a clean shutdown).
    pub(crate) fn stop_cleanly(&mut self) -> TaskResult {
        match self.stop() {
            Some(status) if status.success() => Ok(()),
            Some(status) => Err(self.failure(&format!("did not stop cleanly ({status})"))),
            None => Err(self.failure("did not stop cleanly")),
        }
    }

    /// Waits until the process exits by itself and returns its status, calling `tick` with
    /// its pid every `period` meanwhile. Ctrl-C ends the wait with a failure (dropping the
    /// server then stops the process).
    pub(crate) fn wait(&mut self, period: Duration, mut tick: impl FnMut(u32)) -> TaskResult<ExitStatus> {
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.stopped = true;
                    return Ok(status);
                }
                Ok(None) => {}
                Err(e) => return Err(Failure::new(format!("xtask: waiting for {} failed: {e}", self.name))),
            }
            if signals::interrupted() {
                return Err(Failure::with_code(
                    format!("xtask: interrupted while {} ran", self.name),
                    130,
                ));
            }
            tick(self.pid());
            thread::sleep(period);
        }
    }

    /// Whether the process has exited.
    pub(crate) fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops the server: its stop signal (SIGTERM by default) to its process group, then
    /// SIGKILL if it is still there after the grace period. Waits for it, so nothing is left
    /// behind. Returns its exit status when it exited after the stop signal; `None` when it had
    /// exited before, was stopped already or had to be killed.
    fn stop(&mut self) -> Option<ExitStatus> {
        if std::mem::replace(&mut self.stopped, true) {
            return None;
        }
        if self.has_exited() {
            eprintln!("xtask: {} (pid {}) had already exited", self.name, self.pid());
            return None;
        }
        let group = format!("-{}", self.pid());
        if !send_signal(self.stop_signal, &group) {
            let _ = self.child.kill();
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                eprintln!("xtask: stopped {} (pid {})", self.name, self.pid());
                return Some(status);
            }
            thread::sleep(Duration::from_millis(50));
        }
        eprintln!(
            "xtask: {} (pid {}) ignored SIG{} for {STOP_GRACE:?}; killing it",
            self.name,
            self.pid(),
            self.stop_signal
        );
        send_signal("KILL", &group);
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

/// The last `lines` lines of `text`.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a\nb", 5), "a\nb");
        assert_eq!(tail("", 3), "");
    }
}
