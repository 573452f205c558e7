//! A MongoDB-compatible server for the tests: `HIVE_MONGODB_URI`, else SecantusDB (PyPI package
//! `secantusdb`, command `secantusd-py`) installed into a venv under the target directory and
//! started in memory on a free port.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::process::{open_log, Server};
use super::{Provided, Provision, MONGODB};
use crate::{cmd, signals, Failure, TaskResult};

/// The variable the tests read.
const ENV: &str = MONGODB.env;

/// What pip installs: pinned, so every machine tests against the same server.
const PACKAGE: &str = "secantusdb==0.7.0b3";

/// How long SecantusDB gets to say where it listens.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The line SecantusDB logs on stderr once it accepts connections, before `127.0.0.1:PORT`.
const LISTENING: &str = "secantus listening on ";

/// Finds or starts a MongoDB-compatible server; `Ok(Err(why))` when python3 is missing.
pub(crate) fn provide(target: &Path, logs: &Path) -> TaskResult<Provision> {
    if let Some(provided) = super::from_env(MONGODB) {
        return Ok(Ok(provided));
    }
    let Some(python) = cmd::which("python3") else {
        return Ok(Err(format!(
            "there is no python3 to install SecantusDB with: install it with \
             `apt-get install -y python3 python3-venv`, or set {ENV}"
        )));
    };
    let venv = target.join("secantus-venv");
    let program = install(&python, &venv)?;
    let (server, port) = start(&program, &venv, &logs.join("secantusd.log")).map_err(|f| {
        let hint = format!(
            "xtask: to reinstall SecantusDB, delete {}; or set {ENV}",
            venv.display()
        );
        Failure::with_code(format!("{}\n{hint}", f.message), f.code)
    })?;
    let uri = format!("mongodb://127.0.0.1:{port}/?retryWrites=false&directConnection=true");
    eprintln!(
        "xtask: MongoDB: started SecantusDB (pid {}) on 127.0.0.1:{port}",
        server.pid()
    );
    Ok(Ok(Provided::started(MONGODB, uri, server)))
}

/// Installs SecantusDB into `venv` unless its `secantusd-py` is already there; returns that path.
fn install(python: &Path, venv: &Path) -> TaskResult<PathBuf> {
    let program = venv.join("bin").join("secantusd-py");
    if program.is_file() {
        return Ok(program);
    }
    eprintln!(
        "xtask: MongoDB: installing SecantusDB ({PACKAGE}) into {} (once)",
        venv.display()
    );
    let hint = |f: Failure| {
        Failure::with_code(
            format!("{}\nxtask: set {ENV} to use a MongoDB of your own instead", f.message),
            f.code,
        )
    };
    // Their output goes to stderr: `cargo xtask services` keeps stdout for the exports.
    cmd::run(
        "creating the SecantusDB venv",
        Command::new(python)
            .args(["-m", "venv"])
            .arg(venv)
            .stdout(std::io::stderr()),
    )
    .map_err(hint)?;
    let pip = venv.join("bin").join("pip");
    cmd::run(
        "installing SecantusDB",
        Command::new(pip)
            .args(["install", "--quiet", "--disable-pip-version-check", PACKAGE])
            .stdout(std::io::stderr()),
    )
    .map_err(hint)?;
    if program.is_file() {
        Ok(program)
    } else {
        Err(hint(Failure::new(format!(
            "xtask: {PACKAGE} installed no {}",
            program.display()
        ))))
    }
}

/// Starts `secantusd-py` in memory on a free port and waits until it says where it listens.
fn start(program: &Path, venv: &Path, log: &Path) -> TaskResult<(Server, u16)> {
    let mut command = Command::new(program);
    // Run it from the venv, so it finds no stray secantusd.toml in the working directory.
    command
        .args(["--port", "0", "--storage-path", ":memory:"])
        .current_dir(venv);
    let mut server = Server::spawn("secantusd-py", &mut command, log, true)?;
    let stderr = server
        .take_stderr()
        .ok_or_else(|| server.failure("has no stderr to read"))?;
    let copy = open_log(log)?;
    let (ready, port) = mpsc::channel();
    thread::spawn(move || drain(stderr, copy, ready));
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        match port.recv_timeout(Duration::from_millis(100)) {
            Ok(port) => return Ok((server, port)),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(server.failure(&format!("closed its output without a `{}` line", LISTENING.trim())));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if signals::interrupted() {
            return Err(Failure::with_code("xtask: interrupted while starting SecantusDB", 130));
        }
        if Instant::now() > deadline {
            return Err(server.failure(&format!("did not say where it listens within {READY_TIMEOUT:?}")));
        }
    }
}

/// Copies the server's stderr into `log` for as long as it runs (so it never blocks on a full
/// pipe), sending the port once the listening line goes by.
fn drain(stderr: impl Read, mut log: impl Write, ready: mpsc::Sender<u16>) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    let mut announced = false;
    while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
        let _ = log.write_all(&line);
        if !announced {
            if let Some(port) = listening_port(&String::from_utf8_lossy(&line)) {
                announced = ready.send(port).is_ok();
            }
        }
        line.clear();
    }
}

/// The port in a `secantus listening on 127.0.0.1:PORT` log line.
fn listening_port(line: &str) -> Option<u16> {
    let (_, addr) = line.split_once(LISTENING)?;
    let (_, port) = addr.trim().rsplit_once(':')?;
    port.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listening_line_gives_the_port() {
        let line = "2026-11-23 01:34:29,021 INFO secantus.server: secantus listening on 127.0.0.1:37955\n";
        assert_eq!(listening_port(line), Some(37955));
        assert_eq!(listening_port("INFO secantus.server: opening storage"), None);
        assert_eq!(listening_port("secantus listening on 127.0.0.1:notaport"), None);
    }

    #[test]
    fn drain_copies_everything_and_announces_the_port_once() {
        let output = "starting\nsecantus listening on 127.0.0.1:4242\nsecantus listening on 127.0.0.1:1\nbye\n";
        let (ready, port) = mpsc::channel();
        let mut copy = Vec::new();
        drain(output.as_bytes(), &mut copy, ready);
        assert_eq!(copy, output.as_bytes());
        assert_eq!(port.try_iter().collect::<Vec<_>>(), vec![4242]);
    }

    /// A folder with an executable `fake-secantusd` running `script`, for `start` to run.
    fn fake_server(script: &str) -> TaskResult<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        let io = |e: std::io::Error| Failure::new(e.to_string());
        let dir = std::env::temp_dir().join(format!("xtask-fake-secantus-{}-{}", std::process::id(), script.len()));
        std::fs::create_dir_all(&dir).map_err(io)?;
        let program = dir.join("fake-secantusd");
        std::fs::write(&program, format!("#!/bin/sh\n{script}\n")).map_err(io)?;
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).map_err(io)?;
        Ok(dir)
    }

    #[test]
    fn start_waits_for_the_listening_line_and_the_guard_stops_the_server() -> TaskResult {
        let dir = fake_server(
            "echo booting >&2; sleep 0.2; echo 'INFO secantus listening on 127.0.0.1:4321' >&2; exec sleep 600",
        )?;
        let (mut server, port) = start(&dir.join("fake-secantusd"), &dir, &dir.join("log"))?;
        assert_eq!(port, 4321);
        assert!(!server.has_exited());
        let pid = server.pid();
        drop(server);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} is still there"
        );
        let log = std::fs::read_to_string(dir.join("log")).map_err(|e| Failure::new(e.to_string()))?;
        assert!(log.starts_with("booting\n"), "{log}");
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn a_server_that_exits_without_listening_is_an_error_naming_its_log() -> TaskResult {
        let dir = fake_server("echo 'cannot open storage' >&2; exit 3")?;
        let Err(failure) = start(&dir.join("fake-secantusd"), &dir, &dir.join("log")) else {
            return Err(Failure::new("start succeeded with a server that exits"));
        };
        assert!(
            failure.message.contains("secantusd-py closed its output"),
            "{}",
            failure.message
        );
        assert!(
            failure.message.contains(&dir.join("log").display().to_string()),
            "{}",
            failure.message
        );
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
