//! Redis for the tests: `HIVE_REDIS_URL`, else one answering on 127.0.0.1:6379, else a
//! `redis-server` started on a free port, installed first from Debian's packages when it is
//! missing and xtask runs as root.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::process::Server;
use super::{apt, Provided, Provision, REDIS};
use crate::{cmd, Failure, TaskResult};

/// How long a started redis-server gets to answer PING.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// The address a Redis of the machine's own answers on, if there is one.
const DEFAULT: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 6379);

/// Finds or starts Redis; `Ok(Err(why))` when there is none to be had.
pub(crate) fn provide(logs: &Path) -> TaskResult<Provision> {
    if let Some(provided) = super::from_env(REDIS) {
        return Ok(Ok(provided));
    }
    if let Some(running) = running() {
        return Ok(Ok(running));
    }
    let program = match cmd::which("redis-server") {
        Some(program) => program,
        None => {
            let program = match install()? {
                Ok(program) => program,
                Err(why) => return Ok(Err(why)),
            };
            // Debian's package may start a Redis of the system's as it installs.
            if let Some(running) = running() {
                return Ok(Ok(running));
            }
            program
        }
    };
    let (server, addr) = start(&program, logs)?;
    eprintln!("xtask: Redis: started redis-server (pid {}) on {addr}", server.pid());
    Ok(Ok(Provided::started(REDIS, format!("redis://{addr}"), server)))
}

/// The Redis answering on 127.0.0.1:6379, if one does.
fn running() -> Option<Provided> {
    if !ping(DEFAULT) {
        return None;
    }
    eprintln!("xtask: Redis: found one answering on {DEFAULT}");
    Some(Provided::running(REDIS, format!("redis://{DEFAULT}")))
}

/// Installs Debian's `redis-server` when running as root; `Ok(Err(why))` with the command to
/// run when not root, or when apt-get fails.
fn install() -> TaskResult<Result<PathBuf, String>> {
    let not_here = format!("redis-server is not installed and nothing answers on {DEFAULT}");
    apt::install_program(REDIS, "redis-server", "redis-server on PATH", &not_here, || {
        cmd::which("redis-server")
    })
}

/// Starts `redis-server` on a free port, keeping nothing on disk, and waits until it answers.
fn start(program: &Path, logs: &Path) -> TaskResult<(Server, SocketAddr)> {
    let port = free_port()?;
    let mut command = Command::new(program);
    command.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]);
    let mut server = Server::spawn("redis-server", &mut command, &logs.join("redis-server.log"), false)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    server.await_ready(READY_TIMEOUT, &format!("answer PING on {addr}"), || {
        ping(addr).then_some(()).ok_or_else(String::new)
    })?;
    Ok((server, addr))
}

/// Whether a Redis server answers `PING` with `+PONG` at `addr`, within half a second.
pub(crate) fn ping(addr: SocketAddr) -> bool {
    let timeout = Duration::from_millis(500);
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, timeout) else {
        return false;
    };
    if stream.set_read_timeout(Some(timeout)).is_err() || stream.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    let mut read = 0;
    while read < reply.len() {
        match stream.read(&mut reply[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    reply.starts_with(b"+PONG")
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub(crate) fn free_port() -> TaskResult<u16> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| Failure::new(format!("xtask: cannot find a free port on 127.0.0.1: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    /// A fake server that answers one connection with `reply`.
    fn fake(reply: &'static [u8]) -> TaskResult<SocketAddr> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(|e| Failure::new(e.to_string()))?;
        let addr = listener.local_addr().map_err(|e| Failure::new(e.to_string()))?;
        thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut request = [0u8; 14];
                let _ = stream.read_exact(&mut request);
                if &request == b"*1\r\n$4\r\nPING\r\n" {
                    let _ = stream.write_all(reply);
                }
            }
        });
        Ok(addr)
    }

    #[test]
    fn ping_accepts_pong_only() -> TaskResult {
        assert!(ping(fake(b"+PONG\r\n")?));
        assert!(!ping(fake(b"-ERR unknown\r\n")?));
        Ok(())
    }

    #[test]
    fn a_started_redis_server_answers_and_is_gone_once_dropped() -> TaskResult {
        let Some(program) = cmd::which("redis-server") else {
            // `cargo xtask test` installs it in CI; a skip there would hide that it did not.
            assert!(
                !crate::services::require::in_ci(),
                "CI is set, but redis-server is not on PATH: `cargo xtask test` installs it (as root)"
            );
            eprintln!("redis-server is not on PATH; nothing to start");
            return Ok(());
        };
        let logs = std::env::temp_dir().join(format!("xtask-redis-{}", std::process::id()));
        std::fs::create_dir_all(&logs).map_err(|e| Failure::new(e.to_string()))?;
        let (server, addr) = start(&program, &logs)?;
        assert!(ping(addr));
        drop(server);
        assert!(
            !ping(addr),
            "redis-server still answers on {addr} after the guard dropped"
        );
        Ok(())
    }

    #[test]
    fn ping_fails_on_a_closed_port() -> TaskResult {
        assert!(!ping(SocketAddr::from(([127, 0, 0, 1], free_port()?))));
        Ok(())
    }
}
