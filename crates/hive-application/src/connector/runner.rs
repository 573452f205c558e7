//! Feeds one [`EventSink`] from the global log: catch-up, live mode, retries.

use std::sync::Arc;
use std::time::Duration;

use hive_domain::{Checkpoint, CheckpointStore, EventEnvelope, EventStore, EventStoreError};
use tokio::sync::{broadcast, Mutex};

use super::{EventSink, SinkError};

/// How many events a [`Connector`] reads and publishes at a time unless told otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// The first and the longest wait between two attempts while the broker or the store fails.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// Why a catch-up stopped early (everything before the failed page stays published and
/// checkpointed).
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// Reading the log or the checkpoint, or saving the checkpoint, failed.
    #[error("store: {0}")]
    Store(#[from] EventStoreError),
    /// The broker did not store a page.
    #[error("sink: {0}")]
    Sink(#[from] SinkError),
    /// The log handed an event without a global position.
    #[error("event {0} from the global log has no position")]
    NoPosition(uuid::Uuid),
}

/// Publishes the global log to one [`EventSink`], in position order, page by page.
///
/// Its checkpoint, named `connector:{name}`, is kept in the [`CheckpointStore`] and saved after
/// each page the broker stored. A crash between a publish and the save publishes that page
/// again on restart: the sink drops events it already holds (same event id), so at most one
/// page is offered twice and consumers see it once.
pub struct Connector {
    name: String,
    store: Arc<dyn EventStore>,
    checkpoints: Arc<dyn CheckpointStore>,
    sink: Arc<dyn EventSink>,
    page_size: usize,
    backoff: (Duration, Duration),
    // One catch-up at a time per connector.
    gate: Mutex<()>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("name", &self.name)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// A connector named `name` publishing pages of [`DEFAULT_PAGE_SIZE`] events.
    pub fn new(
        name: impl Into<String>,
        store: Arc<dyn EventStore>,
        checkpoints: Arc<dyn CheckpointStore>,
        sink: Arc<dyn EventSink>,
    ) -> Self {
        Self {
            name: name.into(),
            store,
            checkpoints,
            sink,
            page_size: DEFAULT_PAGE_SIZE,
            backoff: BACKOFF,
            gate: Mutex::new(()),
        }
    }

    /// Sets the page size (events read, published and checkpointed at once; at least 1).
    #[must_use]
    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Sets the first and the longest wait between attempts while something fails (live mode).
    #[must_use]
    pub fn with_backoff(mut self, first: Duration, longest: Duration) -> Self {
        self.backoff = (first, longest.max(first));
        self
    }

    /// The connector's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name of its checkpoint: `connector:{name}`.
    pub fn checkpoint_name(&self) -> String {
        format!("connector:{}", self.name)
    }

    /// The position of the last event the broker stored for sure (0 before the first page).
    pub async fn position(&self) -> Result<u64, ConnectorError> {
        Ok(self
            .checkpoints
            .load(&self.checkpoint_name())
            .await?
            .map_or(0, |c| c.position))
    }

    /// Publishes every event after the checkpoint, page by page, until the end of the log;
    /// returns how many it published. On an error, the pages before it stay checkpointed.
    pub async fn catch_up(&self) -> Result<u64, ConnectorError> {
        let _gate = self.gate.lock().await;
        let name = self.checkpoint_name();
        let mut position = self.checkpoints.load(&name).await?.map_or(0, |c| c.position);
        let mut published = 0_u64;
        loop {
            let page = self.store.read_all(position, self.page_size).await?;
            let Some(last) = page.last() else { return Ok(published) };
            let last_position = last.global_position.ok_or(ConnectorError::NoPosition(last.event_id))?;
            if let Some(event) = page.iter().find(|e| e.global_position.is_none()) {
                return Err(ConnectorError::NoPosition(event.event_id));
            }
            self.sink.publish(&page).await?;
            self.checkpoints
                .save(
                    Checkpoint::new(name.clone(), last_position, Some(last.event_id))
                        .with_last_processed_timestamp(Some(last.timestamp)),
                )
                .await?;
            published += page.len() as u64;
            position = last_position;
            tracing::debug!(connector = %self.name, position, events = page.len(), "page published");
            if page.len() < self.page_size {
                return Ok(published);
            }
        }
    }

    /// Live mode: catches up, then again whenever `wake` delivers an event (or lags) or `poll`
    /// elapses, until `shutdown` resolves. A failure (broker or store down) is logged and the
    /// catch-up tried again after a backoff that doubles up to its longest wait: it never
    /// gives up and never skips an event. A catch-up in progress is dropped at `shutdown` (its
    /// page, not checkpointed, is published again by the next run).
    pub async fn run_until(
        &self,
        mut wake: Option<broadcast::Receiver<Arc<EventEnvelope>>>,
        poll: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut backoff = self.backoff.0;
        let mut failing = false;
        loop {
            // Stopping mid-page is safe: that page is not checkpointed, and is published again.
            let caught_up = tokio::select! {
                () = &mut shutdown => return,
                caught_up = self.catch_up() => caught_up,
            };
            let wait = match caught_up {
                Ok(published) => {
                    if failing {
                        tracing::info!(connector = %self.name, published, "connector resumed publishing");
                        failing = false;
                    }
                    backoff = self.backoff.0;
                    None
                }
                Err(error) => {
                    if failing {
                        tracing::debug!(connector = %self.name, %error, retry_in = ?backoff, "connector still failing");
                    } else {
                        tracing::warn!(connector = %self.name, %error, retry_in = ?backoff, "connector failed; retrying");
                        failing = true;
                    }
                    let wait = backoff;
                    backoff = (backoff * 2).min(self.backoff.1);
                    Some(wait)
                }
            };
            match wait {
                Some(wait) => tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(wait) => {}
                },
                None => {
                    let woken = async {
                        match wake.as_mut() {
                            Some(receiver) => {
                                // Lagged or a new event: either way, catch up from the checkpoint.
                                if let Err(broadcast::error::RecvError::Closed) = receiver.recv().await {
                                    wake = None;
                                }
                            }
                            None => std::future::pending::<()>().await,
                        }
                    };
                    tokio::select! {
                        () = &mut shutdown => return,
                        () = woken => {}
                        () = tokio::time::sleep(poll) => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use hive_domain::EventEnvelope;
    use hive_store_memory::{MemoryCheckpointStore, MemoryEventStore};

    use super::*;

    /// A sink recording what it was handed, failing while `failures` is above 0.
    #[derive(Default)]
    struct Recording {
        published: std::sync::Mutex<Vec<EventEnvelope>>,
        calls: AtomicUsize,
        failures: AtomicUsize,
        // Fails the call with this index (0-based), once.
        fail_call: std::sync::Mutex<Option<usize>>,
    }

    impl Recording {
        fn ids(&self) -> Vec<uuid::Uuid> {
            self.published.lock().unwrap().iter().map(|e| e.event_id).collect()
        }
    }

    #[async_trait]
    impl EventSink for Recording {
        async fn publish(&self, events: &[EventEnvelope]) -> Result<(), SinkError> {
            let call = self.calls.fetch_add(1, Ordering::SeqCst);
            if self.fail_call.lock().unwrap().take_if(|c| *c == call).is_some() {
                return Err(SinkError::Unavailable("down for this call".into()));
            }
            if self
                .failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1))
                .is_ok()
            {
                return Err(SinkError::Unavailable("down".into()));
            }
            self.published.lock().unwrap().extend_from_slice(events);
            Ok(())
        }
    }

    async fn append(store: &MemoryEventStore, stream: &str, count: u64) -> Vec<uuid::Uuid> {
        let from = store.stream_version(stream).await.unwrap();
        let events: Vec<_> = (1..=count)
            .map(|i| EventEnvelope::new(stream, "Test", "Happened", serde_json::json!({ "i": i }), from + i))
            .collect();
        store
            .append(stream, from, events)
            .await
            .unwrap()
            .iter()
            .map(|e| e.event_id)
            .collect()
    }

    fn connector(
        store: &Arc<MemoryEventStore>,
        checkpoints: &Arc<MemoryCheckpointStore>,
        sink: &Arc<Recording>,
    ) -> Connector {
        Connector::new("test", store.clone(), checkpoints.clone(), sink.clone())
            .with_page_size(3)
            .with_backoff(Duration::from_millis(5), Duration::from_millis(20))
    }

    #[tokio::test]
    async fn catch_up_publishes_the_log_in_order_page_by_page_and_checkpoints() {
        let store = Arc::new(MemoryEventStore::new());
        let checkpoints = Arc::new(MemoryCheckpointStore::new());
        let sink = Arc::new(Recording::default());
        let mut ids = append(&store, "a", 4).await;
        ids.extend(append(&store, "b", 3).await);
        let connector = connector(&store, &checkpoints, &sink);
        assert_eq!(connector.catch_up().await.unwrap(), 7);
        assert_eq!(sink.ids(), ids);
        assert_eq!(sink.calls.load(Ordering::SeqCst), 3, "pages of 3, 3 and 1");
        assert_eq!(connector.position().await.unwrap(), 7);
        let saved = checkpoints.load("connector:test").await.unwrap().unwrap();
        assert_eq!(saved.last_event_id, ids.last().copied());
        assert_eq!(connector.catch_up().await.unwrap(), 0, "nothing new");
        assert_eq!(sink.ids().len(), 7);
    }

    #[tokio::test]
    async fn a_failed_page_is_published_again_and_nothing_is_skipped() {
        let store = Arc::new(MemoryEventStore::new());
        let checkpoints = Arc::new(MemoryCheckpointStore::new());
        let sink = Arc::new(Recording::default());
        let ids = append(&store, "a", 8).await;
        *sink.fail_call.lock().unwrap() = Some(1);
        let connector = connector(&store, &checkpoints, &sink);
        let error = connector.catch_up().await.unwrap_err();
        assert!(
            matches!(error, ConnectorError::Sink(SinkError::Unavailable(_))),
            "{error}"
        );
        assert_eq!(
            connector.position().await.unwrap(),
            3,
            "the first page stays checkpointed"
        );
        // A new connector (a restart) resumes after the checkpoint.
        let restarted = self::connector(&store, &checkpoints, &sink);
        assert_eq!(restarted.catch_up().await.unwrap(), 5);
        assert_eq!(sink.ids(), ids);
    }

    #[tokio::test]
    async fn live_mode_is_woken_retries_while_the_broker_is_down_and_stops_on_shutdown() {
        let store = Arc::new(MemoryEventStore::new());
        let checkpoints = Arc::new(MemoryCheckpointStore::new());
        let sink = Arc::new(Recording::default());
        let (bus, wake) = broadcast::channel(16);
        let connector = Arc::new(connector(&store, &checkpoints, &sink));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn({
            let connector = connector.clone();
            async move {
                connector
                    .run_until(Some(wake), Duration::from_secs(3600), async {
                        let _ = stopped.await;
                    })
                    .await;
            }
        });
        // Woken by the bus (the poll interval is an hour).
        let mut ids = append(&store, "a", 2).await;
        bus.send(Arc::new(EventEnvelope::new(
            "a",
            "Test",
            "Happened",
            serde_json::json!({}),
            2,
        )))
        .unwrap();
        wait_for(|| sink.ids().len() == 2).await;
        // The broker is down for 4 attempts: retried with backoff, without a wake-up.
        sink.failures.store(4, Ordering::SeqCst);
        ids.extend(append(&store, "b", 5).await);
        bus.send(Arc::new(EventEnvelope::new(
            "b",
            "Test",
            "Happened",
            serde_json::json!({}),
            5,
        )))
        .unwrap();
        wait_for(|| sink.ids().len() == 7).await;
        assert_eq!(sink.ids(), ids);
        assert_eq!(sink.failures.load(Ordering::SeqCst), 0);
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(connector.position().await.unwrap(), 7);
    }

    /// A broker that never answers.
    struct Hanging;

    #[async_trait]
    impl EventSink for Hanging {
        async fn publish(&self, _: &[EventEnvelope]) -> Result<(), SinkError> {
            std::future::pending().await
        }
    }

    #[tokio::test]
    async fn shutdown_stops_a_publish_that_hangs_and_leaves_its_page_unacknowledged() {
        let store = Arc::new(MemoryEventStore::new());
        let checkpoints = Arc::new(MemoryCheckpointStore::new());
        append(&store, "a", 3).await;
        let connector = Connector::new("hanging", store, checkpoints.clone(), Arc::new(Hanging));
        let stop = tokio::time::sleep(Duration::from_millis(50));
        tokio::time::timeout(
            Duration::from_secs(5),
            connector.run_until(None, Duration::from_secs(1), stop),
        )
        .await
        .expect("run_until returned at shutdown");
        assert_eq!(connector.position().await.unwrap(), 0, "nothing checkpointed");
    }

    async fn wait_for(done: impl Fn() -> bool) {
        for _ in 0..500 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("timed out");
    }
}
