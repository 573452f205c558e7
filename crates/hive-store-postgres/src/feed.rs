//! [`PostgresStore::live_events`]: the events every writer of the schema commits — in this
//! process or any other — as a broadcast, the wake-up channel
//! `hive_application::ProjectionRunner::run_until` takes.

use std::sync::Arc;

use futures::StreamExt;
use hive_domain::{EventEnvelope, EventStore};
use tokio::sync::broadcast;

use crate::PostgresStore;

/// Events read from the log per query while the feed catches up with a new head.
const FEED_PAGE: usize = 500;

impl PostgresStore {
    /// The events committed from now on, by any writer of the schema, in position order, as a
    /// broadcast of `capacity` events (a receiver that falls further behind is told it lagged,
    /// as by `hive_application::EventBus`). Woken by [`PostgresStore::notifications`], the
    /// feed reads the new events with `read_all`; it stops (and closes its listening
    /// connection) when every receiver is dropped.
    ///
    /// Hand a receiver to `ProjectionRunner::run_until` (or `resubscribe()` one per runner):
    /// projections then follow appends made by other instances as soon as they commit, not
    /// at their next poll.
    ///
    /// # Panics
    /// Outside a Tokio runtime (it spawns the feed's task).
    pub fn live_events(&self, capacity: usize) -> broadcast::Receiver<Arc<EventEnvelope>> {
        let (sender, receiver) = broadcast::channel(capacity.max(1));
        let (mut heads, events) = (self.notifications(), self.event_store());
        tokio::spawn(async move {
            // The first head is where the feed starts: events after it are sent.
            let mut after = tokio::select! {
                () = sender.closed() => return,
                first = heads.next() => match first {
                    Some(head) => head,
                    None => return,
                },
            };
            loop {
                let head = tokio::select! {
                    () = sender.closed() => return, // every receiver is gone
                    next = heads.next() => match next {
                        Some(head) => head,
                        None => return,
                    },
                };
                while after < head {
                    let page = match events.read_all(after, FEED_PAGE).await {
                        Ok(page) if !page.is_empty() => page,
                        Ok(_) => break,
                        Err(error) => {
                            tracing::warn!(%error, "the live event feed could not read the log; retrying at the next head");
                            break;
                        }
                    };
                    for event in page {
                        after = event.global_position.unwrap_or(after);
                        if sender.send(Arc::new(event)).is_err() {
                            return; // no receiver left
                        }
                    }
                }
            }
        });
        receiver
    }
}
