//! The connector `hive serve` runs beside the API (`connector = "nats"`): the global log
//! published to NATS JetStream by `hive_application::Connector`, its checkpoint
//! (`connector:nats`) kept in the service's checkpoint store (the one subscription groups use:
//! on the embedded durable store, `<data dir>/subscriptions/`).

use std::sync::Arc;
use std::time::Duration;

use hive_application::Connector;
use hive_connector_nats::{NatsOptions, NatsSink};
use hive_domain::EventEnvelope;
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

/// The configured connector over `app`'s log and checkpoints, if any.
pub async fn connector(app: &App) -> Result<Option<Connector>, StartError> {
    match app.config.connector {
        ConnectorKind::None => Ok(None),
        ConnectorKind::Nats => {
            let sink = NatsSink::connect(nats_options(&app.config)?)
                .await
                .map_err(|e| StartError::Io(format!("NATS connector: {e}")))?;
            Ok(Some(Connector::new(
                NATS_CONNECTOR,
                Arc::clone(&app.event_store),
                Arc::clone(&app.checkpoints),
                Arc::new(sink),
            )))
        }
    }
}

/// Starts the configured connector as a background task, woken by `wake` (the events this
/// process publishes, or PostgreSQL's committed events) and polling every second, until `stop`
/// holds `true`. A broker that is down is retried with backoff for as long as it takes.
pub async fn spawn(
    app: &App,
    wake: broadcast::Receiver<Arc<EventEnvelope>>,
    mut stop: watch::Receiver<bool>,
) -> Result<Option<JoinHandle<()>>, StartError> {
    let Some(connector) = connector(app).await? else {
        return Ok(None);
    };
    tracing::info!(connector = connector.name(), "publishing the global log");
    Ok(Some(tokio::spawn(async move {
        connector
            .run_until(Some(wake), POLL, async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
    })))
}
