//! Prometheus metrics of the API, in a registry of its own (no global recorder, so several
//! servers can run in one process).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The route label of requests that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: RouteLabel,
    status: u16,
}

/// The `route` label: the path template axum matched ([`MatchedPath`], shared, not copied), or
/// [`UNMATCHED_ROUTE`].
#[derive(Clone, Debug)]
struct RouteLabel(Option<MatchedPath>);

impl RouteLabel {
    fn as_str(&self) -> &str {
        self.0.as_ref().map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
    }
}

impl PartialEq for RouteLabel {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RouteLabel {}

impl std::hash::Hash for RouteLabel {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for RouteLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> std::fmt::Result {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    command: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    level: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LevelLabels {
    level: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProjectionLabels {
    projection: String,
}

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram>,
    commands: Family<CommandLabels, Counter>,
    conflicts: Counter,
    retries: Counter,
    cache: Family<CacheLabels, Counter>,
    cache_invalidations: Family<LevelLabels, Counter>,
    cache_errors: Family<LevelLabels, Counter>,
    projection_lag: Family<ProjectionLabels, Gauge>,
}

/// The API's metrics. Cheap to clone (an `Arc` inside); each instance has its own registry.
///
/// | metric | labels |
/// |---|---|
/// | `hive_http_requests_total` | `method`, `route` (the matched path template), `status` |
/// | `hive_http_request_duration_seconds` (histogram) | `method`, `route`, `status` |
/// | `hive_commands_total` | `command`, `outcome` (`ok` or the problem code) |
/// | `hive_concurrency_conflicts_total` | — (conflicts left after the bus's retries: `409`s) |
/// | `hive_command_retries_total` | — (the command bus's retries after conflicts, process-wide) |
/// | `hive_cache_requests_total` | `level`, `result` (`hit`/`miss`: the query cache's look-ups, process-wide, plus [`Metrics::record_cache`]) |
/// | `hive_cache_invalidations_total` | `level` (tags invalidated, by this process's events or heard from others) |
/// | `hive_cache_errors_total` | `level` (failed cache calls, e.g. Redis down: each was a miss or a skipped write) |
/// | `hive_projection_lag` (gauge) | `projection` |
///
/// ```
/// let metrics = hive_http::Metrics::new();
/// metrics.set_projection_lag("payments", 3);
/// assert!(metrics.render().contains(r#"hive_projection_lag{projection="payments"} 3"#));
/// ```
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Fresh metrics in a registry of their own.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("hive");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.001, 2.0, 15))) as fn() -> Histogram,
        );
        let commands = Family::<CommandLabels, Counter>::default();
        let conflicts = Counter::default();
        let retries = Counter::default();
        let cache = Family::<CacheLabels, Counter>::default();
        let cache_invalidations = Family::<LevelLabels, Counter>::default();
        let cache_errors = Family::<LevelLabels, Counter>::default();
        let projection_lag = Family::<ProjectionLabels, Gauge>::default();
        registry.register("http_requests", "HTTP requests served", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, in seconds",
            latency.clone(),
        );
        registry.register("commands", "Commands sent, by type and outcome", commands.clone());
        registry.register(
            "concurrency_conflicts",
            "Concurrency conflicts left after the command bus's retries",
            conflicts.clone(),
        );
        registry.register(
            "command_retries",
            "Commands re-run after a concurrency conflict",
            retries.clone(),
        );
        registry.register(
            "cache_requests",
            "Query cache look-ups, by level and result",
            cache.clone(),
        );
        registry.register(
            "cache_invalidations",
            "Query cache tags invalidated, by level",
            cache_invalidations.clone(),
        );
        registry.register(
            "cache_errors",
            "Query cache calls that failed (a miss or a skipped write), by level",
            cache_errors.clone(),
        );
        registry.register(
            "projection_lag",
            "Events of the global log a projection has not applied yet",
            projection_lag.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                registry,
                requests,
                latency,
                commands,
                conflicts,
                retries,
                cache,
                cache_invalidations,
                cache_errors,
                projection_lag,
            }),
        }
    }

    /// Sets how far `projection` is behind the head of the event log.
    pub fn set_projection_lag(&self, projection: &str, lag: u64) {
        let labels = ProjectionLabels {
            projection: projection.to_owned(),
        };
        self.inner
            .projection_lag
            .get_or_create(&labels)
            .set(i64::try_from(lag).unwrap_or(i64::MAX));
    }

    /// Counts one command re-run after a concurrency conflict outside the command bus (the
    /// bus's own retries are read from hive-application when the metrics are rendered).
    pub fn record_retry(&self) {
        self.inner.retries.inc();
    }

    /// Brings the retry counter up to the command bus's own count of retries.
    fn sync_retries(&self, bus: &hive_application::BusMetrics) {
        let total = bus.conflict_retries();
        let seen = self.inner.retries.get();
        if total > seen {
            self.inner.retries.inc_by(total - seen);
        }
    }

    /// Brings the cache counters up to the query cache's own counters.
    fn sync_cache(&self, stats: &[hive_application::cache::LevelStats]) {
        fn raise(counter: &Counter, total: u64) {
            let seen = counter.get();
            if total > seen {
                counter.inc_by(total - seen);
            }
        }
        for level in stats {
            let labels = |result: &str| CacheLabels {
                level: level.level.to_owned(),
                result: result.to_owned(),
            };
            raise(&self.inner.cache.get_or_create(&labels("hit")), level.hits);
            raise(&self.inner.cache.get_or_create(&labels("miss")), level.misses);
            let labels = LevelLabels {
                level: level.level.to_owned(),
            };
            raise(
                &self.inner.cache_invalidations.get_or_create(&labels),
                level.invalidations,
            );
            raise(&self.inner.cache_errors.get_or_create(&labels), level.errors);
        }
    }

    /// Counts one cache look-up at `level` (e.g. `l1`, `l2`): a hit or a miss. The hook for the
    /// query cache.
    pub fn record_cache(&self, level: &str, hit: bool) {
        let labels = CacheLabels {
            level: level.to_owned(),
            result: if hit { "hit" } else { "miss" }.to_owned(),
        };
        self.inner.cache.get_or_create(&labels).inc();
    }

    /// Counts one command of type `command` with `outcome` (`ok` or a problem code).
    pub(crate) fn record_command(&self, command: &str, outcome: &str) {
        let labels = CommandLabels {
            command: command.to_owned(),
            outcome: outcome.to_owned(),
        };
        self.inner.commands.get_or_create(&labels).inc();
        if outcome == "concurrency_conflict" {
            self.inner.conflicts.inc();
        }
    }

    /// Brings the retry and cache counters up to the command bus's and the query cache's of
    /// `state` (called before rendering `/metrics`).
    pub fn observe(&self, state: &crate::ApiState) {
        self.sync_retries(state.commands.metrics());
        if let Some(cache) = &state.query_cache {
            self.sync_cache(&cache.stats());
        }
    }

    fn record_request(&self, labels: RequestLabels, seconds: f64) {
        self.inner.requests.get_or_create(&labels).inc();
        self.inner.latency.get_or_create(&labels).observe(seconds);
    }

    /// The metrics in the Prometheus (OpenMetrics) text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &self.inner.registry) {
            tracing::error!(%error, "could not encode the metrics");
        }
        text
    }
}

/// A bounded method label (unknown methods are `other`).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware: counts and times every request by method, matched route and status.
pub(crate) async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = RouteLabel(request.extensions().get::<MatchedPath>().cloned());
    let response = next.run(request).await;
    let labels = RequestLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    metrics.record_request(labels, started.elapsed().as_secs_f64());
    response
}
