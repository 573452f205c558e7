//! `hive events follow <group>`: a consumer of a subscription group of a running service. It
//! prints each event it receives as one JSON line (as `GET /events/{eventId}` answers it),
//! acknowledges what it printed, and reconnects when the connection ends (the group sends
//! again whatever was not acknowledged). Acknowledgements go from a task beside the reader,
//! each for the last position printed by then: one per event would cost the group a
//! checkpoint write per event.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use serde_json::json;
use tokio::sync::watch;

use super::remote::{take_sse_events, Remote};

/// `hive events follow` arguments.
#[derive(Debug, Clone, Args)]
pub struct FollowArgs {
    /// The subscription group.
    pub group: String,
    /// The service and token.
    #[command(flatten)]
    pub remote: Remote,
    /// This consumer's name in the group (default: `follow-<process id>`).
    #[arg(long)]
    pub consumer: Option<String>,
    /// Only these event types.
    #[arg(long = "event-type", value_name = "TYPE")]
    pub event_types: Vec<String>,
    /// Only this aggregate type.
    #[arg(long, value_name = "TYPE")]
    pub aggregate_type: Option<String>,
    /// Start after this global position if nobody follows the group yet (default: the group's
    /// checkpoint).
    #[arg(long)]
    pub from: Option<u64>,
    /// Do not acknowledge: the group's checkpoint stays where it is.
    #[arg(long)]
    pub no_ack: bool,
    /// Stop after printing this many events.
    #[arg(long)]
    pub limit: Option<u64>,
}

/// Follows the group until `--limit` events were printed (or forever).
pub async fn follow(args: FollowArgs) -> Result<(), String> {
    let client = reqwest::Client::new();
    let consumer = args
        .consumer
        .clone()
        .unwrap_or_else(|| format!("follow-{}", std::process::id()));
    let events_path = format!("/subscriptions/{}/events", args.group);
    let (printed_up_to, acks) = watch::channel(None::<u64>);
    let acker = (!args.no_ack).then(|| {
        let ack_path = format!("/subscriptions/{}/ack", args.group);
        tokio::spawn(acknowledge(
            acks,
            args.remote.clone(),
            client.clone(),
            ack_path,
            consumer.clone(),
        ))
    });
    let mut from = args.from;
    let mut printed = 0_u64;
    let mut backoff = Duration::from_millis(100);
    loop {
        let mut query = vec![("consumer", consumer.clone())];
        query.extend(args.event_types.iter().map(|t| ("eventType", t.clone())));
        query.extend(args.aggregate_type.iter().map(|t| ("aggregateType", t.clone())));
        query.extend(from.map(|f| ("from", f.to_string())));
        let url = args.remote.url(&events_path, &query)?;
        let response = client
            .get(url)
            .bearer_auth(&args.remote.token)
            .header("accept", "text/event-stream")
            .send()
            .await;
        let mut response = match response {
            Ok(response) if response.status().is_success() => response,
            Ok(response) if response.status().is_client_error() && response.status() != 429 => {
                let status = response.status();
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                return Err(format!(
                    "the service answered {status} ({}): {}",
                    body["code"].as_str().unwrap_or("?"),
                    body["detail"].as_str().unwrap_or("no detail")
                ));
            }
            Ok(response) => {
                eprintln!("hive: the service answered {}; reconnecting", response.status());
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
            Err(error) => {
                eprintln!("hive: cannot reach {}: {error}; reconnecting", args.remote.url);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        from = None;
        backoff = Duration::from_millis(100);
        let mut bytes: Vec<u8> = Vec::new();
        let mut text = String::new();
        'connection: while let Ok(Some(chunk)) = response.chunk().await {
            bytes.extend_from_slice(&chunk);
            // Only whole UTF-8 sequences move to the text (a chunk may end inside one).
            let whole = match std::str::from_utf8(&bytes) {
                Ok(all) => all.len(),
                Err(error) => error.valid_up_to(),
            };
            text.push_str(std::str::from_utf8(&bytes[..whole]).unwrap_or_default());
            bytes.drain(..whole);
            let mut last = None;
            let mut closed = false;
            let mut stdout = std::io::stdout().lock();
            for event in take_sse_events(&mut text) {
                if event.event.as_deref() == Some("reconnect") {
                    eprintln!("hive: the group closed this connection ({}); reconnecting", event.data);
                    closed = true;
                    break;
                }
                writeln!(stdout, "{}", event.data).map_err(|e| format!("stdout: {e}"))?;
                last = event.id.and_then(|id| id.parse::<u64>().ok()).or(last);
                printed += 1;
                if args.limit.is_some_and(|limit| printed >= limit) {
                    break;
                }
            }
            stdout.flush().map_err(|e| format!("stdout: {e}"))?;
            drop(stdout);
            if let Some(position) = last {
                printed_up_to.send_replace(Some(position));
            }
            if closed {
                break 'connection;
            }
            if args.limit.is_some_and(|limit| printed >= limit) {
                drop(printed_up_to);
                if let Some(acker) = acker {
                    let _ = acker.await;
                }
                return Ok(());
            }
        }
        eprintln!("hive: the feed ended; reconnecting");
        tokio::time::sleep(backoff).await;
    }
}

/// Acknowledges the last position printed each time it moves, until the reader is done (then
/// the last one, if not yet).
async fn acknowledge(
    mut printed: watch::Receiver<Option<u64>>,
    remote: Remote,
    client: reqwest::Client,
    path: String,
    consumer: String,
) {
    let mut acked = None;
    loop {
        let done = printed.changed().await.is_err();
        let position = *printed.borrow_and_update();
        if let Some(position) = position.filter(|p| acked.is_none_or(|acked| *p > acked)) {
            let body = json!({ "position": position, "consumer": consumer });
            match remote.call(&client, reqwest::Method::POST, &path, Some(body)).await {
                Ok(_) => acked = Some(position),
                Err(error) => {
                    eprintln!("hive: acknowledging {position} failed ({error}); the group will send it again")
                }
            }
        }
        if done {
            return;
        }
    }
}
