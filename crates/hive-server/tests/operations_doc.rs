//! `docs/operations.md` keeps up with the configuration and the CLI: every `HIVE_…` variable the
//! environment layer reads, every default, every flag and every operator command is in it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;

use clap::CommandFactory;
use hive_server::cli::Cli;
use hive_server::config::{from_env, Config};

const GUIDE: &str = include_str!("../../../docs/operations.md");

#[test]
fn every_environment_variable_is_documented() {
    let asked = Mutex::new(Vec::new());
    from_env(|key| {
        asked.lock().unwrap().push(key.to_owned());
        None
    })
    .unwrap();
    let asked = asked.into_inner().unwrap();
    assert!(asked.len() >= 10, "the environment layer read only {asked:?}");
    let missing: Vec<&String> = asked
        .iter()
        .filter(|key| !GUIDE.contains(&format!("`{key}`")))
        .collect();
    assert!(missing.is_empty(), "docs/operations.md does not name {missing:?}");
}

#[test]
fn every_default_is_documented() {
    let defaults = Config::defaults();
    let values = [
        defaults.http_addr,
        defaults.data_dir,
        defaults.store,
        defaults.search,
        defaults.cache,
        defaults.fsync,
        defaults.log_format,
        defaults.connector,
        defaults.mongodb_database,
        defaults.body_limit.map(|n| n.to_string()),
        defaults.request_timeout_secs.map(|n| n.to_string()),
    ];
    let missing: Vec<String> = values
        .into_iter()
        .flatten()
        .filter(|value| !GUIDE.contains(&format!("| `{value}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/operations.md's table lacks the defaults {missing:?}"
    );
}

#[test]
fn every_flag_and_operator_command_is_documented() {
    let cli = Cli::command();
    let flags: Vec<String> = cli
        .get_arguments()
        .filter_map(|arg| arg.get_long())
        .filter(|long| !["help", "version"].contains(long))
        .map(|long| format!("`--{long}"))
        .collect();
    assert!(flags.len() >= 5, "too few flags: {flags:?}");
    let missing: Vec<&String> = flags.iter().filter(|flag| !GUIDE.contains(flag.as_str())).collect();
    assert!(
        missing.is_empty(),
        "docs/operations.md does not name the flags {missing:?}"
    );

    let mut commands = Vec::new();
    for group in cli
        .get_subcommands()
        .filter(|c| ["projections", "search", "events", "subscriptions"].contains(&c.get_name()))
    {
        for command in group.get_subcommands().filter(|c| c.get_name() != "help") {
            commands.push(format!("\nhive {} {}", group.get_name(), command.get_name()));
        }
    }
    assert!(commands.len() >= 5, "too few operator commands: {commands:?}");
    let missing: Vec<&String> = commands.iter().filter(|c| !GUIDE.contains(c.as_str())).collect();
    assert!(missing.is_empty(), "docs/operations.md shows no run of {missing:?}");
}
