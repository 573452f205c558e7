//! Subscriptions for other services: the global log as Server-Sent Events, for the members of
//! a consumer group ([`ConsumerGroups`]: streams shared between the connected consumers,
//! acknowledgements, parking) or for one catch-up reader.
//!
//! A catch-up feed reads the store's global log ([`EventStore::read_all`]) one page at a time,
//! and only when the client has taken the page before: a slow client holds back the reading,
//! never makes the service buffer without bound. Caught up, it waits for a wake-up (the events
//! the service publishes) or the poll interval, whichever comes first.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::Event;
use futures::Stream;
use hive_application::subscription::{ConsumerGroups, GroupFilter, Membership};
use hive_billing::EventView;
use hive_domain::{EventEnvelope, EventStore};
use tokio::sync::{broadcast, watch};

/// The `code` of the `400` for a group name that is not 1–64 of `A-Z a-z 0-9 . _ -`.
pub const INVALID_GROUP: &str = "invalid_subscription_group";

/// How many events a feed reads from the log at a time (and at most holds for its client).
pub const FEED_PAGE_SIZE: usize = 100;

/// What serves `/subscriptions/…`: the consumer groups (over the global log, their
/// checkpoints and parked events) and what ends every open feed at shutdown. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Subscriptions {
    pub(crate) groups: ConsumerGroups,
    pub(crate) closing: Option<watch::Receiver<bool>>,
}

impl Subscriptions {
    /// Feeds of `groups`. The groups' checkpoints are named `subscription:{organization}:{group}`,
    /// or `subscription-platform:{group}` for a `scope=platform` group: never a projection's.
    pub fn new(groups: ConsumerGroups) -> Self {
        Self { groups, closing: None }
    }

    /// The same feeds, ending every open one once `closing` holds `true` (after the event
    /// being sent): a graceful shutdown waits for open connections, and a live feed would
    /// otherwise never close.
    pub fn with_closing(mut self, closing: watch::Receiver<bool>) -> Self {
        self.closing = Some(closing);
        self
    }

    /// Stops the consumer groups, each saving its checkpoint (see [`ConsumerGroups::close`]).
    pub async fn close(&self) {
        self.groups.close().await;
    }
}

/// A group member's events as SSE: each delivery, then (when the group closed the connection)
/// one `reconnect` event saying why; ends as the service closes.
pub(crate) fn group_feed(
    membership: Membership,
    closing: Option<watch::Receiver<bool>>,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    futures::stream::unfold(Some((membership, closing)), |state| async move {
        let (mut membership, mut closing) = state?;
        let closed = async {
            match closing.as_mut() {
                Some(closing) => {
                    let _ = closing.wait_for(|closing| *closing).await;
                }
                None => std::future::pending().await,
            }
        };
        let delivery = tokio::select! {
            delivery = membership.next() => delivery,
            () = closed => return None,
        };
        match delivery {
            Some(delivery) => {
                let event = sse_event((*delivery.envelope).clone());
                Some((Ok(event), Some((membership, closing))))
            }
            None => {
                let reason = membership.closed_because()?.to_owned();
                let data = serde_json::json!({ "reason": reason }).to_string();
                Some((Ok(Event::default().event("reconnect").data(data)), None))
            }
        }
    })
}

/// One connection's reading of the log.
struct Feed {
    events: Arc<dyn EventStore>,
    wake: Option<broadcast::Receiver<Arc<EventEnvelope>>>,
    poll: Duration,
    closing: Option<watch::Receiver<bool>>,
    /// The position of the last event read (sent or filtered out).
    after: u64,
    /// `live=false`: stop at this position (the head when the client connected).
    until: Option<u64>,
    filter: GroupFilter,
    /// Read, admitted, not yet sent: at most one page.
    pending: VecDeque<EventEnvelope>,
}

/// The SSE events after position `after` that `filter` admits, in global position order:
/// what the log holds, then (unless `until` stops it) every event committed later. A store
/// error ends the stream (logged); the client resumes with `Last-Event-ID`.
pub(crate) fn feed(
    subscriptions: &Subscriptions,
    after: u64,
    until: Option<u64>,
    filter: GroupFilter,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    // Subscribed before the first read: an event committed during catch-up still wakes it.
    let feed = Feed {
        events: Arc::clone(subscriptions.groups.events()),
        wake: subscriptions.groups.wake(),
        poll: subscriptions.groups.options().poll,
        closing: subscriptions.closing.clone(),
        after,
        until,
        filter,
        pending: VecDeque::new(),
    };
    futures::stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        Some((Ok(event), feed))
    })
}

impl Feed {
    /// The next event to send, reading the log (or waiting) only when none is pending.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if self.closing.as_ref().is_some_and(|closing| *closing.borrow()) {
                return None;
            }
            if let Some(envelope) = self.pending.pop_front() {
                return Some(sse_event(envelope));
            }
            if self.until.is_some_and(|until| self.after >= until) {
                return None;
            }
            let page = match self.events.read_all(self.after, FEED_PAGE_SIZE).await {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(%error, after = self.after, "subscription feed: reading the log failed; closing the feed");
                    return None;
                }
            };
            let Some(last) = page.last() else {
                if self.until.is_some() {
                    return None;
                }
                self.wait().await;
                continue;
            };
            let last = last.global_position.unwrap_or(self.after + page.len() as u64);
            let until = self.until.unwrap_or(u64::MAX);
            self.pending.extend(
                page.into_iter()
                    .filter(|e| e.global_position.is_some_and(|p| p > self.after && p <= until))
                    .filter(|e| self.filter.admits(e)),
            );
            self.after = last.min(until);
        }
    }

    /// Until an event is published, the poll interval has passed or the service is closing.
    async fn wait(&mut self) {
        let Feed {
            wake, closing, poll, ..
        } = self;
        let woken = async {
            match wake {
                Some(receiver) => {
                    if let Err(broadcast::error::RecvError::Closed) = receiver.recv().await {
                        *wake = None;
                    }
                }
                None => std::future::pending().await,
            }
        };
        let closing = async {
            match closing {
                Some(closing) => {
                    let _ = closing.wait_for(|closing| *closing).await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = woken => {}
            () = closing => {}
            () = tokio::time::sleep(*poll) => {}
        }
    }
}

/// `id` = global position, `event` = event type, `data` = the event as `/events/{eventId}`
/// answers it.
fn sse_event(envelope: EventEnvelope) -> Event {
    let position = envelope.global_position.unwrap_or_default();
    let kind = envelope.event_type.clone();
    let view = EventView::from(envelope);
    let data = serde_json::to_string(&view).unwrap_or_else(|_| "{}".to_owned());
    Event::default().id(position.to_string()).event(kind).data(data)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use futures::StreamExt;
    use hive_application::subscription::GroupOptions;
    use hive_domain::{EventStream, Metadata, StoreResult};
    use hive_store_memory::{MemoryCheckpointStore, MemoryEventStore};

    use super::*;

    /// The memory store, counting the pages read from the global log.
    struct Counting {
        inner: MemoryEventStore,
        pages: AtomicUsize,
    }

    #[async_trait]
    impl EventStore for Counting {
        async fn append(&self, id: &str, expected: u64, events: Vec<EventEnvelope>) -> StoreResult<Vec<EventEnvelope>> {
            self.inner.append(id, expected, events).await
        }

        fn read_stream<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> EventStream<'a> {
            self.inner.read_stream(aggregate_id, from_version)
        }

        async fn read_all(&self, after_position: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>> {
            self.pages.fetch_add(1, Ordering::SeqCst);
            self.inner.read_all(after_position, limit).await
        }

        async fn head_position(&self) -> StoreResult<u64> {
            self.inner.head_position().await
        }
    }

    #[tokio::test]
    async fn a_feed_reads_the_next_page_only_once_the_client_took_the_last() {
        let store = Arc::new(Counting {
            inner: MemoryEventStore::new(),
            pages: AtomicUsize::new(0),
        });
        let events: Vec<EventEnvelope> = (1..=250)
            .map(|version| {
                EventEnvelope::new("org-a/p-1", "Payment", "PaymentCreated", serde_json::json!({}), version)
                    .with_metadata(Metadata::default().with_organization("org-a"))
            })
            .collect();
        store.append("org-a/p-1", 0, events).await.unwrap();
        let options = GroupOptions {
            poll: Duration::from_secs(60),
            ..GroupOptions::default()
        };
        let groups = ConsumerGroups::new(store.clone(), Arc::new(MemoryCheckpointStore::new()), None, options);
        let subscriptions = Subscriptions::new(groups);
        let filter = GroupFilter {
            organization: Some("org-a".into()),
            ..GroupFilter::default()
        };
        let mut feed = Box::pin(feed(&subscriptions, 0, None, filter));
        assert_eq!(
            store.pages.load(Ordering::SeqCst),
            0,
            "nothing is read before the client asks"
        );
        let _ = feed.next().await;
        assert_eq!(store.pages.load(Ordering::SeqCst), 1);
        for _ in 1..FEED_PAGE_SIZE {
            let _ = feed.next().await;
        }
        assert_eq!(
            store.pages.load(Ordering::SeqCst),
            1,
            "one page serves its {FEED_PAGE_SIZE} events"
        );
        let _ = feed.next().await;
        assert_eq!(
            store.pages.load(Ordering::SeqCst),
            2,
            "the next page once the client took the last"
        );
        let rest = feed.take(149).count().await;
        assert_eq!((rest, store.pages.load(Ordering::SeqCst)), (149, 3));
    }
}
