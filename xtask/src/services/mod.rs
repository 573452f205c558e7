//! The servers the tests need: found when they run already, started (and stopped) otherwise.
//!
//! Each is handed to the tests as an environment variable: `HIVE_REDIS_URL`, `HIVE_MONGODB_URI`,
//! `HIVE_ELASTICSEARCH_URL` (never started here, only passed through). A test whose variable is
//! unset skips what needs that server.

mod mongo;
pub(crate) mod process;
mod redis;

use std::process::Command;
use std::thread;
use std::time::Duration;

use process::Server;

use crate::{metadata, signals, Failure, TaskResult};

/// The variable for Elasticsearch, which xtask never starts.
const ELASTICSEARCH_ENV: &str = "HIVE_ELASTICSEARCH_URL";

/// One server handed to the tests: its variable, its value, and the process if xtask started it.
#[derive(Debug)]
pub(crate) struct Provided {
    /// The environment variable the tests read.
    env: &'static str,
    /// Its value (a URL).
    value: String,
    /// The server xtask started, stopped when this drops; `None` for one found running.
    server: Option<Server>,
}

impl Provided {
    /// A server that was already there.
    fn existing(env: &'static str, value: String) -> Self {
        Self {
            env,
            value,
            server: None,
        }
    }

    /// A server that xtask started.
    fn started(env: &'static str, value: String, server: Server) -> Self {
        Self {
            env,
            value,
            server: Some(server),
        }
    }
}

/// The servers the tests need. Dropping it stops the ones it started, so keep it alive for as
/// long as the tests run, and let it drop on every way out (errors, Ctrl-C, failed tests).
#[derive(Debug)]
pub(crate) struct Services {
    /// What was found or started, in order.
    provided: Vec<Provided>,
}

impl Services {
    /// Finds or starts Redis and a MongoDB-compatible server, and passes Elasticsearch through.
    /// If one fails to start, those already started are stopped before the error returns.
    pub(crate) fn start() -> TaskResult<Self> {
        let target = metadata::target_dir()?;
        let logs = target.join("xtask");
        std::fs::create_dir_all(&logs)
            .map_err(|e| Failure::new(format!("xtask: cannot create {}: {e}", logs.display())))?;
        let mut services = Self { provided: Vec::new() };
        services.provided.extend(redis::provide(&logs)?);
        services.provided.extend(mongo::provide(&target, &logs)?);
        match std::env::var(ELASTICSEARCH_ENV) {
            Ok(url) => {
                eprintln!("xtask: Elasticsearch: using {ELASTICSEARCH_ENV}={url} from the environment");
                services.provided.push(Provided::existing(ELASTICSEARCH_ENV, url));
            }
            Err(_) => eprintln!(
                "xtask: Elasticsearch: {ELASTICSEARCH_ENV} is not set (xtask never starts one); \
                 the Elasticsearch tests will be skipped"
            ),
        }
        Ok(services)
    }

    /// The variables to hand to the tests, as `(name, value)`.
    pub(crate) fn env(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.provided.iter().map(|p| (p.env, p.value.as_str()))
    }

    /// Sets the variables on `command`.
    pub(crate) fn apply(&self, command: &mut Command) {
        command.envs(self.env());
    }

    /// Whether a server xtask started has exited.
    fn one_died(&mut self) -> bool {
        self.provided
            .iter_mut()
            .filter_map(|p| p.server.as_mut())
            .any(Server::has_exited)
    }
}

/// `cargo xtask services`: starts the servers, prints their variables as shell exports, and
/// keeps them until Ctrl-C.
pub(crate) fn run_until_interrupted() -> TaskResult {
    let mut services = Services::start()?;
    for (name, value) in services.env() {
        println!("export {name}='{value}'");
    }
    eprintln!("xtask: servers running; paste the exports above into another shell, press Ctrl-C here to stop");
    while !signals::interrupted() {
        if services.one_died() {
            return Err(Failure::new(
                "xtask: a server exited on its own; its log is under target/xtask/",
            ));
        }
        thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}
