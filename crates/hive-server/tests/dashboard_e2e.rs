//! End to end: `hive demo seed`, then the service, then the dashboard in headless Chromium
//! (driven through ChromeDriver): sign in with the dev token, wait for the three charts, check
//! they drew data, search with suggestions, open a timeline, and save screenshots under
//! `target/e2e-screenshots/`. Installs Debian's `chromium` and `chromium-driver` when they are
//! missing (as root), and otherwise fails with the command to run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hive_server::config::Layer;
use serde_json::{json, Value};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const INSTALL: &str = "apt-get install -y chromium chromium-driver";
/// How long the page may take to reach a state (a bound on waiting, not a performance check).
const PATIENCE: Duration = Duration::from_secs(30);

/// Chromium and ChromeDriver are there, installed now if need be.
fn ensure_chromium() {
    let present = || Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if present() {
        return;
    }
    eprintln!("dashboard e2e: Chromium is missing, running `{INSTALL}`");
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "chromium", "chromium-driver"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    if !install() {
        let _ = Command::new("apt-get").arg("update").status();
        install();
    }
    assert!(
        present(),
        "the dashboard e2e test needs Chromium and ChromeDriver and could not install them: run `{INSTALL}` as root"
    );
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `target/e2e-screenshots/` (next to the `hive` binary's profile directory).
fn screenshot_dir() -> PathBuf {
    let binary = Path::new(env!("CARGO_BIN_EXE_hive"));
    let target = binary.parent().and_then(Path::parent).unwrap();
    let dir = target.join("e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `hive demo seed` as a user would, into `data_dir`.
fn seed(data_dir: &Path) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hive"));
    command
        .args(["demo", "seed", "--payments", "240", "--data-dir"])
        .arg(data_dir);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("HIVE_")) {
        command.env_remove(name);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "hive demo seed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Starts ChromeDriver on a free port and a headless Chromium session through it.
async fn browser(profile: &Path) -> (Client, Killed) {
    let port = free_port();
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Killed(driver);
    let url = format!("http://127.0.0.1:{port}");
    let ready = Instant::now();
    while reqwest::get(format!("{url}/status")).await.is_err() {
        assert!(ready.elapsed() < PATIENCE, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let args = [
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--window-size=1400,2300".to_owned(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&url)
        .await
        .unwrap();
    (client, driver)
}

/// Evaluates `expression` in the page until it is truthy; returns its value.
async fn until(client: &Client, what: &str, expression: &str) -> Value {
    let started = Instant::now();
    loop {
        let value = client
            .execute(&format!("return ({expression});"), vec![])
            .await
            .unwrap();
        let truthy = match &value {
            Value::Null | Value::Bool(false) => false,
            Value::Number(n) => n.as_f64() != Some(0.0),
            Value::String(s) => !s.is_empty(),
            _ => true,
        };
        if truthy {
            return value;
        }
        if started.elapsed() > PATIENCE {
            let body = client.execute("return document.body.innerText;", vec![]).await.unwrap();
            panic!("waited {PATIENCE:?} for {what} (`{expression}`); the page shows:\n{body}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let path = screenshot_dir().join(name);
    std::fs::write(&path, png).unwrap();
    eprintln!("dashboard e2e: saved {}", path.display());
}

/// The `<rect>`s of a chart with a non-zero drawn size, as `{fill: count}`.
const RECTS: &str = "(id) => { const counts = {}; \
    for (const r of document.querySelectorAll(`#${id} svg rect`)) { const b = r.getBBox(); \
      if (b.width > 0 && b.height > 0) { const f = r.getAttribute('fill'); counts[f] = (counts[f] || 0) + 1; } } \
    return counts; }";

async fn rects(client: &Client, chart: &str) -> serde_json::Map<String, Value> {
    let script = format!("return ({RECTS})('{chart}');");
    match client.execute(&script, vec![]).await.unwrap() {
        Value::Object(counts) => counts,
        other => panic!("{chart}: {other}"),
    }
}

fn count(counts: &serde_json::Map<String, Value>, fill: &str) -> u64 {
    counts.get(fill).and_then(Value::as_u64).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_draws_the_seeded_data_in_chromium() {
    ensure_chromium();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    seed(&data_dir);
    let server = common::start(Layer {
        data_dir: Some(data_dir.display().to_string()),
        ..Layer::default()
    })
    .await;
    let token = common::token(&data_dir);
    let (client, _driver) = browser(&dir.path().join("chromium-profile")).await;

    // Sign in: the page asks for the token, keeps it, and loads the charts.
    client.goto(&format!("{}/dashboard", server.base)).await.unwrap();
    until(&client, "the token form", "!document.getElementById('login').hidden").await;
    client
        .find(Locator::Id("token"))
        .await
        .unwrap()
        .send_keys(&token)
        .await
        .unwrap();
    client
        .find(Locator::Css("#token-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let charts = "[...document.querySelectorAll('.chart')]";
    until(
        &client,
        "the charts",
        &format!("{charts}.every(c => c.dataset.state !== 'loading')"),
    )
    .await;
    let states = client
        .execute(
            &format!("return {charts}.map(c => c.id + ':' + c.dataset.state + ':' + c.textContent.slice(0, 200));"),
            vec![],
        )
        .await
        .unwrap();
    for state in states.as_array().unwrap() {
        let state = state.as_str().unwrap();
        assert!(state.contains(":ready:"), "a chart failed: {state}");
        assert!(!state.contains("No data"), "a chart is empty: {state}");
    }

    // Each chart drew its data: ~60 payments of the dev organization over 30 days.
    let trends = rects(&client, "chart-trends").await;
    assert!(
        count(&trends, "#1F77B4") >= 10,
        "a bar per day with payments: {trends:?}"
    );
    let circles = client
        .execute(
            "return document.querySelectorAll('#chart-trends svg circle').length;",
            vec![],
        )
        .await
        .unwrap();
    assert!(circles.as_u64().unwrap() >= 30, "an amount point per day: {circles}");
    let statistics = rects(&client, "chart-statistics").await;
    let stacked: u64 = ["#1F77B4", "#FF7F0E", "#2CA02C"]
        .iter()
        .map(|f| count(&statistics, f))
        .sum();
    assert!(
        stacked >= 6,
        "bars of three currencies and their legend keys: {statistics:?}"
    );
    let heatmap = rects(&client, "chart-heatmap").await;
    let cells: u64 = heatmap
        .iter()
        .filter(|(fill, _)| fill.as_str() != "#FFFFFF")
        .map(|(_, n)| n.as_u64().unwrap())
        .sum();
    assert!(cells >= 168, "a cell per hour and weekday: {heatmap:?}");
    assert!(
        cells - count(&heatmap, "#F2F2F2") >= 20,
        "busy cells are shaded: {heatmap:?}"
    );
    let currencies = until(
        &client,
        "the currency list",
        "document.getElementById('currency').options.length > 1",
    )
    .await;
    assert_eq!(currencies, Value::Bool(true));
    screenshot(&client, "dashboard.png").await;

    // Redrawing the charts in another currency breaks no rule of the content security policy.
    client
        .execute(
            "window.violations = []; \
             document.addEventListener('securitypolicyviolation', e => window.violations.push(e.violatedDirective));",
            vec![],
        )
        .await
        .unwrap();
    let currency = client.find(Locator::Id("currency")).await.unwrap();
    currency.select_by_value("USD").await.unwrap();
    client
        .find(Locator::Css("#filters button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(
        &client,
        "the trends in USD",
        "document.querySelector('#chart-trends svg')?.textContent.includes('(USD)')",
    )
    .await;
    until(
        &client,
        "the redrawn charts",
        &format!("{charts}.every(c => c.dataset.state === 'ready')"),
    )
    .await;
    let violations = client.execute("return window.violations;", vec![]).await.unwrap();
    assert_eq!(violations, json!([]), "CSP violations");
    // (The listener does see one: an inline style attribute is refused.)
    client
        .execute(
            "document.body.insertAdjacentHTML('beforeend', '<i style=\"color: red\"></i>');",
            vec![],
        )
        .await
        .unwrap();
    until(&client, "a refused inline style", "window.violations.length > 0").await;

    // Live search: typing shows suggestions and matching payments.
    client
        .find(Locator::Id("search-box"))
        .await
        .unwrap()
        .send_keys("clou")
        .await
        .unwrap();
    let suggestion = until(
        &client,
        "suggestions",
        "!document.getElementById('suggestions').hidden && document.querySelector('#suggestions li')?.dataset.text",
    )
    .await;
    assert!(suggestion.as_str().unwrap().starts_with("Cloud"), "{suggestion}");
    until(
        &client,
        "search results",
        "document.querySelectorAll('#results tbody tr').length > 0",
    )
    .await;
    screenshot(&client, "dashboard-search.png").await;

    // A result row opens the timeline of its correlation id.
    client
        .find(Locator::Css("#results tbody tr"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let events = until(
        &client,
        "the timeline",
        "document.querySelectorAll('#timeline-events li').length",
    )
    .await;
    assert!(events.as_u64().unwrap() >= 1);
    let summary = client
        .find(Locator::Id("timeline-summary"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(summary.contains("correlation id demo-"), "{summary}");
    screenshot(&client, "dashboard-timeline.png").await;

    // A refused token brings the token form back.
    client
        .execute(
            "sessionStorage.setItem('hive.dashboard.token', 'not-a-token'); location.reload();",
            vec![],
        )
        .await
        .unwrap();
    let error = until(
        &client,
        "the token form after a 401",
        "!document.getElementById('login').hidden && document.getElementById('login-error').textContent",
    )
    .await;
    assert!(error.as_str().unwrap().contains("refused"), "{error}");

    client.close().await.unwrap();
    server.stop().await;
}
