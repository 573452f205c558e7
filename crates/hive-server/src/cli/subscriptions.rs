//! `hive subscriptions …`: a subscription group of a running service, over HTTP: its
//! checkpoint and consumers, and its parked events (list, replay, skip).

use clap::Subcommand;
use reqwest::Method;
use serde_json::{json, Value};

use super::remote::Remote;

/// `hive subscriptions …`
#[derive(Debug, Subcommand)]
pub enum SubscriptionsCommand {
    /// The group's checkpoint, connected consumers and number of parked events.
    Status {
        /// The subscription group.
        group: String,
        /// The service and token.
        #[command(flatten)]
        remote: Remote,
    },
    /// The group's parked events, oldest first (one JSON line each).
    Parked {
        /// The subscription group.
        group: String,
        /// The service and token.
        #[command(flatten)]
        remote: Remote,
    },
    /// Send parked events to the group again (all, or those at `--position`).
    Replay {
        /// The subscription group.
        group: String,
        /// A parked event's global position (repeat for several; none: all).
        #[arg(long = "position")]
        positions: Vec<u64>,
        /// The service and token.
        #[command(flatten)]
        remote: Remote,
    },
    /// Remove parked events without sending them (all, or those at `--position`).
    Skip {
        /// The subscription group.
        group: String,
        /// A parked event's global position (repeat for several; none: all).
        #[arg(long = "position")]
        positions: Vec<u64>,
        /// The service and token.
        #[command(flatten)]
        remote: Remote,
    },
}

/// Runs a `hive subscriptions` command, printing the service's answer.
pub async fn subscriptions(command: SubscriptionsCommand) -> Result<(), String> {
    let client = reqwest::Client::new();
    let (remote, method, path, body) = match command {
        SubscriptionsCommand::Status { group, remote } => {
            (remote, Method::GET, format!("/subscriptions/{group}"), None)
        }
        SubscriptionsCommand::Parked { group, remote } => {
            (remote, Method::GET, format!("/subscriptions/{group}/parked"), None)
        }
        SubscriptionsCommand::Replay {
            group,
            positions,
            remote,
        } => (
            remote,
            Method::POST,
            format!("/subscriptions/{group}/parked/replay"),
            Some(json!({ "positions": positions })),
        ),
        SubscriptionsCommand::Skip {
            group,
            positions,
            remote,
        } => (
            remote,
            Method::POST,
            format!("/subscriptions/{group}/parked/skip"),
            Some(json!({ "positions": positions })),
        ),
    };
    let answer = remote.call(&client, method, &path, body).await?;
    match answer {
        Value::Array(items) => {
            for item in items {
                println!("{item}");
            }
        }
        other => println!("{other}"),
    }
    Ok(())
}
