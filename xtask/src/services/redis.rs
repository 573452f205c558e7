//! Redis for the tests: `HIVE_REDIS_URL`, else one answering on 127.0.0.1:6379, else a
//! `redis-server` started on a free port.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use super::process::Server;
use super::Provided;
use crate::{cmd, signals, Failure, TaskResult};

/// The variable the tests read.
pub(crate) const ENV: &str = "HIVE_REDIS_URL";

/// How long a started redis-server gets to answer PING.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Finds or starts Redis; `Ok(None)` (after a notice) when there is none to be had.
pub(crate) fn provide(logs: &Path) -> TaskResult<Option<Provided>> {
    if let Ok(url) = std::env::var(ENV) {
        eprintln!("xtask: Redis: using {ENV}={url} from the environment");
        return Ok(Some(Provided::existing(ENV, url)));
    }
    let default = SocketAddr::from(([127, 0, 0, 1], 6379));
    if ping(default) {
        eprintln!("xtask: Redis: found one answering on {default}");
        return Ok(Some(Provided::existing(ENV, format!("redis://{default}"))));
    }
    let Some(program) = cmd::which("redis-server") else {
        eprintln!(
            "xtask: Redis: not found (no {ENV}, nothing answers on {default}, no redis-server on PATH); \
             the Redis tests will be skipped. Install redis-server or set {ENV} to run them."
        );
        return Ok(None);
    };
    let (server, addr) = start(&program, logs)?;
    eprintln!("xtask: Redis: started redis-server (pid {}) on {addr}", server.pid());
    Ok(Some(Provided::started(ENV, format!("redis://{addr}"), server)))
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
    let deadline = Instant::now() + READY_TIMEOUT;
    while !ping(addr) {
        if server.has_exited() {
            return Err(server.failure("exited before answering PING"));
        }
        if signals::interrupted() {
            return Err(Failure::with_code(
                "xtask: interrupted while starting redis-server",
                130,
            ));
        }
        if Instant::now() > deadline {
            return Err(server.failure(&format!("did not answer PING on {addr} within {READY_TIMEOUT:?}")));
        }
        thread::sleep(Duration::from_millis(50));
    }
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
