//! The checks [`Config::resolve`] makes once every value parsed: adapters this build has, and
//! the server each server-backed adapter needs.

use super::{kinds, CacheKind, Config, ConfigError, ConnectorKind, SearchKind, StoreKind};

impl Config {
    /// Refuses adapters this build does not have yet, naming what it has.
    pub(super) fn check_available(&self) -> Result<(), ConfigError> {
        kinds::ensure_available(
            "store",
            self.store.as_str(),
            self.store.is_available(),
            &StoreKind::available(),
        )?;
        kinds::ensure_available(
            "search",
            self.search.as_str(),
            self.search.is_available(),
            &SearchKind::available(),
        )?;
        kinds::ensure_available(
            "cache",
            self.cache.as_str(),
            self.cache.is_available(),
            &CacheKind::available(),
        )
    }

    /// Refuses a server-backed adapter without the address of its server.
    pub(super) fn check_connections(&self) -> Result<(), ConfigError> {
        if self.store == StoreKind::Mongodb && self.mongodb_uri.as_deref().is_none_or(|u| u.trim().is_empty()) {
            return Err(ConfigError::new(
                "mongodb.uri",
                None,
                "required with store = \"mongodb\": set `[mongodb] uri` in hive.toml or HIVE_MONGODB_URI, e.g. \
                 mongodb://127.0.0.1:27017/?replicaSet=rs0",
            ));
        }
        if self.connector == ConnectorKind::Nats && self.nats_url.as_deref().is_none_or(|u| u.trim().is_empty()) {
            return Err(ConfigError::new(
                "nats.url",
                None,
                "required with connector = \"nats\": set `[nats] url` in hive.toml or HIVE_NATS_URL, e.g. \
                 nats://127.0.0.1:4222",
            ));
        }
        self.check_postgres()?;
        self.check_elasticsearch()
    }

    /// With `store = "postgres"`: a URL the driver parses (`postgres://…` or the key/value
    /// form), and a schema name the adapter accepts.
    fn check_postgres(&self) -> Result<(), ConfigError> {
        if self.store != StoreKind::Postgres {
            return Ok(());
        }
        let url = self.postgres_url.as_deref().map(str::trim).unwrap_or_default();
        if url.is_empty() {
            return Err(ConfigError::new(
                "postgres.url",
                None,
                "required with store = \"postgres\": set `[postgres] url` in hive.toml or HIVE_POSTGRES_URL, e.g. \
                 postgres://hive@127.0.0.1:5432/hive",
            ));
        }
        if let Err(error) = url.parse::<hive_store_postgres::tokio_postgres::Config>() {
            // The value is left out: it may hold a password.
            return Err(ConfigError::new(
                "postgres.url",
                None,
                format!("not a PostgreSQL connection URL ({error}), e.g. postgres://user:password@host:5432/database"),
            ));
        }
        if let Some(schema) = &self.postgres_schema {
            let options = hive_store_postgres::PostgresOptions::default().with_schema(schema.clone());
            if options.validate().is_err() {
                return Err(ConfigError::new(
                    "postgres.schema",
                    Some(schema),
                    format!(
                        "expected a lower-case letter or `_`, then lower-case letters, digits or `_` (at most {} \
                         bytes, not `pg_…`)",
                        hive_store_postgres::MAX_SCHEMA_LEN
                    ),
                ));
            }
        }
        Ok(())
    }

    /// With `store` or `search` on Elasticsearch: a `http(s)://` URL and a valid index prefix.
    fn check_elasticsearch(&self) -> Result<(), ConfigError> {
        let uses = [
            (self.store == StoreKind::Elasticsearch).then_some("store"),
            (self.search == SearchKind::Elasticsearch).then_some("search"),
        ];
        let Some(user) = uses.into_iter().flatten().next() else {
            return Ok(());
        };
        let url = self.elasticsearch_url.as_deref().map(str::trim).unwrap_or_default();
        if url.is_empty() {
            return Err(ConfigError::new(
                "elasticsearch.url",
                None,
                format!(
                    "required with {user} = \"elasticsearch\": set `[elasticsearch] url` in hive.toml or \
                     HIVE_ELASTICSEARCH_URL, e.g. http://127.0.0.1:9200"
                ),
            ));
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ConfigError::new(
                "elasticsearch.url",
                None,
                "expected an http:// or https:// URL, e.g. http://127.0.0.1:9200",
            ));
        }
        if let Some(prefix) = &self.elasticsearch_index_prefix {
            kinds::check_index_prefix(prefix)?;
        }
        Ok(())
    }
}
