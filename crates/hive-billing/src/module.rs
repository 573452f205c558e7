//! `BillingModule`: the billing context wired onto buses — what a composition root calls.

use std::sync::Arc;

use hive_application::cache::{CacheInvalidator, CachedHandler, QueryCache};
use hive_application::{
    AggregateRepository, CommandBus, EventBus, EventHandler, MiddlewareConfig, Projection, ProjectionRunner, QueryBus,
    SnapshotPolicy, DEFAULT_HOT_AGGREGATES,
};
use hive_domain::{CheckpointStore, EventStore, SnapshotStore, StoreCapabilities, UpcasterChain};

use crate::commands::{CreatePayment, FailPayment, PaymentCommandHandler, ProcessPayment, RefundPayment};
use crate::queries::{
    EventAnalyticsHandler, GetEventById, GetEventCorrelations, GetEventHeatmap, GetEventStatistics, GetEventTimeline,
    GetEventTrends, GetPaymentById, GetPaymentHistory, GetPaymentStatistics, GetPaymentSuggestions, GetPaymentTrends,
    GetPaymentsByOrganization, PaymentEventQueryHandler, PaymentQueryHandler, PaymentSearchHandler, ReplayPayment,
    ReplayPaymentHandler, SearchPaymentEvents, SearchPayments,
};
use crate::{
    Clock, PaymentReadModel, PaymentReadModelProjection, PaymentSearchIndex, PaymentSearchProjection, PaymentStreams,
    SearchIndexSync, SystemClock,
};

/// The adapters the billing context runs on.
#[derive(Clone)]
pub struct BillingPorts {
    /// Where payment events are stored: the core port, and the optional capabilities the
    /// event queries use (a query whose capability the store lacks answers
    /// [`hive_application::ApplicationError::Unsupported`]).
    pub event_store: StoreCapabilities,
    /// Where payment snapshots are kept.
    pub snapshot_store: Arc<dyn SnapshotStore>,
    /// The payment read model.
    pub read_model: Arc<dyn PaymentReadModel>,
    /// The payment search index.
    pub search_index: Arc<dyn PaymentSearchIndex>,
}

impl std::fmt::Debug for BillingPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BillingPorts").finish_non_exhaustive()
    }
}

/// Builds the billing context: every command and query handler registered on a [`CommandBus`]
/// and a [`QueryBus`] (each with the default middleware of `middleware`), the two projections
/// registered inline on the [`EventBus`] (read-your-writes) and exposed for
/// [`ProjectionRunner`]s (catch-up, rebuild).
///
/// Defaults: the system clock, a snapshot every 20 events, no upcasters, inline projections on.
#[derive(Debug)]
pub struct BillingModule {
    ports: BillingPorts,
    event_bus: EventBus,
    middleware: MiddlewareConfig,
    clock: Arc<dyn Clock>,
    snapshots: SnapshotPolicy,
    upcasters: Arc<UpcasterChain>,
    inline_projections: bool,
    query_cache: Option<QueryCache>,
    hot_payments: usize,
}

impl BillingModule {
    /// A module over `ports`, publishing on `event_bus`, with `middleware` on both buses.
    pub fn new(ports: BillingPorts, event_bus: EventBus, middleware: MiddlewareConfig) -> Self {
        Self {
            ports,
            event_bus,
            middleware,
            clock: Arc::new(SystemClock),
            snapshots: SnapshotPolicy { every: 20 },
            upcasters: Arc::default(),
            inline_projections: true,
            query_cache: None,
            hot_payments: DEFAULT_HOT_AGGREGATES,
        }
    }

    /// Answers the queries through `cache` (see [`crate::cache`] for what each answer depends
    /// on), invalidated by every event: inline, after the projections (so before a command
    /// returns), and again by the projections fed by [`ProjectionRunner`]s after they apply an
    /// event (the whole cache after a rebuild).
    #[must_use]
    pub fn with_query_cache(mut self, cache: QueryCache) -> Self {
        self.query_cache = Some(cache);
        self
    }

    /// Keeps up to `capacity` recently used payments hot in the command handler's repository
    /// (default [`DEFAULT_HOT_AGGREGATES`]; 0: none): a command on a hot payment decides on
    /// the kept state and appends at its version without reading the stream or the snapshot.
    /// Safe with several instances on one store (see [`AggregateRepository::with_hot_aggregates`]).
    #[must_use]
    pub fn with_hot_payments(mut self, capacity: usize) -> Self {
        self.hot_payments = capacity;
        self
    }

    /// Stamps events (their payload times and their envelope `timestamp`) with `clock` instead
    /// of the system clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Snapshots payments per `policy`.
    #[must_use]
    pub fn with_snapshot_policy(mut self, policy: SnapshotPolicy) -> Self {
        self.snapshots = policy;
        self
    }

    /// Upcasts stored payment events with `chain` (repository, projections, replay).
    #[must_use]
    pub fn with_upcasters(mut self, chain: Arc<UpcasterChain>) -> Self {
        self.upcasters = chain;
        self
    }

    /// Whether the projections run inline on the event bus (default `true`). Without them the
    /// read side only moves when a [`ProjectionRunner`] catches up.
    #[must_use]
    pub fn with_inline_projections(mut self, inline: bool) -> Self {
        self.inline_projections = inline;
        self
    }

    /// Wires everything. Call it once per event bus: each call registers the projections on it.
    pub fn build(self) -> BillingServices {
        let ports = self.ports;
        let read_model_projection = Arc::new(PaymentReadModelProjection::new(
            Arc::clone(&ports.read_model),
            Arc::clone(&self.upcasters),
        ));
        let search_projection = Arc::new(PaymentSearchProjection::new(
            Arc::clone(&ports.search_index),
            Arc::clone(&self.upcasters),
        ));
        if self.inline_projections {
            self.event_bus
                .register(Arc::clone(&read_model_projection) as Arc<dyn EventHandler>);
            self.event_bus
                .register(Arc::clone(&search_projection) as Arc<dyn EventHandler>);
        }
        let invalidator = self
            .query_cache
            .as_ref()
            .map(|cache| CacheInvalidator::new(cache.clone(), Arc::new(crate::cache::invalidation_tags)));
        if let Some(invalidator) = &invalidator {
            // After the projections: the read model moves before the answers built on it go.
            self.event_bus.register(Arc::new(invalidator.clone()));
        }
        let clock = Arc::clone(&self.clock);
        let repository = AggregateRepository::new(Arc::clone(&ports.event_store.events))
            .with_hot_aggregates(self.hot_payments)
            .with_time_source(Arc::new(move || clock.now()))
            .with_snapshots(Arc::clone(&ports.snapshot_store), self.snapshots)
            .with_event_bus(self.event_bus.clone())
            .with_upcasters(Arc::clone(&self.upcasters));
        let streams = PaymentStreams::new(Arc::clone(&ports.event_store.events));
        let commands = PaymentCommandHandler::new(repository, streams, self.clock);
        let command_bus = CommandBus::builder()
            .with_default_middleware(self.middleware)
            .handler::<CreatePayment, _>(commands.clone())
            .handler::<ProcessPayment, _>(commands.clone())
            .handler::<FailPayment, _>(commands.clone())
            .handler::<RefundPayment, _>(commands)
            .build();
        let payments = PaymentQueryHandler::new(Arc::clone(&ports.read_model));
        let search = PaymentSearchHandler::new(Arc::clone(&ports.search_index));
        let events = PaymentEventQueryHandler::new(&ports.event_store);
        let replay = ReplayPaymentHandler::new(Arc::clone(&ports.event_store.events), Arc::clone(&self.upcasters));
        let analytics = EventAnalyticsHandler::new(&ports.event_store);
        // Every billing query is cacheable: with a cache, each handler answers from it.
        let cache = self.query_cache.as_ref();
        let query_bus = QueryBus::builder()
            .with_default_middleware(self.middleware)
            .handler::<GetPaymentById, _>(CachedHandler::new(payments.clone(), cache))
            .handler::<GetPaymentsByOrganization, _>(CachedHandler::new(payments.clone(), cache))
            .handler::<GetPaymentStatistics, _>(CachedHandler::new(payments.clone(), cache))
            .handler::<GetPaymentTrends, _>(CachedHandler::new(payments, cache))
            .handler::<SearchPayments, _>(CachedHandler::new(search.clone(), cache))
            .handler::<GetPaymentSuggestions, _>(CachedHandler::new(search, cache))
            .handler::<GetPaymentHistory, _>(CachedHandler::new(events.clone(), cache))
            .handler::<SearchPaymentEvents, _>(CachedHandler::new(events.clone(), cache))
            .handler::<GetEventById, _>(CachedHandler::new(events.clone(), cache))
            .handler::<GetEventTimeline, _>(CachedHandler::new(events.clone(), cache))
            .handler::<GetEventCorrelations, _>(CachedHandler::new(events, cache))
            .handler::<ReplayPayment, _>(CachedHandler::new(replay, cache))
            .handler::<GetEventStatistics, _>(CachedHandler::new(analytics.clone(), cache))
            .handler::<GetEventTrends, _>(CachedHandler::new(analytics.clone(), cache))
            .handler::<GetEventHeatmap, _>(CachedHandler::new(analytics, cache))
            .build();
        BillingServices {
            command_bus,
            query_bus,
            event_bus: self.event_bus,
            sync: SearchIndexSync::new(Arc::clone(&ports.read_model), Arc::clone(&ports.search_index))
                .with_event_store(Arc::clone(&ports.event_store.events)),
            read_model_projection,
            search_projection,
            event_store: ports.event_store.events,
            query_cache: self.query_cache,
            invalidator,
        }
    }
}

/// The wired billing context.
#[derive(Clone)]
pub struct BillingServices {
    /// Handles `CreatePayment`, `ProcessPayment`, `FailPayment`, `RefundPayment`.
    pub command_bus: CommandBus,
    /// Handles every billing query.
    pub query_bus: QueryBus,
    /// The bus the projections are registered on.
    pub event_bus: EventBus,
    /// Search-index synchronisation and verification (checked against the event log too).
    pub sync: SearchIndexSync,
    /// The read-model projection.
    pub read_model_projection: Arc<PaymentReadModelProjection>,
    /// The search-index projection.
    pub search_projection: Arc<PaymentSearchProjection>,
    event_store: Arc<dyn EventStore>,
    query_cache: Option<QueryCache>,
    invalidator: Option<CacheInvalidator>,
}

impl std::fmt::Debug for BillingServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BillingServices").finish_non_exhaustive()
    }
}

impl BillingServices {
    /// Both projections, for runners of the composition root's choosing (with a query cache,
    /// each invalidates it after applying an event, and clears it after a reset).
    pub fn projections(&self) -> Vec<Arc<dyn Projection>> {
        vec![
            self.invalidating(Arc::clone(&self.read_model_projection) as Arc<dyn Projection>),
            self.invalidating(Arc::clone(&self.search_projection) as Arc<dyn Projection>),
        ]
    }

    /// `projection`, invalidating the query cache after each event it applies (and clearing it
    /// after a reset) when the module has a cache; unchanged otherwise.
    pub fn invalidating(&self, projection: Arc<dyn Projection>) -> Arc<dyn Projection> {
        match &self.invalidator {
            Some(invalidator) => invalidator.wrap(projection),
            None => projection,
        }
    }

    /// The query cache, when the module has one.
    pub fn query_cache(&self) -> Option<&QueryCache> {
        self.query_cache.as_ref()
    }

    /// One [`ProjectionRunner`] per projection over the module's event store, checkpointed in
    /// `checkpoints`.
    pub fn projection_runners(&self, checkpoints: Arc<dyn CheckpointStore>) -> Vec<ProjectionRunner> {
        self.projections()
            .into_iter()
            .map(|projection| {
                ProjectionRunner::new(Arc::clone(&self.event_store), Arc::clone(&checkpoints), projection)
            })
            .collect()
    }
}
