//! The `hive` command line (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Layer;

mod demo;
mod follow;
mod progress;
mod rebuild;
mod remote;
mod run;
mod search;
mod subscriptions;

pub use demo::seed;
pub use follow::{follow, FollowArgs};
pub use progress::Progress;
pub use remote::{take_sse_events, Remote, SseEvent};
pub use run::{events, projections, CommandResult};
pub use search::search;
pub use subscriptions::{subscriptions, ParkedSelection, SubscriptionsCommand};

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
    /// Event store: memory, memory-durable, mongodb, elasticsearch, postgres (`store`).
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
    /// Look at stored events, or follow a running service's.
    #[command(subcommand)]
    Events(EventsCommand),
    /// A subscription group of a running service: status and parked events.
    #[command(subcommand)]
    Subscriptions(SubscriptionsCommand),
    /// Demonstration data.
    #[command(subcommand)]
    Demo(DemoCommand),
}

/// `hive projections …`
#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Checkpoint, head, lag, version and last event time of every projection.
    Status,
    /// Empty a projection's read model and replay the whole log into it (all when no name).
    ///
    /// A read model shared by several instances (MongoDB, Elasticsearch, PostgreSQL) is not
    /// rebuilt while another instance serves it: see `--offline`.
    Rebuild {
        /// The projection's name.
        name: Option<String>,
        /// Every instance on this store is stopped: rebuild a shared read model even where
        /// hive cannot check it (without `cache = "moka+redis"` there is no projection lease to
        /// look at). A lease held by another instance still refuses the rebuild.
        #[arg(long)]
        offline: bool,
    },
}

/// Which payments `hive search sync` and `hive search verify` take.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct PaymentScope {
    /// Only this organization's payments.
    #[arg(long, value_name = "ORG", value_parser = not_blank)]
    pub organization: Option<String>,
    /// Only this payment (its id in `--organization`, which is then required: payment ids are
    /// unique per organization).
    #[arg(long, value_name = "ID", requires = "organization", value_parser = payment_id)]
    pub payment: Option<String>,
}

fn not_blank(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(text.to_owned())
    }
}

fn payment_id(text: &str) -> Result<String, String> {
    if text.contains('/') {
        Err("a payment id has no `/`: give the organization with --organization".into())
    } else {
        not_blank(text)
    }
}

/// `hive search …`
#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Copy payments from the read model into the search index (all, one organization's, or
    /// one payment).
    Sync(PaymentScope),
    /// Compare the search index with the read model and the event log, list every mismatch
    /// (documents found only in the index too), and exit with status 1 when there is one.
    Verify(PaymentScope),
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
    /// Follow a subscription group of a running service: print each event as a JSON line,
    /// acknowledge it, reconnect when the connection ends.
    Follow(FollowArgs),
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
            matches!(cli.command, Some(Command::Projections(ProjectionsCommand::Rebuild { name: Some(ref n), offline: false })) if n == "payments")
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

    #[test]
    fn a_payment_is_named_within_its_organization() {
        let cli = Cli::parse_from([
            "hive",
            "search",
            "sync",
            "--organization",
            "org-1",
            "--payment",
            "pay-1",
        ]);
        let Some(Command::Search(SearchCommand::Sync(scope))) = cli.command else {
            panic!("not a sync: {:?}", cli.command)
        };
        assert_eq!(scope.organization.as_deref(), Some("org-1"));
        assert_eq!(scope.payment.as_deref(), Some("pay-1"));
        let cli = Cli::parse_from(["hive", "search", "verify", "--organization", "org-1"]);
        assert!(matches!(
            cli.command,
            Some(Command::Search(SearchCommand::Verify(PaymentScope {
                payment: None,
                ..
            })))
        ));
        let cli = Cli::parse_from(["hive", "search", "verify"]);
        assert!(
            matches!(cli.command, Some(Command::Search(SearchCommand::Verify(ref s))) if *s == PaymentScope::default())
        );
    }

    #[test]
    fn a_payment_without_its_organization_is_a_usage_error() {
        for command in ["sync", "verify"] {
            let error = Cli::try_parse_from(["hive", "search", command, "--payment", "pay-1"]).unwrap_err();
            assert_eq!(error.kind(), clap::error::ErrorKind::MissingRequiredArgument, "{error}");
            assert_eq!(error.exit_code(), 2);
            assert!(error.to_string().contains("--organization"), "{error}");
        }
        let error =
            Cli::try_parse_from(["hive", "search", "sync", "--organization", "o", "--payment", "o/p"]).unwrap_err();
        assert!(error.to_string().contains("has no `/`"), "{error}");
        let error = Cli::try_parse_from(["hive", "search", "sync", "--organization", " "]).unwrap_err();
        assert!(error.to_string().contains("must not be empty"), "{error}");
    }
}
