//! NATS with JetStream for the tests: `HIVE_NATS_URL`, else a `nats-server -js` started on a
//! free loopback port with its store under the target directory (Debian's `nats-server`
//! installed first when it is missing and xtask runs as root), removed once it stopped.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::process::Server;
use super::redis::free_port;
use super::{apt, Provided, Provision, NATS};
use crate::{cmd, Failure, TaskResult};

/// How long a started nats-server gets to answer with JetStream enabled.
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// Finds or starts a NATS server with JetStream; `Ok(Err(why))` when there is none to be had.
pub(crate) fn provide(target: &Path, logs: &Path) -> TaskResult<Provision> {
    if let Some(provided) = super::from_env(NATS) {
        return Ok(Ok(provided));
    }
    let program = match program() {
        Some(program) => program,
        None => match install()? {
            Ok(program) => program,
            Err(why) => return Ok(Err(why)),
        },
    };
    let store = target.join("xtask").join(format!("nats-{}", std::process::id()));
    let (server, addr) = start(&program, &store, logs)?;
    eprintln!(
        "xtask: NATS: started nats-server (pid {}) on {addr}, JetStream in {}",
        server.pid(),
        store.display()
    );
    Ok(Ok(
        Provided::started(NATS, format!("nats://{addr}"), server).removing(store)
    ))
}

/// `nats-server` on `PATH`, or where Debian's package puts it.
fn program() -> Option<PathBuf> {
    cmd::which("nats-server").or_else(|| {
        let debian = PathBuf::from("/usr/sbin/nats-server");
        debian.is_file().then_some(debian)
    })
}

/// Installs Debian's `nats-server` when running as root.
fn install() -> TaskResult<Result<PathBuf, String>> {
    apt::install_program(
        NATS,
        "nats-server",
        "nats-server",
        "nats-server is not installed",
        program,
    )
}

/// Starts `nats-server -js` on a free port with its store in `store`, and waits until it
/// answers with JetStream enabled.
fn start(program: &Path, store: &Path, logs: &Path) -> TaskResult<(Server, SocketAddr)> {
    std::fs::create_dir_all(store)
        .map_err(|e| Failure::new(format!("xtask: cannot create {}: {e}", store.display())))?;
    let port = free_port()?;
    let mut command = Command::new(program);
    command
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(store);
    let mut server = Server::spawn("nats-server", &mut command, &logs.join("nats-server.log"), false)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    server.await_ready(READY_TIMEOUT, &format!("answer with JetStream on {addr}"), || {
        jetstream_ready(addr).then_some(()).ok_or_else(String::new)
    })?;
    Ok((server, addr))
}

/// Whether a NATS server at `addr` sends its `INFO` with `"jetstream":true` and answers `PING`.
pub(crate) fn jetstream_ready(addr: SocketAddr) -> bool {
    let timeout = Duration::from_millis(500);
    let Ok(stream) = TcpStream::connect_timeout(&addr, timeout) else {
        return false;
    };
    if stream.set_read_timeout(Some(timeout)).is_err() {
        return false;
    }
    let mut reader = BufReader::new(&stream);
    let mut info = String::new();
    if reader.read_line(&mut info).is_err() || !info.starts_with("INFO ") || !info.contains("\"jetstream\":true") {
        return false;
    }
    if (&stream).write_all(b"CONNECT {\"verbose\":false}\r\nPING\r\n").is_err() {
        return false;
    }
    let mut pong = String::new();
    reader.read_line(&mut pong).is_ok() && pong.starts_with("PONG")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_started_nats_server_answers_with_jetstream_and_is_gone_once_dropped() -> TaskResult {
        let Some(program) = program() else {
            assert!(
                !crate::services::require::in_ci(),
                "CI is set, but nats-server is not installed: `cargo xtask test` installs it (as root)"
            );
            eprintln!("nats-server is not installed; nothing to start");
            return Ok(());
        };
        let dir = std::env::temp_dir().join(format!("xtask-nats-{}", std::process::id()));
        let (server, addr) = start(&program, &dir.join("store"), &dir)?;
        assert!(jetstream_ready(addr));
        drop(server);
        assert!(
            !jetstream_ready(addr),
            "nats-server still answers on {addr} after the guard dropped"
        );
        let _ = std::fs::remove_dir_all(dir);
        Ok(())
    }

    #[test]
    fn a_closed_port_is_not_ready() -> TaskResult {
        assert!(!jetstream_ready(SocketAddr::from(([127, 0, 0, 1], free_port()?))));
        Ok(())
    }
}
