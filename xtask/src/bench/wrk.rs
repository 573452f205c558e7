//! `wrk`: finding or installing it, running it, and reading its report.

use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::{cmd, Failure, TaskResult};

/// The Debian command that installs wrk.
const INSTALL: &str = "apt-get install -y wrk";

/// How one `wrk` run loads a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Load {
    /// Seconds.
    pub(crate) seconds: u32,
    /// wrk threads (`-t`).
    pub(crate) threads: u32,
    /// Open connections (`-c`).
    pub(crate) connections: u32,
}

/// What wrk measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Report {
    /// Requests per second.
    pub(crate) requests_per_sec: f64,
    /// Median latency, in microseconds.
    pub(crate) p50_us: f64,
    /// 99th percentile latency, in microseconds.
    pub(crate) p99_us: f64,
    /// Requests completed.
    pub(crate) requests: u64,
    /// Answers that were not 2xx or 3xx, plus socket errors.
    pub(crate) errors: u64,
}

/// The path of `wrk`, installing it with apt-get when it is missing and xtask runs as root;
/// otherwise a failure that gives the command to run.
pub(crate) fn find_or_install() -> TaskResult<String> {
    if let Some(path) = cmd::which("wrk") {
        return Ok(path.display().to_string());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
    if !root {
        return Err(Failure::new(format!(
            "xtask: wrk is not installed; install it with `sudo {INSTALL}`"
        )));
    }
    eprintln!("xtask: wrk is not installed; running `{INSTALL}`");
    let mut install = Command::new("apt-get");
    install.args(["install", "-y", "wrk"]);
    cmd::run("apt-get install wrk", &mut install)
        .map_err(|e| Failure::new(format!("{}\nxtask: install wrk with `{INSTALL}`", e.message)))?;
    cmd::which("wrk")
        .map(|path| path.display().to_string())
        .ok_or_else(|| Failure::new(format!("xtask: wrk still not found after `{INSTALL}`")))
}

/// Runs wrk against `url` with `headers`, and reads its report.
pub(crate) fn run(wrk: &str, url: &str, headers: &[String], load: Load) -> TaskResult<Report> {
    let mut command = Command::new(wrk);
    command.args([
        format!("-t{}", load.threads),
        format!("-c{}", load.connections),
        format!("-d{}s", load.seconds),
        "--latency".to_string(),
    ]);
    for header in headers {
        command.args(["-H", header]);
    }
    command.arg(url);
    // The token is in a header: show the command without it.
    eprintln!(
        "xtask: $ wrk -t{} -c{} -d{}s --latency{} {url}",
        load.threads,
        load.connections,
        load.seconds,
        if headers.is_empty() { "" } else { " -H <authorization>" }
    );
    let output = command
        .output()
        .map_err(|e| Failure::new(format!("xtask: could not run wrk: {e}")))?;
    let text = String::from_utf8_lossy(&output.stdout);
    cmd::check("wrk", output.status)?;
    eprint!("{text}");
    parse(&text).map_err(|e| Failure::new(format!("xtask: cannot read wrk's report ({e}):\n{text}")))
}

/// A wrk duration (`385.21us`, `1.01ms`, `2.00s`, `1.00m`) in microseconds.
fn micros(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match unit {
        "us" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" => 60e6,
        "h" => 3600e6,
        _ => return None,
    };
    Some(number * factor)
}

/// Reads wrk's text report (`--latency`).
pub(crate) fn parse(text: &str) -> Result<Report, String> {
    let mut rate = None;
    let mut p50 = None;
    let mut p99 = None;
    let mut requests = None;
    let mut errors = 0_u64;
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", value] => rate = value.parse::<f64>().ok(),
            ["50%", value] => p50 = micros(value),
            ["99%", value] => p99 = micros(value),
            [count, "requests", "in", ..] => requests = count.parse::<u64>().ok(),
            ["Non-2xx", "or", "3xx", "responses:", count] => errors += count.parse::<u64>().unwrap_or(1),
            ["Socket", "errors:", rest @ ..] => {
                errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    Ok(Report {
        requests_per_sec: rate.ok_or("no `Requests/sec:` line")?,
        p50_us: p50.ok_or("no `50%` latency line (was --latency given?)")?,
        p99_us: p99.ok_or("no `99%` latency line (was --latency given?)")?,
        requests: requests.ok_or("no `N requests in` line")?,
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 10s test @ http://127.0.0.1:8081/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   385.21us  200.12us   8.12ms   90.00%
    Req/Sec    41.00k     2.00k   45.00k    70.00%
  Latency Distribution
     50%  350.00us
     75%  420.00us
     90%  520.00us
     99%    1.01ms
  816000 requests in 10.00s, 100.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:  81600.00
Transfer/sec:     10.00MB
";

    #[test]
    fn the_report_is_read() -> Result<(), String> {
        let report = parse(REPORT)?;
        assert_eq!(
            report,
            Report {
                requests_per_sec: 81_600.0,
                p50_us: 350.0,
                p99_us: 1_010.0,
                requests: 816_000,
                errors: 8,
            }
        );
        Ok(())
    }

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(micros("12.50us"), Some(12.5));
        assert_eq!(micros("2.00s"), Some(2e6));
        assert_eq!(micros("1.00m"), Some(60e6));
        assert_eq!(micros("3parsecs"), None);
    }

    #[test]
    fn a_truncated_report_is_an_error() {
        assert!(parse("Running 10s test @ http://x/\n").is_err());
    }
}
