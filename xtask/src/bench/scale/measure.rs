//! One size of `cargo xtask bench scale`: seed a fresh data directory, start the service on
//! it, time the queries, stop it, remove the directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::table::{seed_summary, status_kib, Figures, Timing};
use crate::bench::client::{free_addr, request, wait_until, Answer};
use crate::services::process::Server;
use crate::{Failure, TaskResult};

/// The store measured: the embedded durable one, the default.
const STORE: &str = "memory-durable";
/// How long the service may take from spawn to ready (it replays the whole log at start).
const READY_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How long one query may take.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How often the seeder's peak memory is sampled.
const SAMPLE_PERIOD: Duration = Duration::from_millis(500);
/// The queries timed, as `(label, path)`: each is called twice, with the development token
/// (its organization holds about a quarter of the seeded payments).
const QUERIES: &[(&str, &str)] = &[
    ("`GET /payments/statistics`", "/payments/statistics"),
    ("`GET /payments/search?q=kubernetes`", "/payments/search?q=kubernetes"),
    ("`GET /events/statistics`", "/events/statistics"),
    ("`GET /events/heatmap`", "/events/heatmap"),
];
/// The query whose `total` says how many payments the search matched.
const SEARCH: &str = "/payments/search?q=kubernetes";

/// What every size's run shares.
#[derive(Debug)]
pub(crate) struct Setup {
    /// The release `hive` binary.
    pub(crate) hive: PathBuf,
    /// Where the seeder's and the service's output go.
    pub(crate) logs: PathBuf,
    /// Where the data directories are made.
    pub(crate) scratch: PathBuf,
}

/// Seeds `payments` into a fresh data directory, starts the service on it, times the queries
/// and stops it; the directory is removed whatever happens.
pub(crate) fn measure(setup: &Setup, payments: u32) -> TaskResult<Figures> {
    let data = DataDir::fresh(
        setup
            .scratch
            .join(format!("hive-scale-{payments}-{}", std::process::id())),
    )?;
    let step = |what: &str| eprintln!("xtask: bench scale, {payments} payments: {what}");

    step(&format!("seeding into {}", data.0.display()));
    let log = setup.logs.join(format!("bench-scale-seed-{payments}.log"));
    let mut command = hive(&setup.hive, &data.0);
    command.args(["demo", "seed", "--payments", &payments.to_string()]);
    let started = Instant::now();
    let mut seeder = Server::spawn("hive demo seed", &mut command, &log, false)?;
    let mut seed_peak_kib = None;
    let status = seeder.wait(SAMPLE_PERIOD, |pid| {
        seed_peak_kib = proc_status_kib(pid, "VmHWM").or(seed_peak_kib);
    })?;
    let seed = started.elapsed();
    if !status.success() {
        return Err(seeder.failure(&format!("failed ({status})")));
    }
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let Some(summary) = seed_summary(&output) else {
        return Err(seeder.failure("ended without its `seeded N payments …` summary"));
    };
    let log_path = data.0.join("events.log");
    let log_bytes = std::fs::metadata(&log_path)
        .map_err(|e| Failure::new(format!("xtask: cannot read the size of {}: {e}", log_path.display())))?
        .len();

    step("starting the service");
    let addr = free_addr()?;
    let mut command = hive(&setup.hive, &data.0);
    command.arg("--http-addr").arg(addr.to_string()).arg("serve");
    let log = setup.logs.join(format!("bench-scale-hive-{payments}.log"));
    let started = Instant::now();
    let mut server = Server::spawn("hive", &mut command, &log, false)?;
    wait_until(&mut server, addr, "GET /readyz HTTP/1.1", &[], READY_TIMEOUT)?;
    let ready = started.elapsed();
    let rss_ready_kib = memory(&mut server, "VmRSS")?;
    let peak_ready_kib = memory(&mut server, "VmHWM")?;
    let token = std::fs::read_to_string(data.0.join("dev-token"))
        .map_err(|e| Failure::new(format!("xtask: cannot read the service's development token: {e}")))?;
    let headers = [format!("Authorization: Bearer {}", token.trim())];

    step("timing the queries");
    let mut queries = Vec::new();
    let mut search_matches = None;
    for (label, path) in QUERIES {
        let (first, answer) = get(&mut server, addr, path, &headers)?;
        let (repeat, _) = get(&mut server, addr, path, &headers)?;
        if *path == SEARCH {
            search_matches = Some(total(&mut server, path, &answer)?);
        }
        queries.push(Timing {
            label: (*label).to_string(),
            first,
            repeat,
        });
    }
    let search_matches = search_matches.unwrap_or_default();
    if search_matches == 0 {
        return Err(server.failure(&format!("found no payment for `{SEARCH}`")));
    }
    let rss_after_kib = memory(&mut server, "VmRSS")?;

    step("stopping the service");
    let stopping = Instant::now();
    server.stop_cleanly()?;
    let stop = stopping.elapsed();
    let dir_bytes = dir_size(&data.0)
        .map_err(|e| Failure::new(format!("xtask: cannot read the size of {}: {e}", data.0.display())))?;
    Ok(Figures {
        payments,
        events: summary.events(),
        seed,
        seed_peak_kib,
        log_bytes,
        ready,
        rss_ready_kib,
        peak_ready_kib,
        queries,
        search_matches,
        rss_after_kib,
        stop,
        dir_bytes,
    })
}

/// The `hive` command on `data` with the durable embedded store and otherwise the defaults: no
/// `HIVE_…` variable, no `RUST_LOG`, run from `data` so that no `hive.toml` is read.
fn hive(program: &Path, data: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .args(["--store", STORE, "--data-dir"])
        .arg(data)
        .current_dir(data)
        .env_remove("RUST_LOG");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HIVE_") {
            command.env_remove(&key);
        }
    }
    command
}

/// Times one `GET path` with `headers`; fails unless it answers 2xx.
fn get(server: &mut Server, addr: SocketAddr, path: &str, headers: &[String]) -> TaskResult<(Duration, Answer)> {
    let line = format!("GET {path} HTTP/1.1");
    let started = Instant::now();
    let answer = request(addr, &line, headers, None, QUERY_TIMEOUT)
        .map_err(|f| server.failure(&format!("did not answer: {}", f.message)))?;
    let took = started.elapsed();
    if !answer.is_success() {
        let body: String = answer.body.chars().take(500).collect();
        return Err(server.failure(&format!("answered {} to `{line}`: {body}", answer.status)));
    }
    Ok((took, answer))
}

/// The `total` of a JSON answer to `path`.
fn total(server: &mut Server, path: &str, answer: &Answer) -> TaskResult<u64> {
    serde_json::from_str::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|body| body.get("total")?.as_u64())
        .ok_or_else(|| server.failure(&format!("answered `GET {path}` without a whole `total`")))
}

/// A `/proc/<pid>/status` field of the running server, in KiB.
fn memory(server: &mut Server, field: &str) -> TaskResult<u64> {
    let pid = server.pid();
    proc_status_kib(pid, field).ok_or_else(|| server.failure(&format!("has no {field} in /proc/{pid}/status")))
}

/// A field of `/proc/<pid>/status` in KiB, if the process is there.
fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    status_kib(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?, field)
}

/// The size of every file under `dir`, in bytes.
fn dir_size(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// A data directory made empty for one run and removed when dropped.
#[derive(Debug)]
struct DataDir(PathBuf);

impl DataDir {
    /// Empties (or creates) `path`.
    fn fresh(path: PathBuf) -> TaskResult<Self> {
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .map_err(|e| Failure::new(format!("xtask: cannot create {}: {e}", path.display())))?;
        Ok(Self(path))
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            eprintln!("xtask: could not remove {}: {e}", self.0.display());
        }
    }
}
