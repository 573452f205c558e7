//! PostgreSQL for the tests (`HIVE_POSTGRES_URL`): the variable, else a throwaway cluster that
//! xtask makes, starts, stops and removes.
//!
//! The programs come from the folder of `initdb` on `PATH`, else from Debian's
//! `/usr/lib/postgresql/<major>/bin` (newest major), installed first with apt-get (package
//! `postgresql`) when there are none and xtask runs as root. `initdb` makes the cluster in a fresh
//! `<target>/xtask/postgres/<pid>` (trust authentication, UTF8, superuser `postgres`), then
//! `postgres` serves it on a free loopback port, its socket in the same folder. It is ready once a
//! session starts (a real startup handshake, see [`wire`]). Its URL is
//! `postgres://postgres@127.0.0.1:<port>/postgres`.
//!
//! `initdb` and `postgres` refuse to run as root: as root, xtask runs them as the `postgres` user
//! (which Debian's package creates), hands it the folder, and falls back to a folder under the
//! system's temporary directory when that user cannot reach the target directory.

mod cluster;
mod wire;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cluster::Account;

use super::process::{open_log, tail, Server};
use super::{apt, redis, Provided, Provision, POSTGRES};
use crate::{Failure, TaskResult};

/// The superuser `initdb` creates, the user of the URL.
const USER: &str = "postgres";

/// The database of the URL (every cluster has it).
const DATABASE: &str = "postgres";

/// How long a started server gets to accept a session (a first start takes about a second).
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The server's settings, beyond its port and folders. Enough connections for test suites run
/// in parallel, each with a pool. Durability off (`fsync`, `synchronous_commit`,
/// `full_page_writes`): this cluster is thrown away after the run, and a crash of the machine
/// would lose nothing anyone needs; never settings for a real server.
const SETTINGS: [&str; 5] = [
    "listen_addresses=127.0.0.1",
    "max_connections=300",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
];

/// Finds or starts PostgreSQL; `Ok(Err(why))` when there is none to be had (no programs and no
/// way to install them, or no `postgres` user to run them as under root).
pub(crate) fn provide(logs: &Path) -> TaskResult<Provision> {
    if let Some(provided) = super::from_env(POSTGRES) {
        return Ok(Ok(provided));
    }
    let bin = match cluster::bin_dir() {
        Some(bin) => bin,
        None => {
            let not_here = format!(
                "there is no initdb and postgres on PATH or under {}/<major>/bin",
                cluster::DEBIAN_ROOT
            );
            let found = apt::install_program(
                POSTGRES,
                "postgresql",
                "initdb and postgres",
                &not_here,
                cluster::bin_dir,
            )?;
            match found {
                Ok(bin) => bin,
                Err(why) => return Ok(Err(why)),
            }
        }
    };
    let account = if apt::is_root() {
        match Account::postgres() {
            Ok(account) => Some(account),
            Err(why) => return Ok(Err(format!("{why}; or set {}", POSTGRES.env))),
        }
    } else {
        None
    };
    let home = cluster::fresh_home(&logs.join("postgres"), account)?;
    let started = init(&bin, &home, account, &logs.join("postgres-initdb.log"))
        .and_then(|()| start(&bin, &home, account, &logs.join("postgres.log")));
    let (server, addr) = match started {
        Ok(started) => started,
        Err(failure) => {
            let _ = std::fs::remove_dir_all(&home);
            return Err(failure);
        }
    };
    eprintln!(
        "xtask: PostgreSQL: started {} (pid {}) on {addr}, its cluster in {}",
        bin.join("postgres").display(),
        server.pid(),
        home.display()
    );
    let url = format!("postgres://{USER}@{addr}/{DATABASE}");
    Ok(Ok(Provided::started(POSTGRES, url, server).removing(home)))
}

/// Runs `initdb` into `<home>/data` (as `account` when given), its output in `log`.
fn init(bin: &Path, home: &Path, account: Option<Account>, log: &Path) -> TaskResult {
    let _ = std::fs::remove_file(log);
    let mut command = Command::new(bin.join("initdb"));
    command
        .arg("--pgdata")
        .arg(data_dir(home))
        .args([
            "--username",
            USER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            // Thrown away after the run: no need to wait for the disk.
            "--no-sync",
        ])
        .current_dir(home)
        .stdin(std::process::Stdio::null())
        .stdout(open_log(log)?)
        .stderr(open_log(log)?);
    if let Some(account) = account {
        account.apply(&mut command);
    }
    let status = command
        .status()
        .map_err(|e| Failure::new(format!("xtask: could not run {}: {e}", bin.join("initdb").display())))?;
    if status.success() {
        return Ok(());
    }
    let output = std::fs::read_to_string(log).unwrap_or_default();
    Err(Failure::new(format!(
        "xtask: initdb failed ({status}); its output is in {}, which ends:\n{}",
        log.display(),
        tail(&output, 20)
    )))
}

/// Starts `postgres` on the cluster in `home` on a free loopback port, its socket in `home`,
/// and waits until it accepts a session. Dropping the [`Server`] stops it with SIGINT, the
/// server's fast shutdown: it ends the sessions still open (a test's pool, a `hive` left
/// running) and exits. SIGTERM would be its smart shutdown, which waits for every client to
/// disconnect; and its backends run in process groups of their own, so no signal to the
/// group reaches them.
fn start(bin: &Path, home: &Path, account: Option<Account>, log: &Path) -> TaskResult<(Server, SocketAddr)> {
    let port = redis::free_port()?;
    let mut command = Command::new(bin.join("postgres"));
    command
        .arg("-D")
        .arg(data_dir(home))
        .args(["-p", &port.to_string()])
        .arg("-k")
        .arg(home)
        .current_dir(home);
    for setting in SETTINGS {
        command.args(["-c", setting]);
    }
    if let Some(account) = account {
        account.apply(&mut command);
    }
    let mut server = Server::spawn("postgres", &mut command, log, false)?.stopping_with("INT");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    server.await_ready(READY_TIMEOUT, &format!("accept a session on {addr}"), || {
        wire::handshake(addr, USER, DATABASE)
    })?;
    Ok((server, addr))
}

/// The cluster's data folder in `home`.
fn data_dir(home: &Path) -> PathBuf {
    home.join("data")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_started_cluster_takes_sessions_and_is_gone_once_dropped_even_with_one_open() -> TaskResult {
        let Some(bin) = cluster::bin_dir() else {
            // `cargo xtask test` installs it in CI; a skip there would hide that it did not.
            assert!(
                !crate::services::require::in_ci(),
                "CI is set, but there is no initdb and postgres: `cargo xtask test` installs them (as root)"
            );
            eprintln!("no initdb and postgres here; nothing to start");
            return Ok(());
        };
        let account = if apt::is_root() {
            match Account::postgres() {
                Ok(account) => Some(account),
                Err(why) => {
                    eprintln!("{why}; nothing to start");
                    return Ok(());
                }
            }
        } else {
            None
        };
        let base = std::env::temp_dir().join(format!("xtask-pg-start-{}", std::process::id()));
        let home = cluster::fresh_home(&base, account)?;
        init(&bin, &home, account, &base.join("initdb.log"))?;
        let (server, addr) = start(&bin, &home, account, &base.join("postgres.log"))?;
        assert_eq!(wire::handshake(addr, USER, DATABASE), Ok(()));
        assert_eq!(
            wire::handshake(addr, USER, "no_such_database").map_err(|why| why.contains("3D000")),
            Err(true)
        );
        // A client that never hangs up (a pool, a `hive` left running) does not hold it up.
        let held = wire::open(addr, USER, DATABASE).map_err(Failure::new)?;
        let since = std::time::Instant::now();
        drop(server);
        assert!(
            since.elapsed() < Duration::from_secs(10),
            "stopping took {:?}",
            since.elapsed()
        );
        drop(held);
        assert!(
            wire::handshake(addr, USER, DATABASE).is_err(),
            "postgres still takes sessions on {addr} after the guard dropped"
        );
        let log = std::fs::read_to_string(base.join("postgres.log")).unwrap_or_default();
        assert!(log.contains("database system is shut down"), "{log}");
        let _ = std::fs::remove_dir_all(&base);
        Ok(())
    }
}
