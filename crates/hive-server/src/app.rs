//! Wiring: the adapters the configuration names, the billing module on top, the projections.

use std::sync::Arc;

use hive_application::{EventBus, MiddlewareConfig, Projection, ProjectionRunner};
use hive_billing::{BillingModule, BillingPorts, BillingServices, Clock, SystemClock};
use hive_domain::{CheckpointStore, EventStore};
use hive_store_elasticsearch::EsStore;
use hive_store_memory::MemoryEventStore;

use crate::config::Config;
use crate::payment_views::ViewSaver;

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
    /// Where the subscription groups' checkpoints are kept: the payment read model's
    /// checkpoint store in MongoDB, Elasticsearch or PostgreSQL; a checkpoint file of their own
    /// in the data directory on the embedded durable store; memory with `store = "memory"`.
    pub checkpoints: Arc<dyn CheckpointStore>,
    /// One runner per projection.
    pub runners: Vec<Arc<ProjectionRunner>>,
    /// The query cache and its shared level.
    pub caches: crate::caches::Caches,
    /// The Elasticsearch connection, when `store` or `search` is `elasticsearch` (for readiness).
    pub elasticsearch: Option<EsStore>,
    /// The PostgreSQL connection, when `store` is `postgres` (for readiness, and the events
    /// the projections wake on).
    pub postgres: Option<crate::postgres::Connection>,
    /// The projections whose read model other instances may serve too (see [`App::is_shared`]).
    shared: Vec<String>,
    memory_store: Option<MemoryEventStore>,
    view_saver: Option<ViewSaver>,
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
    /// On the embedded durable store the payment read model and the embedded search index
    /// live on disk in the data directory with their checkpoints (see
    /// [`crate::payment_views`]): a start resumes them and applies only the later events. With
    /// `store = "memory"` they are rebuilt from the (new, empty) log. In MongoDB and
    /// Elasticsearch the read model keeps its checkpoint beside it and resumes (see
    /// [`crate::stores::catch_up_read_model_at_start`]); so does the search index on
    /// Elasticsearch (see [`crate::search::catch_up_at_start`]).
    pub async fn start(config: Config) -> Result<App, StartError> {
        Self::start_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`App::start`] with the clock the billing module stamps events with (the demo seeder
    /// moves it through the past month).
    pub async fn start_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<App, StartError> {
        let stores = crate::stores::open(&config).await?;
        let search = crate::search::open(&config, stores.elasticsearch.as_ref(), stores.payment_views.as_ref());
        crate::capabilities::log_at_start(&stores.event_store);
        let event_store = Arc::clone(&stores.event_store.events);
        let ports = BillingPorts {
            event_store: stores.event_store,
            snapshot_store: stores.snapshots,
            read_model: stores.read_model,
            search_index: Arc::clone(&search.index),
        };
        let caches = crate::caches::Caches::open(&config)?;
        let module = BillingModule::new(ports, EventBus::default(), MiddlewareConfig::default()).with_clock(clock);
        let services = caches.apply(module).build();
        // Each projection's checkpoint lives with what it feeds. A read model or search index
        // shared by every instance (in MongoDB, Elasticsearch or PostgreSQL, over a shared log)
        // is fed by one of them at a time: the holder of its Redis lease, when there is a Redis.
        let shared_log = matches!(
            config.store,
            crate::config::StoreKind::Mongodb
                | crate::config::StoreKind::Elasticsearch
                | crate::config::StoreKind::Postgres
        );
        let shared_read_model = stores.read_model_shared;
        let read_model_checkpoints = Arc::clone(&stores.read_model_checkpoints);
        let checkpoints = stores
            .subscription_checkpoints
            .clone()
            .unwrap_or_else(|| Arc::clone(&stores.read_model_checkpoints));
        let shared_search = search.persistent && shared_log;
        let read_model_projection = stores
            .read_model_projection
            .unwrap_or_else(|| Arc::clone(&services.read_model_projection) as Arc<dyn Projection>);
        let runners: Vec<_> = [
            (read_model_projection, stores.read_model_checkpoints, shared_read_model),
            (
                Arc::clone(&services.search_projection) as Arc<dyn Projection>,
                Arc::clone(&search.checkpoints),
                shared_search,
            ),
        ]
        .into_iter()
        .map(|(projection, checkpoints, leased)| {
            // With a query cache, the projection invalidates it after each event it applies.
            let projection = services.invalidating(projection);
            let runner = ProjectionRunner::new(Arc::clone(&event_store), checkpoints, projection);
            Arc::new(match caches.lease().filter(|_| leased) {
                Some(lease) => runner.with_lease(lease, crate::caches::LEASE_TTL),
                None => runner,
            })
        })
        .collect();
        let search_name = hive_application::Projection::name(services.search_projection.as_ref()).to_owned();
        let read_model_name = Projection::name(services.read_model_projection.as_ref()).to_owned();
        // The embedded durable store's views resume from the checkpoints saved with them.
        let view_saver = match &stores.payment_views {
            Some(views) => {
                let embedded_search = (!search.persistent).then(|| Arc::clone(&search.checkpoints));
                views
                    .restore(read_model_checkpoints.as_ref(), embedded_search.as_deref())
                    .await
                    .map_err(|source| StartError::Store {
                        what: "payment views",
                        source,
                    })?;
                Some(ViewSaver::new(
                    views,
                    (Arc::clone(&read_model_checkpoints), read_model_name),
                    embedded_search.map(|checkpoints| (checkpoints, search_name.clone())),
                ))
            }
            None => None,
        };
        let mut shared = Vec::new();
        if shared_read_model {
            shared.push(hive_application::Projection::name(services.read_model_projection.as_ref()).to_owned());
        }
        if shared_search {
            shared.push(search_name.clone());
        }
        for runner in &runners {
            let report = if runner.name() == search_name {
                crate::search::catch_up_at_start(&config, &search, runner).await
            } else {
                crate::stores::catch_up_read_model_at_start(&config, read_model_checkpoints.as_ref(), runner).await
            };
            let report = report.map_err(|source| StartError::Projection {
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
            checkpoints,
            runners,
            caches,
            elasticsearch: stores.elasticsearch,
            postgres: stores.postgres,
            shared,
            memory_store: stores.memory_log,
            view_saver,
        })
    }

    /// Whether the read model of `projection` is shared by every instance on this store: the
    /// payment read model in MongoDB, Elasticsearch or PostgreSQL, the search index in
    /// Elasticsearch over
    /// such a shared log. Other instances may be serving it (and, with `cache = "moka+redis"`,
    /// one of them feeds it holding the projection's lease, see [`App::lease`]).
    pub fn is_shared(&self, projection: &str) -> bool {
        self.shared.iter().any(|name| name == projection)
    }

    /// The projection leases (on Redis, with `cache = "moka+redis"`), whose holder feeds a
    /// shared read model.
    pub fn lease(&self) -> Option<Arc<dyn hive_application::Lease>> {
        self.caches.lease()
    }

    /// What saves the checkpoints of the embedded durable store's payment views (see
    /// [`crate::payment_views`]).
    pub fn view_saver(&self) -> Option<ViewSaver> {
        self.view_saver.clone()
    }

    /// Saves the checkpoints of the embedded durable store's payment views (which makes the
    /// views durable), then flushes and closes the durable log. Call it once the projections
    /// have stopped.
    pub async fn close(&self) {
        if let Some(saver) = &self.view_saver {
            if let Err(error) = saver.save().await {
                tracing::error!(%error, "saving the payment views failed: the next start replays more of the log");
            }
        }
        if let Some(log) = &self.memory_store {
            if let Err(error) = log.close().await {
                tracing::error!(%error, "closing the event log failed");
            }
        }
    }
}
