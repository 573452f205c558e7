//! `hive subscriptions …`: a subscription group of a running service, over HTTP: its
//! checkpoint and consumers, and its parked events (list, replay, skip).

use clap::{Args, Subcommand};
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
    Replay(ParkedSelection),
    /// Remove parked events without sending them (all, or those at `--position`).
    Skip(ParkedSelection),
}

/// Which parked events of which group `hive subscriptions replay|skip` take.
#[derive(Debug, Args)]
pub struct ParkedSelection {
    /// The subscription group.
    group: String,
    /// A parked event's global position (repeat for several; none: all).
    #[arg(long = "position")]
    positions: Vec<u64>,
    /// The service and token.
    #[command(flatten)]
    remote: Remote,
}

impl ParkedSelection {
    /// `POST /subscriptions/{group}/parked/{action}` with the positions.
    fn request(self, action: &str) -> (Remote, Method, String, Option<Value>) {
        let path = format!("/subscriptions/{}/parked/{action}", self.group);
        (
            self.remote,
            Method::POST,
            path,
            Some(json!({ "positions": self.positions })),
        )
    }
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
        SubscriptionsCommand::Replay(selection) => selection.request("replay"),
        SubscriptionsCommand::Skip(selection) => selection.request("skip"),
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
