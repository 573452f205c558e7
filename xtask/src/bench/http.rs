//! `cargo xtask bench http` (P8): `GET /payments/{id}` through the whole `hive` service against
//! an axum hello-world, both release builds on loopback, both driven by the same `wrk` load.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::client::{free_addr, request, wait_until};
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
/// How long the service may take to answer the creation of the payment.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

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
        wait_until(&mut server, addr, "GET / HTTP/1.1", &[], READY_TIMEOUT)?;
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
        wait_until(&mut server, addr, "GET /healthz HTTP/1.1", &[], READY_TIMEOUT)?;
        let token = std::fs::read_to_string(data.join("dev-token"))
            .map_err(|e| Failure::new(format!("xtask: cannot read the service's development token: {e}")))?;
        let authorization = format!("Authorization: Bearer {}", token.trim());
        let headers = [authorization];
        let body = format!(
            r#"{{"paymentId":"{PAYMENT}","amount":"100.00","currency":"EUR","description":"Cloud compute, November","tags":["compute"]}}"#
        );
        let created = request(addr, "POST /payments HTTP/1.1", &headers, Some(&body), REQUEST_TIMEOUT)?;
        if !created.is_success() {
            return Err(server.failure(&format!("answered {} to the creation of {PAYMENT}", created.status)));
        }
        let path = format!("/payments/{PAYMENT}");
        wait_until(
            &mut server,
            addr,
            &format!("GET {path} HTTP/1.1"),
            &headers,
            READY_TIMEOUT,
        )?;
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
