//! The real `hive` binary in a child process: started with `HIVE_…` variables, killed with
//! SIGKILL, its stderr kept for assertions. Used by the reliability tests.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a `hive serve` child process keeps its events.
pub enum ServiceStore {
    /// The embedded durable log in the data directory, synced before each answer.
    Durable,
    /// A schema of the test's own on a PostgreSQL server.
    Postgres(super::postgres::Schema),
}

impl ServiceStore {
    /// The `HIVE_…` variables of a service on this store.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Durable => vec![("HIVE_STORE", "memory-durable".into()), ("HIVE_FSYNC", "always".into())],
            Self::Postgres(schema) => schema.env(),
        }
    }

    /// The store, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Durable => "the durable store",
            Self::Postgres(_) => "PostgreSQL",
        }
    }
}

/// A `hive serve` child process.
pub struct Process {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    stderr: Arc<Mutex<String>>,
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A pseudo-random number below `bound` (from the clock: the tests only need varied moments).
pub fn random_below(bound: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    u64::try_from(nanos % u128::from(bound.max(1))).unwrap()
}

impl Process {
    /// Starts `hive serve` on a free port with data in `data_dir` and the `HIVE_…` variables of
    /// `env` (the inherited `HIVE_…` ones are removed first), and waits until `/healthz` answers
    /// (panics, with the child's stderr, if it exits first or takes more than two minutes).
    pub async fn start(data_dir: &Path, env: &[(&str, String)]) -> Self {
        let mut process = Self::spawn(data_dir, env);
        process.wait_ready().await;
        process
    }

    /// [`Process::start`] on `port` (to restart a service where its clients look for it).
    pub async fn start_on(port: u16, data_dir: &Path, env: &[(&str, String)]) -> Self {
        let mut process = Self::spawn_on(port, data_dir, env);
        process.wait_ready().await;
        process
    }

    /// [`Process::start`] without waiting for `/healthz`.
    pub fn spawn(data_dir: &Path, env: &[(&str, String)]) -> Self {
        Self::spawn_on(free_port(), data_dir, env)
    }

    /// [`Process::spawn`] on `port`.
    pub fn spawn_on(port: u16, data_dir: &Path, env: &[(&str, String)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hive"));
        for (key, _) in std::env::vars() {
            if key.starts_with("HIVE_") || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command
            .arg("serve")
            .env("HIVE_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .env("HIVE_DATA_DIR", data_dir)
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let mut sink = sink.lock().unwrap();
                sink.push_str(&line);
                sink.push('\n');
            }
        });
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            stderr,
        }
    }

    /// Waits until `/healthz` answers (panics, with the child's stderr, if the process exits
    /// first or takes more than two minutes).
    pub async fn wait_ready(&mut self) {
        let client = reqwest::Client::new();
        let give_up = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("hive exited with {status} before serving:\n{}", self.stderr());
            }
            let ready = client
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < give_up,
                "hive did not serve in time:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// SIGKILL, then waits for the process to be gone.
    pub fn kill(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        // Let the reader thread drain what was written before the kill.
        std::thread::sleep(Duration::from_millis(50));
        self.stderr()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

/// Spawns `hive serve` (as [`Process::spawn`]) and kills it with SIGKILL as soon as `at`
/// answers `Some`, polled every 2 ms: that answer. Panics, with the child's stderr, if the
/// process exits first or `at` never answers within 20 000 polls (`what` says what was awaited).
pub async fn kill_when<T>(
    data_dir: &Path,
    env: &[(&str, String)],
    what: &str,
    mut at: impl AsyncFnMut() -> Option<T>,
) -> T {
    let mut service = Process::spawn(data_dir, env);
    for _ in 0..20_000 {
        if let Some(found) = at().await {
            service.kill();
            return found;
        }
        assert!(service.running(), "hive exited:\n{}", service.stderr());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("never saw {what}:\n{}", service.stderr());
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `hive events follow` child process: a consumer of a subscription group, its stdout (one
/// JSON event per line) collected as it prints.
pub struct Follower {
    child: Child,
    /// Every line printed so far.
    pub lines: Arc<Mutex<Vec<String>>>,
}

impl Follower {
    /// Follows `group` of the service at `base` as consumer `consumer`.
    pub fn spawn(base: &str, token: &str, group: &str, consumer: &str) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hive"));
        for (key, _) in std::env::vars() {
            if key.starts_with("HIVE_") {
                command.env_remove(key);
            }
        }
        let mut child = command
            .args(["events", "follow", group, "--url", base, "--consumer", consumer])
            .env("HIVE_TOKEN", token)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let pipe = child.stdout.take().unwrap();
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        Self { child, lines }
    }

    /// What it printed so far.
    pub fn printed(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// SIGKILL, then waits for the process to be gone; answers what it printed.
    pub fn kill(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(50));
        self.printed()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
