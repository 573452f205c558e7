//! OpenSearch for the tests (`HIVE_ELASTICSEARCH_URL`): the variable, else a single node that
//! xtask builds and starts.
//!
//! The node is `xtask/opensearch/`'s launcher, built with Maven into `<target>/opensearch-launcher`
//! (only when its sources changed) and run with `java` on a free loopback port, its data under
//! `<target>/opensearch-node/<port>` (fresh each run, removed once it stopped). It is ready when
//! `GET /_cluster/health` says green or yellow. Without `java` or `mvn` there is none, and the
//! reason says how to install them.

mod health;
mod launcher;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use super::process::Server;
use super::{redis, Provided, Provision, OPENSEARCH};
use crate::{cmd, signals, Failure, TaskResult};

/// The variable the tests read.
const ENV: &str = OPENSEARCH.env;

/// How long a started node gets to become green or yellow (a first start takes ~15-30 s).
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The command that installs what the node needs, on Debian.
const INSTALL: &str = "apt-get install -y openjdk-17-jdk-headless maven";

/// The JVM's options: a small fixed heap, enough for the test suites' indices.
const JVM_OPTIONS: [&str; 3] = ["-Xms512m", "-Xmx1g", "-XX:+ExitOnOutOfMemoryError"];

/// What [`launch`] did: settled already (the variable, or why there is no node), or a node
/// started and still booting, for [`ready`] to wait on.
#[derive(Debug)]
pub(crate) enum Launch {
    /// Nothing to wait for.
    Settled(Provision),
    /// A node booting: stopped (and its home removed) if this drops.
    Booting {
        /// The node, with its process and home folder.
        node: Provided,
        /// Its HTTP address.
        addr: SocketAddr,
        /// When it was started.
        since: Instant,
    },
}

/// Takes `HIVE_ELASTICSEARCH_URL` from the environment, or builds the launcher and starts a node
/// without waiting for it (see [`ready`]). `target` is the cargo target directory, `logs` the
/// folder of the node's log.
pub(crate) fn launch(target: &Path, logs: &Path) -> TaskResult<Launch> {
    if let Some(provided) = super::from_env(OPENSEARCH) {
        return Ok(Launch::Settled(Ok(provided)));
    }
    let (java, mvn) = (cmd::which("java"), cmd::which("mvn"));
    let (Some(java), Some(mvn)) = (java.as_ref(), mvn.as_ref()) else {
        let missing: Vec<&str> = [("java", &java), ("mvn", &mvn)]
            .into_iter()
            .filter(|(_, found)| found.is_none())
            .map(|(name, _)| name)
            .collect();
        return Ok(Launch::Settled(Err(format!(
            "no {} on PATH (the OpenSearch node is built with Maven and run with Java): install them \
             with `{INSTALL}` (with sudo unless root), or set {ENV} to a running Elasticsearch or \
             OpenSearch",
            missing.join(" or ")
        ))));
    };
    let classpath = launcher::build(
        mvn,
        &target.join("opensearch-launcher"),
        &logs.join("opensearch-launcher-build.log"),
    )?;
    let port = redis::free_port()?;
    let home = target.join("opensearch-node").join(port.to_string());
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home)
        .map_err(|e| Failure::new(format!("xtask: cannot create {}: {e}", home.display())))?;
    let mut command = Command::new(java);
    command
        .args(JVM_OPTIONS)
        .arg("-cp")
        .arg(classpath)
        .arg(launcher::MAIN_CLASS)
        .arg(&home)
        .arg(port.to_string());
    let since = Instant::now();
    let server = Server::spawn("opensearch", &mut command, &logs.join("opensearch.log"), false)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    eprintln!("xtask: OpenSearch: starting a node (pid {}) on {addr}", server.pid());
    let node = Provided::started(OPENSEARCH, format!("http://{addr}"), server).removing(home);
    Ok(Launch::Booting { node, addr, since })
}

/// Waits until a booting node's cluster health is green or yellow (at most [`READY_TIMEOUT`]),
/// failing when it dies, times out or Ctrl-C comes (the node is stopped then).
pub(crate) fn ready(launch: Launch) -> TaskResult<Provision> {
    let (mut node, addr, since) = match launch {
        Launch::Settled(provision) => return Ok(provision),
        Launch::Booting { node, addr, since } => (node, addr, since),
    };
    let Some(server) = node.server.as_mut() else {
        return Ok(Ok(node));
    };
    let deadline = since + READY_TIMEOUT;
    loop {
        if health::get(addr).is_some_and(health::Health::is_ready) {
            break;
        }
        if server.has_exited() {
            return Err(server.failure("exited before its cluster was green or yellow"));
        }
        if signals::interrupted() {
            return Err(Failure::with_code("xtask: interrupted while starting OpenSearch", 130));
        }
        if Instant::now() > deadline {
            return Err(server.failure(&format!(
                "was not green or yellow at http://{addr}/_cluster/health within {READY_TIMEOUT:?}"
            )));
        }
        thread::sleep(Duration::from_millis(250));
    }
    eprintln!(
        "xtask: OpenSearch: started a node (pid {}) on {addr}, ready in {:.1?}",
        server.pid(),
        since.elapsed()
    );
    Ok(Ok(node))
}
