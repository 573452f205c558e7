//! The `hive` command line (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Layer;

mod demo;
mod run;

pub use demo::seed;
pub use run::{events, projections, search, CommandResult};

/// Hive: an event-sourced billing service.
#[derive(Debug, Parser)]
#[command(name = "hive", version, about)]
pub struct Cli {
    /// Configuration file (default: $HIVE_CONFIG, else ./hive.toml when present).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Overrides of the configuration.
    #[command(flatten)]
    pub overrides: Overrides,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags that override configuration keys.
#[derive(Debug, Default, Args)]
pub struct Overrides {
    /// Address to listen on (`http_addr`).
    #[arg(long, global = true, value_name = "ADDR")]
    pub http_addr: Option<String>,
    /// Data directory of the embedded store (`data_dir`).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<String>,
    /// Event store: memory, memory-durable, mongodb, elasticsearch (`store`).
    #[arg(long, global = true)]
    pub store: Option<String>,
    /// Payment search index: memory, elasticsearch (`search`).
    #[arg(long, global = true)]
    pub search: Option<String>,
    /// Query cache: none, moka, moka+redis (`cache`).
    #[arg(long, global = true)]
    pub cache: Option<String>,
}

impl Overrides {
    /// The flags as a configuration layer.
    pub fn layer(&self) -> Layer {
        Layer {
            http_addr: self.http_addr.clone(),
            data_dir: self.data_dir.clone(),
            store: self.store.clone(),
            search: self.search.clone(),
            cache: self.cache.clone(),
            ..Layer::default()
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Inspect or rebuild projections.
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Synchronise or verify the payment search index.
    #[command(subcommand)]
    Search(SearchCommand),
    /// Look at stored events.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Demonstration data.
    #[command(subcommand)]
    Demo(DemoCommand),
}

/// `hive projections …`
#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Checkpoint, head and lag of every projection.
    Status,
    /// Empty a projection's read model and replay the whole log into it (all when no name).
    Rebuild {
        /// The projection's name.
        name: Option<String>,
    },
}

/// `hive search …`
#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Copy payments from the read model into the search index.
    Sync {
        /// Only this organization's payments.
        #[arg(long)]
        organization: Option<String>,
    },
    /// Compare the search index with the read model and list mismatches.
    Verify,
}

/// `hive events …`
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Rebuild a payment's state from its events.
    Replay {
        /// The payment (aggregate) id.
        aggregate_id: String,
        /// Stop at this version (default: the latest).
        #[arg(long)]
        version: Option<u64>,
        /// The payment's organization (default: the only configured one, or the development one).
        #[arg(long)]
        organization: Option<String>,
    },
}

/// `hive demo …`
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Create realistic sample payments across organizations, users, currencies, statuses and
    /// the last 30 days.
    Seed {
        /// How many payments.
        #[arg(long, default_value_t = 200)]
        payments: u32,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default_and_flags_are_global() {
        let cli = Cli::parse_from(["hive", "--store", "memory"]);
        assert!(cli.command.is_none());
        assert_eq!(cli.overrides.layer().store.as_deref(), Some("memory"));
        let cli = Cli::parse_from(["hive", "projections", "rebuild", "payments", "--data-dir", "/tmp/x"]);
        assert!(
            matches!(cli.command, Some(Command::Projections(ProjectionsCommand::Rebuild { name: Some(ref n) })) if n == "payments")
        );
        assert_eq!(cli.overrides.data_dir.as_deref(), Some("/tmp/x"));
        let cli = Cli::parse_from(["hive", "events", "replay", "pay-1", "--version", "2"]);
        assert!(matches!(
            cli.command,
            Some(Command::Events(EventsCommand::Replay { version: Some(2), .. }))
        ));
        let cli = Cli::parse_from(["hive", "demo", "seed"]);
        assert!(matches!(
            cli.command,
            Some(Command::Demo(DemoCommand::Seed { payments: 200 }))
        ));
    }
}
