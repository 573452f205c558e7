//! The servers a test needs, taken from environment variables, with no silent skips where they
//! are required.
//!
//! `cargo xtask test` starts or finds Redis, a MongoDB-compatible server, OpenSearch and
//! PostgreSQL and passes their URLs as `HIVE_REDIS_URL`, `HIVE_MONGODB_URI`,
//! `HIVE_ELASTICSEARCH_URL` and `HIVE_POSTGRES_URL`. A test asks [`url`] for its server:
//!
//! * set: the URL, and one line is added to the tally file of that variable when
//!   `HIVE_BACKEND_TALLY` names a folder (xtask counts them into its closing table);
//! * unset, and `HIVE_REQUIRE_BACKENDS` or `CI` set: the test **panics** with the reason, so CI
//!   fails instead of passing a skipped test;
//! * unset otherwise (a developer's plain `cargo test`): a skip notice and `None`.

use std::io::Write;

/// The variable `cargo xtask test` sets to a folder where each test that used a backend
/// appends one line to the file named after the backend's variable.
pub const TALLY_ENV: &str = "HIVE_BACKEND_TALLY";

/// The variable that makes a missing backend a failure (set by `cargo xtask test` in CI and
/// with `--require-backends`); `CI` has the same effect.
pub const REQUIRE_ENV: &str = "HIVE_REQUIRE_BACKENDS";

/// Redis, for the cache tests.
pub const REDIS: &str = "HIVE_REDIS_URL";
/// A MongoDB-compatible server.
pub const MONGODB: &str = "HIVE_MONGODB_URI";
/// Elasticsearch or OpenSearch.
pub const ELASTICSEARCH: &str = "HIVE_ELASTICSEARCH_URL";
/// PostgreSQL (`postgres://user@host:port/database`).
pub const POSTGRES: &str = "HIVE_POSTGRES_URL";
/// NATS with JetStream enabled (`nats://host:port`).
pub const NATS: &str = "HIVE_NATS_URL";

/// Whether a missing backend fails the test rather than skipping it.
pub fn required() -> bool {
    [REQUIRE_ENV, "CI"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty() && v != "0" && v != "false"))
}

/// The URL in `env`, counted in the tally; `None` after a skip notice when it is unset and
/// backends are not required.
///
/// # Panics
/// When `env` is unset (or blank) and [`required`] holds.
pub fn url(env: &str) -> Option<String> {
    match std::env::var(env) {
        Ok(value) if !value.trim().is_empty() => {
            tally(env);
            Some(value)
        }
        _ if required() => panic!(
            "{env} is not set, and backends are required here ({REQUIRE_ENV} or CI is set): \
             run the tests with `cargo xtask test`, which starts the server, or set {env}"
        ),
        _ => {
            eprintln!("skipped: {env} is not set; `cargo xtask test` starts that server and sets it");
            None
        }
    }
}

/// Whether the backend in `env` is available ([`url`] without the value).
///
/// # Panics
/// As [`url`].
pub fn available(env: &str) -> bool {
    url(env).is_some()
}

/// For a test that starts a server program of its own (say `redis-server`): whether `found`,
/// and if not, a skip notice or, where backends are [`required`], a panic naming `what`.
///
/// # Panics
/// When `found` is false and [`required`] holds.
pub fn program(found: bool, what: &str) -> bool {
    if !found {
        assert!(
            !required(),
            "{what} is not installed, and backends are required here ({REQUIRE_ENV} or CI is set); \
             `cargo xtask test` installs it"
        );
        eprintln!("skipped: {what} is not installed");
    }
    found
}

/// Adds one line to the tally file of `env`, if a tally folder is set (errors are only
/// printed: the tally is a report, not part of the test).
fn tally(env: &str) {
    let Some(dir) = std::env::var_os(TALLY_ENV) else {
        return;
    };
    let path = std::path::Path::new(&dir).join(env);
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(b"1\n"));
    if let Err(error) = written {
        eprintln!("could not add to the backend tally {}: {error}", path.display());
    }
}
