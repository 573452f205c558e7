//! The servers the tests need: taken from the environment, found running, or started (and
//! stopped) by xtask.
//!
//! Each is handed to the tests as an environment variable:
//!
//! * `HIVE_REDIS_URL`: the variable, else a Redis answering on 127.0.0.1:6379, else
//!   `redis-server` started on a free port (installed first from Debian's packages when it is
//!   missing and xtask runs as root);
//! * `HIVE_MONGODB_URI`: the variable, else SecantusDB installed from PyPI into a venv under the
//!   target directory and started in memory;
//! * `HIVE_ELASTICSEARCH_URL`: the variable, else a single OpenSearch node built with Maven from
//!   `xtask/opensearch/` and started with `java` on a free port;
//! * `HIVE_POSTGRES_URL`: the variable, else a throwaway PostgreSQL cluster made with `initdb`
//!   under the target directory and started on a free port (Debian's `postgresql` installed first
//!   when it is missing and xtask runs as root; run as the `postgres` user under root);
//! * `HIVE_NATS_URL`: the variable, else `nats-server -js` started on a free port with its
//!   JetStream store under the target directory (Debian's `nats-server` installed first when it
//!   is missing and xtask runs as root), removed once it stopped.
//!
//! When one cannot be had, xtask says why and how to get it. Where backends are required
//! (`cargo xtask test --require-backends`, or `CI` set; see [`require`]) that is a failure before
//! any test runs; otherwise the tests that need it skip (hive-testkit's `backend` helper).

mod apt;
mod mongo;
mod nats;
mod opensearch;
mod postgres;
pub(crate) mod process;
mod redis;
pub(crate) mod require;
pub(crate) mod tally;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Duration;

use process::Server;

use crate::{metadata, signals, Failure, TaskResult};

/// A backend the tests may use: its name for people and the variable the tests read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backend {
    /// The name in messages and in the tally table.
    pub(crate) name: &'static str,
    /// The environment variable that carries its URL to the tests.
    pub(crate) env: &'static str,
}

/// Redis.
pub(crate) const REDIS: Backend = Backend {
    name: "Redis",
    env: "HIVE_REDIS_URL",
};

/// A MongoDB-compatible server (SecantusDB when xtask starts one).
pub(crate) const MONGODB: Backend = Backend {
    name: "MongoDB",
    env: "HIVE_MONGODB_URI",
};

/// Elasticsearch or OpenSearch (OpenSearch when xtask starts one).
pub(crate) const OPENSEARCH: Backend = Backend {
    name: "OpenSearch",
    env: "HIVE_ELASTICSEARCH_URL",
};

/// PostgreSQL (a throwaway cluster when xtask starts one).
pub(crate) const POSTGRES: Backend = Backend {
    name: "PostgreSQL",
    env: "HIVE_POSTGRES_URL",
};

/// NATS with JetStream (a throwaway `nats-server -js` when xtask starts one).
pub(crate) const NATS: Backend = Backend {
    name: "NATS",
    env: "HIVE_NATS_URL",
};

/// Every backend, in the order they are reported.
pub(crate) const ALL: [Backend; 5] = [REDIS, MONGODB, OPENSEARCH, POSTGRES, NATS];

/// Where a server came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Its variable was set in the environment.
    Env,
    /// It was found answering already.
    Running,
    /// xtask started it (and stops it).
    Started,
}

impl Origin {
    /// The word in the tally table.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Origin::Env => "env",
            Origin::Running => "running",
            Origin::Started => "started",
        }
    }
}

/// One server handed to the tests: its backend, its URL, where it came from, and the process if
/// xtask started it.
#[derive(Debug)]
pub(crate) struct Provided {
    /// Which backend.
    backend: Backend,
    /// The variable's value (a URL).
    value: String,
    /// Where it came from.
    origin: Origin,
    /// The server xtask started, stopped when this drops; `None` otherwise.
    server: Option<Server>,
    /// A folder of the started server's, removed once it stopped.
    scratch: Option<PathBuf>,
}

impl Provided {
    /// A server that was found answering.
    fn running(backend: Backend, value: String) -> Self {
        Self {
            backend,
            value,
            origin: Origin::Running,
            server: None,
            scratch: None,
        }
    }

    /// A server that xtask started.
    fn started(backend: Backend, value: String, server: Server) -> Self {
        Self {
            backend,
            value,
            origin: Origin::Started,
            server: Some(server),
            scratch: None,
        }
    }

    /// The same, with `dir` removed once the server stopped.
    fn removing(mut self, dir: PathBuf) -> Self {
        self.scratch = Some(dir);
        self
    }
}

impl Drop for Provided {
    fn drop(&mut self) {
        drop(self.server.take());
        if let Some(dir) = self.scratch.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// `backend`'s variable from the environment (blank counts as unset), with a notice.
fn from_env(backend: Backend) -> Option<Provided> {
    let value = std::env::var(backend.env).ok().filter(|v| !v.trim().is_empty())?;
    eprintln!(
        "xtask: {}: using {}={} from the environment",
        backend.name,
        backend.env,
        redact(&value)
    );
    Some(Provided {
        backend,
        value,
        origin: Origin::Env,
        server: None,
        scratch: None,
    })
}

/// What a provider returns: the server, or why there is none (saying how to get one).
type Provision = Result<Provided, String>;

/// The servers the tests need. Dropping it stops the ones it started, so keep it alive for as
/// long as the tests run, and let it drop on every way out (errors, Ctrl-C, failed tests).
#[derive(Debug)]
pub(crate) struct Services {
    /// What was found or started, in [`ALL`]'s order.
    provided: Vec<Provided>,
    /// The backends that could not be had, and why.
    missing: Vec<(Backend, String)>,
    /// Why every backend is required, if it is.
    required: Option<&'static str>,
}

impl Services {
    /// Finds or starts every backend in the workspace's target directory, requiring them only
    /// where the environment says so (`CI`, `HIVE_REQUIRE_BACKENDS`).
    pub(crate) fn start() -> TaskResult<Self> {
        Self::start_in(&metadata::target_dir()?, require::from_env(false))
    }

    /// Finds or starts Redis, a MongoDB-compatible server, OpenSearch, PostgreSQL and NATS, with `target` (the
    /// cargo target directory) for their files and logs. With `required` (the reason), a backend
    /// that cannot be had is an error; otherwise a notice. On an error, those already started
    /// are stopped before it returns.
    pub(crate) fn start_in(target: &Path, required: Option<&'static str>) -> TaskResult<Self> {
        let logs = target.join("xtask");
        std::fs::create_dir_all(&logs)
            .map_err(|e| Failure::new(format!("xtask: cannot create {}: {e}", logs.display())))?;
        // OpenSearch first: its JVM boots while the others are found or started.
        let opensearch = opensearch::launch(target, &logs)?;
        let redis = redis::provide(&logs)?;
        let mongo = mongo::provide(target, &logs)?;
        let postgres = postgres::provide(&logs)?;
        let nats = nats::provide(target, &logs)?;
        let opensearch = opensearch::ready(opensearch)?;
        let mut services = Self {
            provided: Vec::new(),
            missing: Vec::new(),
            required,
        };
        for (backend, provision) in ALL.into_iter().zip([redis, mongo, opensearch, postgres, nats]) {
            match provision {
                Ok(provided) => services.provided.push(provided),
                Err(why) => services.missing.push((backend, why)),
            }
        }
        services.check()?;
        Ok(services)
    }

    /// Fails when a required backend is missing; otherwise says which tests will skip.
    fn check(&self) -> TaskResult {
        match self.required {
            Some(reason) if !self.missing.is_empty() => {
                let mut message = format!("xtask: every backend is required here ({reason}), but:");
                for (backend, why) in &self.missing {
                    message.push_str(&format!("\n  {} ({}): {why}", backend.name, backend.env));
                }
                Err(Failure::new(message))
            }
            _ => {
                for (backend, why) in &self.missing {
                    eprintln!(
                        "xtask: {}: {why}; the tests that need {} will be skipped",
                        backend.name, backend.env
                    );
                }
                Ok(())
            }
        }
    }

    /// The variables to hand to the tests, as `(name, value)`.
    pub(crate) fn env(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.provided.iter().map(|p| (p.backend.env, p.value.as_str()))
    }

    /// Sets the variables on `command`, and `HIVE_REQUIRE_BACKENDS=1` where backends are
    /// required (so a test whose backend is missing fails instead of skipping).
    pub(crate) fn apply(&self, command: &mut Command) {
        command.envs(self.env());
        if self.required.is_some() {
            command.env(require::ENV, "1");
        }
    }

    /// One row per backend, in [`ALL`]'s order, with no test counted yet.
    pub(crate) fn rows(&self) -> Vec<tally::Row> {
        ALL.into_iter()
            .map(|backend| {
                let provided = self.provided.iter().find(|p| p.backend == backend);
                tally::Row {
                    backend,
                    origin: provided.map(|p| p.origin),
                    url: provided.map_or_else(|| "-".to_string(), |p| redact(&p.value)),
                    tests: 0,
                }
            })
            .collect()
    }

    /// Whether a server xtask started has exited.
    fn one_died(&mut self) -> bool {
        self.provided
            .iter_mut()
            .filter_map(|p| p.server.as_mut())
            .any(Server::has_exited)
    }
}

/// `url` with the password of its user info (`scheme://user:password@host`) masked, for
/// messages.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let Some((user_info, _)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    let Some((user, _)) = user_info.split_once(':') else {
        return url.to_string();
    };
    format!("{scheme}://{user}:***{}", &rest[user_info.len()..])
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_masks_only_a_password() {
        assert_eq!(redact("http://127.0.0.1:9200"), "http://127.0.0.1:9200");
        assert_eq!(
            redact("http://elastic:s3cr:et@es:9200/x?y=1"),
            "http://elastic:***@es:9200/x?y=1"
        );
        assert_eq!(redact("redis://user@host:6379"), "redis://user@host:6379");
        assert_eq!(
            redact("mongodb://127.0.0.1:1/?retryWrites=false&a=b@c"),
            "mongodb://127.0.0.1:1/?retryWrites=false&a=b@c"
        );
        assert_eq!(redact("not a url"), "not a url");
    }

    #[test]
    fn a_missing_backend_fails_only_where_required() {
        let services = |required| Services {
            provided: Vec::new(),
            missing: vec![(OPENSEARCH, "java is not installed".to_string())],
            required,
        };
        assert!(services(None).check().is_ok());
        let Err(failure) = services(Some("CI is set")).check() else {
            panic!("a required backend was missing and check passed");
        };
        assert!(failure.message.contains("(CI is set)"), "{}", failure.message);
        assert!(
            failure
                .message
                .contains("OpenSearch (HIVE_ELASTICSEARCH_URL): java is not installed"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn rows_list_every_backend_with_a_dash_for_a_missing_one() {
        let services = Services {
            provided: vec![Provided::running(REDIS, "redis://127.0.0.1:6379".to_string())],
            missing: Vec::new(),
            required: None,
        };
        let rows = services.rows();
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0].origin, Some(Origin::Running));
        assert_eq!(rows[0].url, "redis://127.0.0.1:6379");
        assert_eq!(rows[2].backend, OPENSEARCH);
        assert_eq!((rows[2].origin, rows[2].url.as_str()), (None, "-"));
        assert_eq!(rows[3].backend, POSTGRES);
        assert_eq!(rows[4].backend, NATS);
    }
}
