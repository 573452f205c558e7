//! Configuration, layered: defaults < `hive.toml` < environment (`HIVE_…`) < command-line flags.
//!
//! Every layer is a [`Layer`] of optional values; [`Config::resolve`] merges them and checks
//! each value, so an invalid configuration fails at start with a message naming the key and
//! the allowed values.

mod checks;
mod env;
mod file;
mod kinds;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use env::from_env;
pub use file::from_file;
pub use kinds::{CacheKind, ConnectorKind, FsyncSetting, LogFormat, SearchKind, StoreKind};

/// An invalid configuration value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration `{key}`{}: {message}", .value.as_deref().map(|v| format!(" = `{v}`")).unwrap_or_default())]
pub struct ConfigError {
    /// The key (`store`, `HIVE_STORE`, `auth.tokens[0].token`, …).
    pub key: String,
    /// The value given, if any.
    pub value: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(key: impl Into<String>, value: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.map(str::to_owned),
            message: message.into(),
        }
    }
}

/// One bearer token and who it stands for: `hive_http`'s own [`hive_http::ApiToken`], read
/// from `[[auth.tokens]]`.
///
/// `roles` is optional: a token without it is a `writer` (what every token could do before
/// roles were enforced); an unknown role name, an empty list or an unknown field fails the
/// configuration with a message naming the token's user and the roles (see
/// [`hive_http::token_roles`]).
pub type TokenConfig = hive_http::ApiToken;

/// One layer of configuration: every value optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layer {
    /// `http_addr` / `HIVE_HTTP_ADDR` / `--http-addr`.
    pub http_addr: Option<String>,
    /// `data_dir` / `HIVE_DATA_DIR` / `--data-dir`.
    pub data_dir: Option<String>,
    /// `store` / `HIVE_STORE` / `--store`.
    pub store: Option<String>,
    /// `search` / `HIVE_SEARCH` / `--search`.
    pub search: Option<String>,
    /// `cache` / `HIVE_CACHE` / `--cache`.
    pub cache: Option<String>,
    /// `fsync` / `HIVE_FSYNC`.
    pub fsync: Option<String>,
    /// `body_cache_mib` / `HIVE_BODY_CACHE_MIB`.
    pub body_cache_mib: Option<u64>,
    /// `views_cache_mib` / `HIVE_VIEWS_CACHE_MIB`.
    pub views_cache_mib: Option<u64>,
    /// `log_format` / `HIVE_LOG_FORMAT`.
    pub log_format: Option<String>,
    /// `mongodb.uri` / `HIVE_MONGODB_URI`.
    pub mongodb_uri: Option<String>,
    /// `mongodb.database` / `HIVE_MONGODB_DATABASE`.
    pub mongodb_database: Option<String>,
    /// `elasticsearch.url` / `HIVE_ELASTICSEARCH_URL`.
    pub elasticsearch_url: Option<String>,
    /// `elasticsearch.index_prefix` / `HIVE_ELASTICSEARCH_INDEX_PREFIX`.
    pub elasticsearch_index_prefix: Option<String>,
    /// `redis.url` / `HIVE_REDIS_URL`.
    pub redis_url: Option<String>,
    /// `postgres.url` / `HIVE_POSTGRES_URL`.
    pub postgres_url: Option<String>,
    /// `postgres.schema` / `HIVE_POSTGRES_SCHEMA`.
    pub postgres_schema: Option<String>,
    /// `connector` / `HIVE_CONNECTOR`.
    pub connector: Option<String>,
    /// `nats.url` / `HIVE_NATS_URL`.
    pub nats_url: Option<String>,
    /// `nats.stream` / `HIVE_NATS_STREAM`.
    pub nats_stream: Option<String>,
    /// `nats.subject_prefix` / `HIVE_NATS_SUBJECT_PREFIX`.
    pub nats_subject_prefix: Option<String>,
    /// `http.body_limit` (bytes).
    pub body_limit: Option<u64>,
    /// `http.request_timeout_secs`.
    pub request_timeout_secs: Option<u64>,
    /// `subscriptions.max_deliveries` / `HIVE_SUBSCRIPTIONS_MAX_DELIVERIES`.
    pub subscription_max_deliveries: Option<u64>,
    /// `subscriptions.max_in_flight` / `HIVE_SUBSCRIPTIONS_MAX_IN_FLIGHT`.
    pub subscription_max_in_flight: Option<u64>,
    /// `subscriptions.stall_timeout_secs` / `HIVE_SUBSCRIPTIONS_STALL_TIMEOUT_SECS`.
    pub subscription_stall_timeout_secs: Option<u64>,
    /// `[[auth.tokens]]`.
    pub tokens: Option<Vec<TokenConfig>>,
}

impl Layer {
    /// This layer, with `over`'s values where it has them.
    #[must_use]
    pub fn overridden_by(self, over: Layer) -> Layer {
        Layer {
            http_addr: over.http_addr.or(self.http_addr),
            data_dir: over.data_dir.or(self.data_dir),
            store: over.store.or(self.store),
            search: over.search.or(self.search),
            cache: over.cache.or(self.cache),
            fsync: over.fsync.or(self.fsync),
            body_cache_mib: over.body_cache_mib.or(self.body_cache_mib),
            views_cache_mib: over.views_cache_mib.or(self.views_cache_mib),
            log_format: over.log_format.or(self.log_format),
            mongodb_uri: over.mongodb_uri.or(self.mongodb_uri),
            mongodb_database: over.mongodb_database.or(self.mongodb_database),
            elasticsearch_url: over.elasticsearch_url.or(self.elasticsearch_url),
            elasticsearch_index_prefix: over.elasticsearch_index_prefix.or(self.elasticsearch_index_prefix),
            redis_url: over.redis_url.or(self.redis_url),
            postgres_url: over.postgres_url.or(self.postgres_url),
            postgres_schema: over.postgres_schema.or(self.postgres_schema),
            connector: over.connector.or(self.connector),
            nats_url: over.nats_url.or(self.nats_url),
            nats_stream: over.nats_stream.or(self.nats_stream),
            nats_subject_prefix: over.nats_subject_prefix.or(self.nats_subject_prefix),
            body_limit: over.body_limit.or(self.body_limit),
            request_timeout_secs: over.request_timeout_secs.or(self.request_timeout_secs),
            subscription_max_deliveries: over.subscription_max_deliveries.or(self.subscription_max_deliveries),
            subscription_max_in_flight: over.subscription_max_in_flight.or(self.subscription_max_in_flight),
            subscription_stall_timeout_secs: over
                .subscription_stall_timeout_secs
                .or(self.subscription_stall_timeout_secs),
            tokens: over.tokens.or(self.tokens),
        }
    }
}

/// The resolved configuration of a Hive process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the HTTP API listens.
    pub http_addr: SocketAddr,
    /// Where the embedded durable store keeps its files.
    pub data_dir: PathBuf,
    /// The event store.
    pub store: StoreKind,
    /// The payment search index.
    pub search: SearchKind,
    /// The query cache.
    pub cache: CacheKind,
    /// The durable log's fsync policy.
    pub fsync: FsyncSetting,
    /// The durable store's cache of event bodies read from its log, in bytes (0: none).
    pub body_cache_bytes: u64,
    /// The page cache of the durable store's payment views file (`payments.views`), in bytes.
    pub views_cache_bytes: u64,
    /// Log output.
    pub log_format: LogFormat,
    /// MongoDB connection string.
    pub mongodb_uri: Option<String>,
    /// MongoDB database.
    pub mongodb_database: String,
    /// Elasticsearch URL (`http://user:password@host:9200` for basic authentication).
    pub elasticsearch_url: Option<String>,
    /// The prefix of every Elasticsearch index (`{prefix}-events`, …, `{prefix}-payments`);
    /// `None`: the adapter's defaults (`hive-events`, …, `payments`).
    pub elasticsearch_index_prefix: Option<String>,
    /// Redis URL.
    pub redis_url: Option<String>,
    /// PostgreSQL connection URL (`postgres://user:password@host:5432/database`).
    pub postgres_url: Option<String>,
    /// The PostgreSQL schema Hive's tables live in; `None`: the adapter's default (`hive`).
    pub postgres_schema: Option<String>,
    /// Where the global log is published (`none`: nowhere).
    pub connector: ConnectorKind,
    /// NATS server URL (`nats://host:4222`), for `connector = "nats"`.
    pub nats_url: Option<String>,
    /// The JetStream stream; `None`: the adapter's default (`HIVE_EVENTS`).
    pub nats_stream: Option<String>,
    /// The subject prefix; `None`: the adapter's default (`hive.events`).
    pub nats_subject_prefix: Option<String>,
    /// Largest request body accepted.
    pub body_limit: usize,
    /// Longest a request may take.
    pub request_timeout: Duration,
    /// How the subscription groups treat their consumers.
    pub subscriptions: SubscriptionSettings,
    /// Configured bearer tokens (empty: a development token is made).
    pub tokens: Vec<TokenConfig>,
}

/// How the subscription groups treat their consumers (`[subscriptions]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionSettings {
    /// Deliveries without an acknowledgement after which an event is parked.
    pub max_deliveries: u32,
    /// Unacknowledged events one consumer may hold.
    pub max_in_flight: usize,
    /// How long a consumer may leave the events waiting for it before it is closed.
    pub stall_timeout: Duration,
}

/// The default size of the durable store's body cache, in MiB.
pub const DEFAULT_BODY_CACHE_MIB: u64 = 64;
/// The largest body cache accepted, in MiB (1 TiB).
const MAX_BODY_CACHE_MIB: u64 = 1024 * 1024;
/// The default page cache of the durable store's payment views, in MiB.
pub const DEFAULT_VIEWS_CACHE_MIB: u64 = 32;
/// The largest payment views cache accepted, in MiB (1 TiB).
const MAX_VIEWS_CACHE_MIB: u64 = 1024 * 1024;

impl Config {
    /// The defaults, as a layer.
    pub fn defaults() -> Layer {
        Layer {
            http_addr: Some("127.0.0.1:8080".into()),
            data_dir: Some("./hive-data".into()),
            store: Some("memory-durable".into()),
            search: Some("memory".into()),
            cache: Some("moka".into()),
            fsync: Some("always".into()),
            body_cache_mib: Some(DEFAULT_BODY_CACHE_MIB),
            views_cache_mib: Some(DEFAULT_VIEWS_CACHE_MIB),
            log_format: Some("text".into()),
            connector: Some("none".into()),
            mongodb_database: Some("Gyroscops Cloud".into()),
            body_limit: Some(64 * 1024),
            request_timeout_secs: Some(30),
            subscription_max_deliveries: Some(5),
            subscription_max_in_flight: Some(1_000),
            subscription_stall_timeout_secs: Some(30),
            ..Layer::default()
        }
    }

    /// Checks a merged layer and turns it into a configuration.
    pub fn resolve(layer: Layer) -> Result<Config, ConfigError> {
        let text = |value: Option<String>, key: &str| value.ok_or_else(|| ConfigError::new(key, None, "missing"));
        let http_addr = text(layer.http_addr, "http_addr")?;
        let http_addr = http_addr
            .parse()
            .map_err(|_| ConfigError::new("http_addr", Some(&http_addr), "expected an address like 127.0.0.1:8080"))?;
        let store: StoreKind = kinds::parse("store", &text(layer.store, "store")?)?;
        let search: SearchKind = kinds::parse("search", &text(layer.search, "search")?)?;
        let cache: CacheKind = kinds::parse("cache", &text(layer.cache, "cache")?)?;
        let fsync = FsyncSetting::parse(&text(layer.fsync, "fsync")?)?;
        let log_format: LogFormat = kinds::parse("log_format", &text(layer.log_format, "log_format")?)?;
        let connector: ConnectorKind = kinds::parse("connector", &text(layer.connector, "connector")?)?;
        let body_limit = layer.body_limit.unwrap_or(64 * 1024);
        if !(1024..=64 * 1024 * 1024).contains(&body_limit) {
            return Err(ConfigError::new(
                "http.body_limit",
                Some(&body_limit.to_string()),
                "expected 1024 to 67108864 bytes",
            ));
        }
        let body_cache_mib = layer.body_cache_mib.unwrap_or(DEFAULT_BODY_CACHE_MIB);
        if body_cache_mib > MAX_BODY_CACHE_MIB {
            return Err(ConfigError::new(
                "body_cache_mib",
                Some(&body_cache_mib.to_string()),
                format!("expected 0 to {MAX_BODY_CACHE_MIB} (MiB)"),
            ));
        }
        let views_cache_mib = layer.views_cache_mib.unwrap_or(DEFAULT_VIEWS_CACHE_MIB);
        if !(1..=MAX_VIEWS_CACHE_MIB).contains(&views_cache_mib) {
            return Err(ConfigError::new(
                "views_cache_mib",
                Some(&views_cache_mib.to_string()),
                format!("expected 1 to {MAX_VIEWS_CACHE_MIB} (MiB)"),
            ));
        }
        let timeout = layer.request_timeout_secs.unwrap_or(30);
        if !(1..=3600).contains(&timeout) {
            return Err(ConfigError::new(
                "http.request_timeout_secs",
                Some(&timeout.to_string()),
                "expected 1 to 3600",
            ));
        }
        let subscriptions = SubscriptionSettings {
            max_deliveries: in_range(
                layer.subscription_max_deliveries,
                5,
                "subscriptions.max_deliveries",
                1,
                1_000,
            )?,
            max_in_flight: in_range(
                layer.subscription_max_in_flight,
                1_000,
                "subscriptions.max_in_flight",
                1,
                100_000,
            )?,
            stall_timeout: Duration::from_secs(in_range(
                layer.subscription_stall_timeout_secs,
                30,
                "subscriptions.stall_timeout_secs",
                1,
                3_600,
            )?),
        };
        let tokens = layer.tokens.unwrap_or_default();
        for (i, token) in tokens.iter().enumerate() {
            if token.token.len() < 16 {
                return Err(ConfigError::new(
                    format!("auth.tokens[{i}].token"),
                    None,
                    "must be at least 16 characters",
                ));
            }
            if token.organization.trim().is_empty() || token.user.trim().is_empty() {
                return Err(ConfigError::new(
                    format!("auth.tokens[{i}]"),
                    None,
                    "organization and user must not be empty",
                ));
            }
        }
        let config = Config {
            http_addr,
            data_dir: PathBuf::from(text(layer.data_dir, "data_dir")?),
            store,
            search,
            cache,
            fsync,
            body_cache_bytes: body_cache_mib * 1024 * 1024,
            views_cache_bytes: views_cache_mib * 1024 * 1024,
            log_format,
            mongodb_uri: layer.mongodb_uri,
            mongodb_database: layer.mongodb_database.unwrap_or_else(|| "Gyroscops Cloud".into()),
            elasticsearch_url: layer.elasticsearch_url,
            elasticsearch_index_prefix: layer.elasticsearch_index_prefix,
            redis_url: layer.redis_url,
            postgres_url: layer.postgres_url,
            postgres_schema: layer.postgres_schema,
            connector,
            nats_url: layer.nats_url,
            nats_stream: layer.nats_stream,
            nats_subject_prefix: layer.nats_subject_prefix,
            body_limit: usize::try_from(body_limit).unwrap_or(usize::MAX),
            request_timeout: Duration::from_secs(timeout),
            subscriptions,
            tokens,
        };
        config.check_available()?;
        config.check_connections()?;
        Ok(config)
    }

    /// Reads every layer: defaults, the file named by `HIVE_CONFIG` or `config_path` (when
    /// present), the environment, then `flags`.
    pub fn load(config_path: Option<PathBuf>, flags: Layer) -> Result<Config, ConfigError> {
        let environment = from_env(|key| std::env::var(key).ok())?;
        let path = config_path.or_else(|| std::env::var_os("HIVE_CONFIG").map(PathBuf::from));
        let file = match path {
            Some(path) => from_file(&path)?,
            None if std::path::Path::new("hive.toml").exists() => from_file(std::path::Path::new("hive.toml"))?,
            None => Layer::default(),
        };
        Config::resolve(
            Config::defaults()
                .overridden_by(file)
                .overridden_by(environment)
                .overridden_by(flags),
        )
    }
}

/// `value` (else `default`) if within `min..=max`, else the error naming `key`.
fn in_range<T: TryFrom<u64>>(
    value: Option<u64>,
    default: u64,
    key: &str,
    min: u64,
    max: u64,
) -> Result<T, ConfigError> {
    let value = value.unwrap_or(default);
    match T::try_from(value) {
        Ok(fits) if (min..=max).contains(&value) => Ok(fits),
        _ => Err(ConfigError::new(
            key,
            Some(&value.to_string()),
            format!("expected {min} to {max}"),
        )),
    }
}

#[cfg(test)]
mod tests;
