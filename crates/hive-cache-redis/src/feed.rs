//! The invalidation feed: a task subscribed to the cache's channel, turning other processes'
//! messages into [`RemoteInvalidation`]s, reconnecting with backoff.

use std::time::Duration;

use futures::StreamExt;
use hive_application::cache::RemoteInvalidation;
use redis::Client;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// What goes over the channel.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Message {
    /// The process that invalidated (it ignores its own messages).
    pub(crate) origin: String,
    /// The tags, or empty with `all`.
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    /// The whole cache was cleared.
    #[serde(default)]
    pub(crate) all: bool,
}

/// Aborts the feed task when the last handle on the cache goes.
#[derive(Debug)]
pub(crate) struct FeedTask(tokio::task::JoinHandle<()>);

impl Drop for FeedTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the feed of `channel` for the process `origin`. Needs a Tokio runtime.
pub(crate) fn start(
    client: Client,
    channel: String,
    origin: String,
    sender: broadcast::Sender<RemoteInvalidation>,
    connect_timeout: Duration,
) -> FeedTask {
    FeedTask(tokio::spawn(async move {
        let mut lost = false;
        let mut backoff = Duration::from_millis(50);
        loop {
            let connected = tokio::time::timeout(connect_timeout, async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&channel).await?;
                Ok::<_, redis::RedisError>(pubsub)
            })
            .await;
            if let Ok(Ok(mut pubsub)) = connected {
                backoff = Duration::from_millis(50);
                if lost {
                    lost = false;
                    tracing::info!(%channel, "cache invalidation feed restored");
                    let _ = sender.send(RemoteInvalidation::FeedRestored);
                }
                let mut messages = pubsub.on_message();
                while let Some(message) = messages.next().await {
                    let Ok(message) = serde_json::from_slice::<Message>(message.get_payload_bytes()) else {
                        tracing::warn!(%channel, "unreadable cache invalidation message ignored");
                        continue;
                    };
                    if message.origin == origin {
                        continue;
                    }
                    let heard = if message.all {
                        RemoteInvalidation::All
                    } else {
                        RemoteInvalidation::Tags(message.tags)
                    };
                    let _ = sender.send(heard);
                }
            }
            if !lost {
                lost = true;
                tracing::warn!(%channel, "cache invalidation feed lost; reconnecting");
                let _ = sender.send(RemoteInvalidation::FeedLost);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }))
}
