//! Wiring: the adapters the configuration names, the billing module on top, the projections.

use std::sync::Arc;

use hive_application::{EventBus, MiddlewareConfig, ProjectionRunner};
use hive_billing::{BillingModule, BillingPorts, BillingServices, Clock, SystemClock};
use hive_domain::{CheckpointStore, EventStore};
use hive_store_memory::billing::{MemoryPaymentReadModel, MemoryPaymentSearchIndex};
use hive_store_memory::{DurableOptions, FsyncPolicy, MemoryCheckpointStore, MemoryEventStore, MemorySnapshotStore};

use crate::config::{Config, FsyncSetting, StoreKind};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A store could not be opened.
    #[error("cannot open the {what}: {source}")]
    Store {
        /// Which store.
        what: &'static str,
        /// Why.
        source: hive_domain::EventStoreError,
    },
    /// A projection could not catch up at start.
    #[error("projection `{name}` could not catch up: {source}")]
    Projection {
        /// The projection.
        name: String,
        /// Why.
        source: hive_application::ApplicationError,
    },
    /// Anything else at start (files, sockets).
    #[error("{0}")]
    Io(String),
}

/// Everything a Hive process runs on.
pub struct App {
    /// The resolved configuration.
    pub config: Config,
    /// The billing buses, projections and sync service.
    pub services: BillingServices,
    /// The event store (for readiness and shutdown).
    pub event_store: Arc<dyn EventStore>,
    /// One runner per projection.
    pub runners: Vec<Arc<ProjectionRunner>>,
    memory_store: MemoryEventStore,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Opens the stores, builds the billing module and brings every projection up to date.
    ///
    /// On the embedded stores the read models and the search index live in memory: their
    /// checkpoints do too, so they are rebuilt from the durable log at every start.
    pub async fn start(config: Config) -> Result<App, StartError> {
        Self::start_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`App::start`] with the clock the billing module stamps events with (the demo seeder
    /// moves it through the past month).
    pub async fn start_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<App, StartError> {
        let (events, snapshots) = match config.store {
            StoreKind::Memory => (MemoryEventStore::new(), MemorySnapshotStore::new()),
            StoreKind::MemoryDurable => {
                let options = DurableOptions::default().with_fsync(fsync_policy(config.fsync));
                let events = MemoryEventStore::open(&config.data_dir, options.clone())
                    .await
                    .map_err(|source| StartError::Store {
                        what: "event log",
                        source,
                    })?;
                let snapshots = MemorySnapshotStore::open(&config.data_dir, options)
                    .await
                    .map_err(|source| StartError::Store {
                        what: "snapshot log",
                        source,
                    })?;
                (events, snapshots)
            }
            other => {
                return Err(StartError::Io(format!(
                    "store `{}` is not available in this build",
                    other.as_str()
                )))
            }
        };
        let event_store: Arc<dyn EventStore> = Arc::new(events.clone());
        let ports = BillingPorts {
            event_store: Arc::clone(&event_store),
            snapshot_store: Arc::new(snapshots),
            analytics: Arc::new(events.clone()),
            read_model: Arc::new(MemoryPaymentReadModel::new()),
            search_index: Arc::new(MemoryPaymentSearchIndex::new()),
        };
        let services = BillingModule::new(ports, EventBus::default(), MiddlewareConfig::default())
            .with_clock(clock)
            .build();
        let checkpoints: Arc<dyn CheckpointStore> = Arc::new(MemoryCheckpointStore::new());
        let runners: Vec<_> = services
            .projection_runners(checkpoints)
            .into_iter()
            .map(Arc::new)
            .collect();
        for runner in &runners {
            let report = runner.catch_up().await.map_err(|source| StartError::Projection {
                name: runner.name().to_owned(),
                source,
            })?;
            tracing::info!(
                projection = runner.name(),
                applied = report.applied,
                position = report.position,
                "projection up to date"
            );
        }
        Ok(App {
            config,
            services,
            event_store,
            runners,
            memory_store: events,
        })
    }

    /// Flushes and closes the durable log.
    pub async fn close(&self) {
        if let Err(error) = self.memory_store.close().await {
            tracing::error!(%error, "closing the event log failed");
        }
    }
}

fn fsync_policy(setting: FsyncSetting) -> FsyncPolicy {
    match setting {
        FsyncSetting::Always => FsyncPolicy::Always,
        FsyncSetting::Never => FsyncPolicy::Never,
        FsyncSetting::EveryMillis(ms) => FsyncPolicy::EveryMillis(ms),
    }
}
