//! `hive serve`: the HTTP API over the app, projections following the log live, graceful
//! shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hive_domain::{EventEnvelope, EventStore};
use hive_http::{
    ApiState, ApiToken, ConsumerGroups, GroupOptions, HttpConfig, Metrics, Readiness, ReadinessCheck, Subscriptions,
    TokenRegistry, WakeSource,
};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};

use crate::app::{App, StartError};
use crate::config::{StoreKind, TokenConfig};
use crate::dev_token;

/// Readiness of the event store (its `health()`).
struct EventStoreReady {
    name: &'static str,
    store: Arc<dyn EventStore>,
}

#[async_trait]
impl ReadinessCheck for EventStoreReady {
    fn name(&self) -> &str {
        self.name
    }

    async fn check(&self) -> Readiness {
        match self.store.health().await {
            Ok(()) => Readiness::Up,
            Err(error) => Readiness::Down(error.to_string()),
        }
    }
}

/// The tokens the API accepts: the configured ones, or — when none is configured — the
/// development token kept in `<data dir>/dev-token`, announced with a warning.
pub fn tokens(app: &App) -> Result<Vec<TokenConfig>, StartError> {
    if !app.config.tokens.is_empty() {
        return Ok(app.config.tokens.clone());
    }
    let (token, created) = dev_token::load_or_create(&app.config.data_dir)
        .map_err(|e| StartError::Io(format!("cannot write the development token: {e}")))?;
    let path = dev_token::token_path(&app.config.data_dir);
    tracing::warn!(
        path = %path.display(),
        created,
        "no [[auth.tokens]] configured: using a DEVELOPMENT token for organization `{}`; configure real tokens in hive.toml before exposing this service",
        dev_token::DEV_ORGANIZATION
    );
    eprintln!(
        "\nWARNING: development token (organization `{}`), kept in {}:\n\n    export HIVE_TOKEN={}\n\nDo not expose this service with it; configure [[auth.tokens]] in hive.toml.\n",
        dev_token::DEV_ORGANIZATION,
        path.display(),
        token.token
    );
    Ok(vec![token])
}

/// The state of the HTTP API over `app`.
pub fn api_state(app: &App, tokens: Vec<TokenConfig>, metrics: Metrics) -> ApiState {
    let tokens = tokens
        .into_iter()
        .map(|t| ApiToken {
            token: t.token,
            organization: t.organization,
            user: t.user,
            roles: t.roles,
        })
        .collect();
    let mut readiness: Vec<Arc<dyn ReadinessCheck>> = Vec::new();
    let store_name = match app.config.store {
        StoreKind::Memory => Some("memory"),
        StoreKind::MemoryDurable => Some("memory-durable"),
        StoreKind::Mongodb => Some("mongodb"),
        // The Elasticsearch event store's health is the cluster's, PostgreSQL's the server's:
        // reported once each, below.
        StoreKind::Elasticsearch | StoreKind::Postgres => None,
    };
    if let Some(name) = store_name {
        readiness.push(Arc::new(EventStoreReady {
            name,
            store: Arc::clone(&app.event_store),
        }));
    }
    if let Some(store) = &app.elasticsearch {
        readiness.push(Arc::new(crate::elasticsearch::ClusterHealth::new(store.clone())));
    }
    if let Some(connection) = &app.postgres {
        readiness.push(Arc::new(connection.clone()));
    }
    readiness.extend(app.caches.readiness());
    ApiState {
        commands: app.services.command_bus.clone(),
        queries: app.services.query_bus.clone(),
        tokens: TokenRegistry::new(tokens),
        readiness,
        metrics,
        query_cache: app.services.query_cache().cloned(),
        subscriptions: Some(subscriptions(app, None)),
    }
}

/// How often a caught-up subscription feed reads the log without a wake-up.
const FEED_POLL: Duration = Duration::from_secs(1);

/// The subscription feeds over `app`'s log and checkpoint store, woken as the projections are:
/// by `live` (PostgreSQL's committed events, of every instance) when given, else by the
/// events this process publishes; polling every second besides.
pub fn subscriptions(app: &App, live: Option<&broadcast::Receiver<Arc<EventEnvelope>>>) -> Subscriptions {
    let wake: WakeSource = match live {
        Some(live) => {
            let live = live.resubscribe();
            Arc::new(move || live.resubscribe())
        }
        None => {
            let bus = app.services.event_bus.clone();
            Arc::new(move || bus.subscribe())
        }
    };
    let settings = app.config.subscriptions;
    let options = GroupOptions {
        poll: FEED_POLL,
        max_deliveries: settings.max_deliveries,
        max_in_flight: settings.max_in_flight,
        stall_timeout: settings.stall_timeout,
        ..GroupOptions::default()
    };
    Subscriptions::new(ConsumerGroups::new(
        Arc::clone(&app.event_store),
        Arc::clone(&app.checkpoints),
        Some(wake),
        options,
    ))
}

/// Serves the API on `listener` until `shutdown` resolves, with every projection following
/// the log live; then drains in-flight requests, lets the projections finish their batch,
/// and closes the durable log.
pub async fn serve(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let tokens = tokens(&app)?;
    let metrics = Metrics::new();
    // The projections and the subscription feeds wake on the events of this process, or, on
    // PostgreSQL, on those of every instance of the schema (this one's included), as they commit.
    let live = app.postgres.as_ref().map(crate::postgres::Connection::live_events);
    let mut state = api_state(&app, tokens, metrics.clone());
    let connector = crate::connector::configured(&app).await?;
    state
        .readiness
        .extend(connector.as_ref().map(crate::connector::Configured::readiness));
    // The feeds end as the shutdown begins: the HTTP drain waits for open connections.
    let (closing_tx, closing) = watch::channel(false);
    let feeds = subscriptions(&app, live.as_ref()).with_closing(closing);
    state.subscriptions = Some(feeds.clone());
    let shutdown = async move {
        shutdown.await;
        let _ = closing_tx.send(true);
    };
    let http = HttpConfig {
        body_limit: app.config.body_limit,
        request_timeout: app.config.request_timeout,
    };
    let router = hive_http::router_with(state, http, hive_dashboard::ROUTES);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for runner in &app.runners {
        let runner = Arc::clone(runner);
        let wake = match &live {
            Some(live) => live.resubscribe(),
            None => app.services.event_bus.subscribe(),
        };
        let mut stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            runner
                .run_until(Some(wake), Duration::from_secs(1), async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await;
        }));
    }
    if let Some(connector) = connector {
        let wake = live
            .as_ref()
            .map_or_else(|| app.services.event_bus.subscribe(), broadcast::Receiver::resubscribe);
        tasks.push(connector.spawn(wake, stop_rx.clone()));
    }
    // The runners and the API hold their own receivers: the feed stops once they are done.
    drop(live);
    tasks.push(tokio::spawn(report_lag(app.runners.clone(), metrics, stop_rx.clone())));
    if let Some(saver) = app.view_saver() {
        tasks.push(tokio::spawn(saver.run(stop_rx.clone())));
    }
    let address = listener.local_addr().map_err(|e| StartError::Io(e.to_string()))?;
    tracing::info!(%address, store = ?app.config.store, "hive is serving");
    let served = axum::serve(listener, router).with_graceful_shutdown(shutdown).await;
    tracing::info!("HTTP drained; stopping the consumer groups and projections");
    feeds.close().await;
    let _ = stop_tx.send(true);
    for task in tasks {
        let _ = task.await;
    }
    app.close().await;
    tracing::info!("stopped cleanly");
    served.map_err(|e| StartError::Io(format!("HTTP server failed: {e}")))
}

async fn report_lag(
    runners: Vec<Arc<hive_application::ProjectionRunner>>,
    metrics: Metrics,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        for runner in &runners {
            if let Ok(status) = runner.status().await {
                metrics.set_projection_lag(&status.name, status.lag);
            }
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received: shutting down"),
        () = terminate => tracing::info!("SIGTERM received: shutting down"),
    }
}
