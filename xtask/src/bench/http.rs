//! `cargo xtask bench http` (P8): `GET /payments/{id}` through the whole `hive` service against
//! an axum hello-world, both release builds on loopback, both driven by the same `wrk` load.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::report::format_time;
use super::wrk::{self, Load, Report};
use crate::services::process::Server;
use crate::{cmd, metadata, Failure, TaskResult};

/// The line that opens the HTTP table.
pub(crate) const BEGIN: &str = "<!-- bench:http:begin -->";
/// The line that closes the HTTP table.
pub(crate) const END: &str = "<!-- bench:http:end -->";

/// The payment the benchmark reads.
const PAYMENT: &str = "pay-bench-1";
/// How long a server may take to answer its first request.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Both sides' reports, as saved between runs and read by the figures table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct HttpResults {
    /// The wrk load, as text (e.g. `wrk -t2 -c32 -d10s`).
    pub(crate) load: String,
    /// When, e.g. `2026-11-23 06:00 UTC`.
    pub(crate) date: String,
    /// `GET /payments/{id}` through the service.
    pub(crate) service: Report,
    /// `GET /` of the hello-world.
    pub(crate) hello: Report,
}

/// Where the last full run's results are kept.
pub(crate) fn saved_path(criterion: &Path) -> PathBuf {
    criterion.join("http").join("wrk.json")
}

/// The last saved results, if any.
pub(crate) fn load_saved(criterion: &Path) -> Option<HttpResults> {
    let text = std::fs::read_to_string(saved_path(criterion)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Saves `results` for later tables.
pub(crate) fn save(criterion: &Path, results: &HttpResults) -> TaskResult {
    let path = saved_path(criterion);
    let io = |e: std::io::Error| Failure::new(format!("xtask: cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let text = serde_json::to_string_pretty(results).map_err(|e| Failure::new(e.to_string()))?;
    std::fs::write(&path, text).map_err(io)
}

/// Builds both binaries (release), starts each in turn, loads it with wrk and stops it.
pub(crate) fn run(load: Load) -> TaskResult<HttpResults> {
    let wrk = wrk::find_or_install()?;
    let mut build = cmd::cargo([
        "build",
        "--release",
        "-p",
        "hive-server",
        "--bin",
        "hive",
        "-p",
        "hive-benches",
        "--bin",
        "hello",
    ]);
    cmd::run("the release build of hive and hello", &mut build)?;
    let target = metadata::target_dir()?;
    let release = target.join("release");
    let logs = target.join("xtask");
    std::fs::create_dir_all(&logs)
        .map_err(|e| Failure::new(format!("xtask: cannot create {}: {e}", logs.display())))?;

    let hello = {
        let addr = free_addr()?;
        let mut command = Command::new(release.join("hello"));
        command.arg(addr.to_string());
        let mut server = Server::spawn("hello", &mut command, &logs.join("bench-hello.log"), false)?;
        wait_until(&mut server, addr, "GET / HTTP/1.1", &[], None)?;
        wrk::run(&wrk, &format!("http://{addr}/"), &[], load)?
    };

    let service = {
        let data = target.join("xtask").join("bench-http-data");
        let _ = std::fs::remove_dir_all(&data);
        let addr = free_addr()?;
        let mut command = Command::new(release.join("hive"));
        command
            .args(["--store", "memory", "--cache", "moka", "--http-addr"])
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(&data)
            .arg("serve")
            .env_remove("HIVE_CONFIG")
            .env_remove("HIVE_REDIS_URL")
            .env_remove("HIVE_MONGODB_URI");
        let mut server = Server::spawn("hive", &mut command, &logs.join("bench-hive.log"), false)?;
        wait_until(&mut server, addr, "GET /healthz HTTP/1.1", &[], None)?;
        let token = std::fs::read_to_string(data.join("dev-token"))
            .map_err(|e| Failure::new(format!("xtask: cannot read the service's development token: {e}")))?;
        let authorization = format!("Authorization: Bearer {}", token.trim());
        let headers = [authorization];
        let body = format!(
            r#"{{"paymentId":"{PAYMENT}","amount":"100.00","currency":"EUR","description":"Cloud compute, November","tags":["compute"]}}"#
        );
        let created = request(addr, "POST /payments HTTP/1.1", &headers, Some(&body))?;
        if !(200..300).contains(&created) {
            return Err(server.failure(&format!("answered {created} to the creation of {PAYMENT}")));
        }
        let path = format!("/payments/{PAYMENT}");
        wait_until(&mut server, addr, &format!("GET {path} HTTP/1.1"), &headers, None)?;
        let report = wrk::run(&wrk, &format!("http://{addr}{path}"), &headers, load)?;
        let _ = std::fs::remove_dir_all(&data);
        report
    };

    for (name, report) in [("GET /payments/{id}", &service), ("hello-world", &hello)] {
        if report.errors > 0 {
            return Err(Failure::new(format!(
                "xtask: {name}: {} of {} requests failed (non-2xx answers or socket errors)",
                report.errors, report.requests
            )));
        }
    }
    Ok(HttpResults {
        load: format!("wrk -t{} -c{} -d{}s", load.threads, load.connections, load.seconds),
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        service,
        hello,
    })
}

/// The HTTP table (without the markers).
pub(crate) fn render(results: &HttpResults) -> String {
    let row = |what: &str, r: &Report| {
        format!(
            "| {what} | {:.0} | {} | {} | {} |\n",
            r.requests_per_sec,
            format_time(r.p50_us * 1e3),
            format_time(r.p99_us * 1e3),
            r.requests
        )
    };
    format!(
        "Measured {} with `{}` on loopback, each server alone in turn.\n\n\
         | endpoint | requests/s | p50 | p99 | requests |\n| --- | ---: | ---: | ---: | ---: |\n{}{}\n\
         `GET /payments/{{id}}` reaches {:.0}% of the hello-world's requests per second.\n",
        results.date,
        results.load,
        row(
            "`hive`: `GET /payments/{id}` (token, full middleware, query bus; by id uncached with an in-process read model)",
            &results.service
        ),
        row("axum hello-world: `GET /`", &results.hello),
        results.service.requests_per_sec / results.hello.requests_per_sec * 100.0
    )
}

/// An address on 127.0.0.1 with a port that was free a moment ago.
fn free_addr() -> TaskResult<SocketAddr> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map_err(|e| Failure::new(format!("xtask: cannot find a free port on 127.0.0.1: {e}")))
}

/// Waits until `server` answers `request_line` with a 2xx status.
fn wait_until(
    server: &mut Server,
    addr: SocketAddr,
    request_line: &str,
    headers: &[String],
    body: Option<&str>,
) -> TaskResult {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if server.has_exited() {
            return Err(server.failure("exited before answering"));
        }
        match request(addr, request_line, headers, body) {
            Ok(status) if (200..300).contains(&status) => return Ok(()),
            Ok(status) if Instant::now() >= deadline => {
                return Err(server.failure(&format!("still answers {status} to `{request_line}`")))
            }
            Err(_) if Instant::now() >= deadline => {
                return Err(server.failure(&format!("did not answer within {READY_TIMEOUT:?}")))
            }
            _ => thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Sends one HTTP/1.1 request (`Connection: close`) and returns the answer's status code.
fn request(addr: SocketAddr, request_line: &str, headers: &[String], body: Option<&str>) -> TaskResult<u16> {
    let io = |e: std::io::Error| Failure::new(format!("xtask: {request_line} to {addr}: {e}"));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(io)?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(io)?;
    let mut text = format!("{request_line}\r\nHost: {addr}\r\nConnection: close\r\n");
    for header in headers {
        text.push_str(header);
        text.push_str("\r\n");
    }
    if let Some(body) = body {
        text.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    text.push_str("\r\n");
    text.push_str(body.unwrap_or_default());
    stream.write_all(text.as_bytes()).map_err(io)?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).map_err(io)?;
    status(&answer).ok_or_else(|| Failure::new(format!("xtask: {request_line} to {addr}: no HTTP status line")))
}

/// The status code of an HTTP/1.x answer.
fn status(answer: &str) -> Option<u16> {
    let line = answer.lines().next()?;
    let mut words = line.split_whitespace();
    words.next().filter(|v| v.starts_with("HTTP/1."))?;
    words.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_is_read() {
        assert_eq!(status("HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n"), Some(201));
        assert_eq!(status("SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(status(""), None);
    }
}
