//! A `nats-server -js` of a test's own (a free port, its JetStream store in a folder of the
//! test's), that the test kills with SIGKILL and starts again on the same port and store; and
//! the stream a `hive serve` with `connector = "nats"` publishes to, read back.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hive_connector_nats::{NatsOptions, NatsSink, StoredMessage};

/// A running `nats-server` of this test.
pub struct OwnNats {
    child: Child,
    port: u16,
    store: PathBuf,
}

impl OwnNats {
    /// Starts one with JetStream in `store`; `None` (a notice, or a panic where backends are
    /// required) when `nats-server` is not installed.
    pub fn start(store: &Path) -> Option<Self> {
        let port = super::process::free_port();
        let child = spawn(port, store)?;
        let nats = Self {
            child,
            port,
            store: store.to_owned(),
        };
        nats.wait_ready();
        Some(nats)
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, then waits for the process to be gone.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Starts it again on the same port and store.
    pub fn restart(&mut self) {
        self.child = spawn(self.port, &self.store).expect("nats-server was there a moment ago");
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let give_up = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < give_up,
                "nats-server on port {} did not start",
                self.port
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

fn spawn(port: u16, store: &Path) -> Option<Child> {
    let program = ["nats-server", "/usr/sbin/nats-server"].into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(program) = program else {
        hive_testkit::backend::program(false, "nats-server");
        return None;
    };
    let child = Command::new(program)
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(store)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Some(child)
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `HIVE_…` variables of a service publishing to `url` on a stream and subject prefix of
/// the test's own (`HIVE_TEST_<id>`, `hive-test.<id>`).
pub fn connector_env(url: &str) -> (Vec<(&'static str, String)>, NatsOptions) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let options = NatsOptions::new(url)
        .with_stream(format!("HIVE_TEST_{id}"))
        .with_subject_prefix(format!("hive-test.{id}"));
    let env = vec![
        ("HIVE_CONNECTOR", "nats".to_owned()),
        ("HIVE_NATS_URL", url.to_owned()),
        ("HIVE_NATS_STREAM", options.stream.clone()),
        ("HIVE_NATS_SUBJECT_PREFIX", options.subject_prefix.clone()),
    ];
    (env, options)
}

/// Everything the stream holds, read with a JetStream consumer (empty while it does not exist).
pub async fn stored(options: &NatsOptions) -> Vec<StoredMessage> {
    let sink = NatsSink::connect(options.clone()).await.unwrap();
    sink.stored_messages().await.unwrap_or_default()
}

/// Reads the stream until it holds a message for each of `ids` (distinct message ids), for at
/// most `within`; what it holds then.
pub async fn wait_for_all(options: &NatsOptions, ids: usize, within: Duration) -> Vec<StoredMessage> {
    let give_up = Instant::now() + within;
    loop {
        let messages = stored(options).await;
        let distinct: std::collections::BTreeSet<_> = messages.iter().map(|m| m.message_id.clone()).collect();
        if distinct.len() >= ids || Instant::now() > give_up {
            return messages;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Deletes the test's stream (on a shared server; a test's own server goes with its folder).
pub async fn delete_stream(options: &NatsOptions) {
    let sink = NatsSink::connect(options.clone()).await.unwrap();
    if let Err(error) = sink.jetstream().delete_stream(&options.stream).await {
        eprintln!("could not delete the test stream {}: {error}", options.stream);
    }
}
