//! The connector `hive serve` runs beside the API (`connector = "nats"`): the global log
//! published to NATS JetStream by `hive_application::Connector`, its checkpoint
//! (`connector:nats`) kept in the service's checkpoint store (the one subscription groups use:
//! on the embedded durable store, `<data dir>/subscriptions/`), reported by `/readyz`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hive_application::Connector;
use hive_connector_nats::{NatsOptions, NatsSink};
use hive_domain::{EventEnvelope, EventStore};
use hive_http::{Readiness, ReadinessCheck};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::app::{App, StartError};
use crate::config::{Config, ConnectorKind};

/// The connector's name (its checkpoint is `connector:{name}`).
pub const NATS_CONNECTOR: &str = "nats";

/// How often a caught-up connector reads the log without a wake-up.
const POLL: Duration = Duration::from_secs(1);

/// The NATS options of `config` (`nats.url`, `nats.stream`, `nats.subject_prefix`).
pub fn nats_options(config: &Config) -> Result<NatsOptions, StartError> {
    let url = config
        .nats_url
        .clone()
        .ok_or_else(|| StartError::Io("connector = \"nats\" needs nats.url (HIVE_NATS_URL)".into()))?;
    let mut options = NatsOptions::new(url);
    if let Some(stream) = &config.nats_stream {
        options = options.with_stream(stream.clone());
    }
    if let Some(prefix) = &config.nats_subject_prefix {
        options = options.with_subject_prefix(prefix.clone());
    }
    Ok(options)
}

/// The configured connector, made (not yet running) before the API so `/readyz` can report it.
pub struct Configured {
    connector: Arc<Connector>,
    sink: Arc<NatsSink>,
    store: Arc<dyn EventStore>,
}

impl std::fmt::Debug for Configured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Configured")
            .field("connector", &self.connector)
            .finish_non_exhaustive()
    }
}

/// The connector `app.config` asks for, over `app`'s log and checkpoints; `None` without one.
/// Connecting to the broker happens in the background: an unreachable broker is not an error.
pub async fn configured(app: &App) -> Result<Option<Configured>, StartError> {
    match app.config.connector {
        ConnectorKind::None => Ok(None),
        ConnectorKind::Nats => {
            let sink = Arc::new(
                NatsSink::connect(nats_options(&app.config)?)
                    .await
                    .map_err(|e| StartError::Io(format!("NATS connector: {e}")))?,
            );
            let connector = Connector::new(
                NATS_CONNECTOR,
                Arc::clone(&app.event_store),
                Arc::clone(&app.checkpoints),
                sink.clone(),
            );
            Ok(Some(Configured {
                connector: Arc::new(connector),
                sink,
                store: Arc::clone(&app.event_store),
            }))
        }
    }
}

impl Configured {
    /// The `/readyz` check `nats`: `up` while connected, `degraded` (still ready: the API takes
    /// writes, they are published once the broker is back) otherwise, with how far behind the
    /// connector is.
    pub fn readiness(&self) -> Arc<dyn ReadinessCheck> {
        Arc::new(NatsReady {
            connector: self.connector.clone(),
            sink: self.sink.clone(),
            store: self.store.clone(),
        })
    }

    /// Runs the connector in the background, woken by `wake` (the events this process
    /// publishes, or PostgreSQL's committed events) and polling every second, until `stop`
    /// holds `true`. A broker that is down is retried with backoff for as long as it takes.
    pub fn spawn(
        self,
        wake: broadcast::Receiver<Arc<EventEnvelope>>,
        mut stop: watch::Receiver<bool>,
    ) -> JoinHandle<()> {
        tracing::info!(connector = self.connector.name(), "publishing the global log");
        tokio::spawn(async move {
            self.connector
                .run_until(Some(wake), POLL, async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await;
        })
    }
}

/// `/readyz`'s `nats` check.
struct NatsReady {
    connector: Arc<Connector>,
    sink: Arc<NatsSink>,
    store: Arc<dyn EventStore>,
}

#[async_trait]
impl ReadinessCheck for NatsReady {
    fn name(&self) -> &str {
        "nats"
    }

    async fn check(&self) -> Readiness {
        if self.sink.is_connected() {
            return Readiness::Up;
        }
        let behind = match (self.connector.position().await, self.store.head_position().await) {
            (Ok(position), Ok(head)) => format!("{} events not yet published", head.saturating_sub(position)),
            _ => "events are published once it is back".to_owned(),
        };
        Readiness::Degraded(format!("not connected to {}: {behind}", self.sink.options().url))
    }

    fn backend(&self) -> Option<String> {
        self.sink
            .server_version()
            .map(|version| format!("nats-server {version}"))
    }
}
