//! `cargo xtask fuzz-api` (R5): schemathesis against the running `hive` service.
//!
//! Installs schemathesis (PyPI, pinned) into a venv under the target directory, builds `hive`,
//! starts it on a free port with the in-memory store and a known token, and runs
//! `schemathesis run http://127.0.0.1:PORT/openapi.json` with a fixed example budget and seed.
//! It fails on any `5xx`, on any `4xx`/`5xx` without an `application/problem+json` body, on a
//! response that does not match the OpenAPI document (status, content type, headers, schema),
//! and on a panic in the service's log.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use clap::Args;

use crate::signals::send_signal;
use crate::{cmd, metadata, signals, Failure, TaskResult};

/// What pip installs: pinned, so every run generates the same cases from the same seed.
const PACKAGE: &str = "schemathesis==4.32.5";

/// The bearer token of the service under test (organization `org-fuzz`).
const TOKEN: &str = "fuzz-api-token-0123456789";

/// The checks schemathesis runs on every response; `problem_json_for_errors` is ours (see
/// [`HOOKS`]).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance,problem_json_for_errors";

/// How long the service gets to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A schemathesis hooks file: every `4xx`/`5xx` must be an RFC 7807 problem whose `status` is
/// the response's.
const HOOKS: &str = r#"import json

import schemathesis


def _header(response, name):
    for key, value in response.headers.items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) else value
    return ""


@schemathesis.check
def problem_json_for_errors(ctx, response, case):
    if response.status_code < 400:
        return None
    content_type = _header(response, "content-type").split(";")[0].strip()
    if content_type != "application/problem+json":
        raise AssertionError(
            f"{response.status_code} without a problem body: content type {content_type!r}"
        )
    body = json.loads(response.content)
    for member in ("type", "title", "status", "detail", "code"):
        if member not in body:
            raise AssertionError(f"{response.status_code} problem without `{member}`: {body}")
    if body["status"] != response.status_code:
        raise AssertionError(f"problem status {body['status']} on a {response.status_code} response")
    return None
"#;

/// Options of `cargo xtask fuzz-api`.
#[derive(Debug, Args)]
pub(crate) struct FuzzApiArgs {
    /// Examples per operation and phase (schemathesis `--max-examples`).
    #[arg(long, default_value_t = 50)]
    pub(crate) max_examples: u32,
    /// The seed of the generated cases (schemathesis `--seed`): the same seed, the same cases.
    #[arg(long, default_value_t = 20_261_123)]
    pub(crate) seed: u64,
}

impl Default for FuzzApiArgs {
    /// The budget and seed CI uses (the command-line defaults).
    fn default() -> Self {
        Self {
            max_examples: 50,
            seed: 20_261_123,
        }
    }
}

/// Runs the whole thing; the service is stopped on every way out.
pub(crate) fn run(args: &FuzzApiArgs) -> TaskResult {
    let target = metadata::target_dir()?;
    let work = target.join("fuzz-api");
    fs::create_dir_all(&work).map_err(|e| io_failure(&work, &e))?;
    let schemathesis = install(&target.join("schemathesis-venv"))?;
    cmd::run(
        "building hive",
        &mut cmd::cargo(["build", "--quiet", "-p", "hive-server", "--bin", "hive"]),
    )?;
    let hive = target.join("debug").join("hive");
    let config = work.join("hive.toml");
    write(
        &config,
        &format!(
            "store = \"memory\"\n\n[[auth.tokens]]\ntoken = \"{TOKEN}\"\norganization = \"org-fuzz\"\nuser = \"fuzzer\"\n"
        ),
    )?;
    let hooks = work.join("hooks.py");
    write(&hooks, HOOKS)?;
    let port = free_port()?;
    let log = work.join("hive.log");
    let service = Service::start(&hive, &config, port, &log)?;
    let url = format!("http://127.0.0.1:{port}/openapi.json");
    let mut command = Command::new(&schemathesis);
    command
        .arg("run")
        .arg(&url)
        .args(["--header", &format!("Authorization: Bearer {TOKEN}")])
        .args(["--max-examples", &args.max_examples.to_string()])
        .args(["--seed", &args.seed.to_string()])
        .args(["--checks", CHECKS])
        .args(["--workers", "1", "--suppress-health-check", "all"])
        // The subscription feed stays open (Server-Sent Events, live): a request to it never
        // completes. Its parameters and answers are tested by hive-http's `subscriptions` test.
        .args(["--exclude-operation-id", "subscriptionEvents"])
        .arg("--report")
        .arg("junit")
        .arg("--report-dir")
        .arg(work.join("report"))
        .env("SCHEMATHESIS_HOOKS", &hooks)
        .current_dir(&work);
    let outcome = cmd::run("schemathesis", &mut command);
    drop(service);
    let panics = count_panics(&log)?;
    outcome.map_err(|f| {
        Failure::with_code(
            format!(
                "{}\nxtask: the service's log is {}; schemathesis's report is under {}",
                f.message,
                log.display(),
                work.join("report").display()
            ),
            f.code,
        )
    })?;
    if panics > 0 {
        return Err(Failure::new(format!(
            "xtask: fuzz-api: the service logged {panics} panic(s); see {}",
            log.display()
        )));
    }
    eprintln!("xtask: fuzz-api: no 5xx, every error a problem+json, every response as documented");
    Ok(())
}

/// Installs schemathesis into `venv` unless it is there already; returns its program.
fn install(venv: &Path) -> TaskResult<PathBuf> {
    let program = venv.join("bin").join("schemathesis");
    if program.is_file() {
        return Ok(program);
    }
    let python = cmd::which("python3")
        .ok_or_else(|| Failure::new("xtask: fuzz-api needs python3 (with venv) to install schemathesis from PyPI"))?;
    eprintln!("xtask: installing {PACKAGE} into {} (once)", venv.display());
    cmd::run(
        "creating the schemathesis venv",
        Command::new(python).args(["-m", "venv"]).arg(venv),
    )?;
    cmd::run(
        "installing schemathesis",
        Command::new(venv.join("bin").join("pip")).args(["install", "--quiet", "--disable-pip-version-check", PACKAGE]),
    )?;
    match program.is_file() {
        true => Ok(program),
        false => Err(Failure::new(format!(
            "xtask: {PACKAGE} installed no {}; delete {} and retry",
            program.display(),
            venv.display()
        ))),
    }
}

/// A port nobody listens on right now.
fn free_port() -> TaskResult<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| Failure::new(format!("xtask: no free port: {e}")))
}

fn write(path: &Path, text: &str) -> TaskResult {
    fs::write(path, text).map_err(|e| io_failure(path, &e))
}

fn io_failure(path: &Path, error: &std::io::Error) -> Failure {
    Failure::new(format!("xtask: {}: {error}", path.display()))
}

/// How many handler panics the service logged.
fn count_panics(log: &Path) -> TaskResult<usize> {
    let file = fs::File::open(log).map_err(|e| io_failure(log, &e))?;
    Ok(BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter(|line| line.contains("panicked"))
        .count())
}

/// The `hive` service under test, in its own process group; dropping it stops it.
struct Service {
    child: Child,
}

impl Service {
    /// Starts `hive serve` and waits until `/healthz` answers `200`.
    fn start(hive: &Path, config: &Path, port: u16, log: &Path) -> TaskResult<Self> {
        use std::os::unix::process::CommandExt;
        let output = fs::File::create(log).map_err(|e| io_failure(log, &e))?;
        let errors = output.try_clone().map_err(|e| io_failure(log, &e))?;
        let child = Command::new(hive)
            .arg("--config")
            .arg(config)
            .args(["--http-addr", &format!("127.0.0.1:{port}"), "serve"])
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .process_group(0)
            .spawn()
            .map_err(|e| Failure::new(format!("xtask: could not start {}: {e}", hive.display())))?;
        let mut service = Self { child };
        eprintln!(
            "xtask: fuzz-api: hive (pid {}) on 127.0.0.1:{port}, log {}",
            service.child.id(),
            log.display()
        );
        let deadline = Instant::now() + READY_TIMEOUT;
        while !healthy(port) {
            if signals::interrupted() {
                return Err(Failure::with_code("xtask: interrupted while starting hive", 130));
            }
            if !matches!(service.child.try_wait(), Ok(None)) || Instant::now() > deadline {
                return Err(Failure::new(format!(
                    "xtask: hive did not answer /healthz within {READY_TIMEOUT:?}; its output is in {}",
                    log.display()
                )));
            }
            thread::sleep(Duration::from_millis(100));
        }
        Ok(service)
    }
}

/// Whether `GET /healthz` answers `200` on `port`.
fn healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut status = String::new();
    BufReader::new(stream).read_line(&mut status).is_ok() && status.starts_with("HTTP/1.1 200")
}

impl Drop for Service {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        if !send_signal("TERM", &group) {
            let _ = self.child.kill();
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while matches!(self.child.try_wait(), Ok(None)) {
            if Instant::now() > deadline {
                send_signal("KILL", &group);
                let _ = self.child.kill();
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_in_the_log_are_counted() -> TaskResult {
        let log = std::env::temp_dir().join(format!("xtask-fuzz-api-log-{}", std::process::id()));
        write(
            &log,
            "INFO serving\nERROR a request handler panicked panic=\"boom\"\nINFO ok\n",
        )?;
        assert_eq!(count_panics(&log)?, 1);
        let _ = fs::remove_file(&log);
        Ok(())
    }

    #[test]
    fn a_closed_port_is_not_healthy() -> TaskResult {
        assert!(!healthy(free_port()?));
        Ok(())
    }
}
