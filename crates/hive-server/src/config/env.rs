//! The environment layer: `HIVE_…` variables.

use super::{ConfigError, Layer};

/// Reads the `HIVE_…` variables through `get` (so tests need not touch the process
/// environment).
pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Layer, ConfigError> {
    let number = |key: &str| -> Result<Option<u64>, ConfigError> {
        get(key)
            .map(|v| {
                v.parse()
                    .map_err(|_| ConfigError::new(key, Some(&v), "expected a whole number"))
            })
            .transpose()
    };
    Ok(Layer {
        http_addr: get("HIVE_HTTP_ADDR"),
        data_dir: get("HIVE_DATA_DIR"),
        store: get("HIVE_STORE"),
        search: get("HIVE_SEARCH"),
        cache: get("HIVE_CACHE"),
        fsync: get("HIVE_FSYNC"),
        body_cache_mib: number("HIVE_BODY_CACHE_MIB")?,
        views_cache_mib: number("HIVE_VIEWS_CACHE_MIB")?,
        log_format: get("HIVE_LOG_FORMAT"),
        mongodb_uri: get("HIVE_MONGODB_URI"),
        mongodb_database: get("HIVE_MONGODB_DATABASE"),
        elasticsearch_url: get("HIVE_ELASTICSEARCH_URL"),
        elasticsearch_index_prefix: get("HIVE_ELASTICSEARCH_INDEX_PREFIX"),
        redis_url: get("HIVE_REDIS_URL"),
        postgres_url: get("HIVE_POSTGRES_URL"),
        postgres_schema: get("HIVE_POSTGRES_SCHEMA"),
        connector: get("HIVE_CONNECTOR"),
        nats_url: get("HIVE_NATS_URL"),
        nats_stream: get("HIVE_NATS_STREAM"),
        nats_subject_prefix: get("HIVE_NATS_SUBJECT_PREFIX"),
        body_limit: number("HIVE_HTTP_BODY_LIMIT")?,
        request_timeout_secs: number("HIVE_HTTP_REQUEST_TIMEOUT_SECS")?,
        subscription_max_deliveries: number("HIVE_SUBSCRIPTIONS_MAX_DELIVERIES")?,
        subscription_max_in_flight: number("HIVE_SUBSCRIPTIONS_MAX_IN_FLIGHT")?,
        subscription_stall_timeout_secs: number("HIVE_SUBSCRIPTIONS_STALL_TIMEOUT_SECS")?,
        tokens: None,
    })
}
