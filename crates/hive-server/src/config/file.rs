//! The file layer: `hive.toml`.

use std::path::Path;

use serde::Deserialize;

use super::{ConfigError, Layer, TokenConfig};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    http_addr: Option<String>,
    data_dir: Option<String>,
    store: Option<String>,
    search: Option<String>,
    cache: Option<String>,
    fsync: Option<String>,
    body_cache_mib: Option<u64>,
    views_cache_mib: Option<u64>,
    log_format: Option<String>,
    connector: Option<String>,
    #[serde(default)]
    nats: NatsSection,
    #[serde(default)]
    mongodb: MongodbSection,
    #[serde(default)]
    elasticsearch: ElasticsearchSection,
    #[serde(default)]
    redis: RedisSection,
    #[serde(default)]
    postgres: PostgresSection,
    #[serde(default)]
    http: HttpSection,
    #[serde(default)]
    subscriptions: SubscriptionsSection,
    #[serde(default)]
    auth: AuthSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscriptionsSection {
    max_deliveries: Option<u64>,
    max_in_flight: Option<u64>,
    stall_timeout_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MongodbSection {
    uri: Option<String>,
    database: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RedisSection {
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostgresSection {
    url: Option<String>,
    schema: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ElasticsearchSection {
    url: Option<String>,
    index_prefix: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NatsSection {
    url: Option<String>,
    stream: Option<String>,
    subject_prefix: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpSection {
    body_limit: Option<u64>,
    request_timeout_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthSection {
    tokens: Option<Vec<TokenConfig>>,
}

/// Reads a `hive.toml`.
pub fn from_file(path: &Path) -> Result<Layer, ConfigError> {
    let key = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::new(&key, None, format!("cannot read: {e}")))?;
    from_toml(&text).map_err(|mut e| {
        e.key = format!("{key}: {}", e.key);
        e
    })
}

/// Parses the text of a `hive.toml`.
pub(crate) fn from_toml(text: &str) -> Result<Layer, ConfigError> {
    let file: FileConfig =
        toml::from_str(text).map_err(|e| ConfigError::new("hive.toml", None, e.message().to_owned()))?;
    Ok(Layer {
        http_addr: file.http_addr,
        data_dir: file.data_dir,
        store: file.store,
        search: file.search,
        cache: file.cache,
        fsync: file.fsync,
        body_cache_mib: file.body_cache_mib,
        views_cache_mib: file.views_cache_mib,
        log_format: file.log_format,
        mongodb_uri: file.mongodb.uri,
        mongodb_database: file.mongodb.database,
        elasticsearch_url: file.elasticsearch.url,
        elasticsearch_index_prefix: file.elasticsearch.index_prefix,
        redis_url: file.redis.url,
        postgres_url: file.postgres.url,
        postgres_schema: file.postgres.schema,
        connector: file.connector,
        nats_url: file.nats.url,
        nats_stream: file.nats.stream,
        nats_subject_prefix: file.nats.subject_prefix,
        body_limit: file.http.body_limit,
        request_timeout_secs: file.http.request_timeout_secs,
        subscription_max_deliveries: file.subscriptions.max_deliveries,
        subscription_max_in_flight: file.subscriptions.max_in_flight,
        subscription_stall_timeout_secs: file.subscriptions.stall_timeout_secs,
        tokens: file.auth.tokens,
    })
}
