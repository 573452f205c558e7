//! [`PostgresOptions`]: the schema, the pool, the timeouts.

use std::time::Duration;

use crate::error::PostgresError;

/// The longest schema name accepted: PostgreSQL's identifiers are at most 63 bytes, and the
/// notification channel `<schema>_events` must fit too.
pub const MAX_SCHEMA_LEN: usize = 56;

/// Everything configurable about the PostgreSQL adapters.
///
/// ```
/// use std::time::Duration;
/// use hive_store_postgres::PostgresOptions;
///
/// let options = PostgresOptions::default()
///     .with_schema("billing_eu")
///     .with_pool_size(32)
///     .with_wait_timeout(Duration::from_secs(5));
/// assert_eq!(options.schema, "billing_eu");
/// assert_eq!(options.notification_channel(), "billing_eu_events");
/// assert!(PostgresOptions::default().with_schema("no; DROP").validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// The schema every table lives in (default `hive`), created at connect when missing. A
    /// lower-case letter or `_`, then lower-case letters, digits and `_`, at most
    /// [`MAX_SCHEMA_LEN`] bytes.
    pub schema: String,
    /// The most connections the pool opens (default 16).
    pub pool_size: usize,
    /// How long a caller waits for a free connection before the store answers
    /// [`hive_domain::EventStoreError::Unavailable`] (default 30 s).
    pub wait_timeout: Duration,
    /// How long opening one connection may take (default 10 s).
    pub connect_timeout: Duration,
    /// The `idle_in_transaction_session_timeout` of the pool's connections (default 10 s): a
    /// client that stops inside a transaction (a frozen process, a lost network) has it rolled
    /// back by the server after this long, so an append cut off while it holds the global
    /// position row cannot stop the other writers for longer (ADR 0009). `None` leaves the
    /// server's setting.
    pub idle_in_transaction_timeout: Option<Duration>,
    /// How often [`crate::Notifications`] read the head position besides listening (default
    /// 1 s): the fallback when a notification is lost with its connection.
    pub notification_poll: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            schema: "hive".into(),
            pool_size: 16,
            wait_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            idle_in_transaction_timeout: Some(Duration::from_secs(10)),
            notification_poll: Duration::from_secs(1),
        }
    }
}

impl PostgresOptions {
    /// Sets the schema.
    #[must_use]
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// Sets the pool's size (at least 1).
    #[must_use]
    pub fn with_pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// Sets how long a caller waits for a free connection.
    #[must_use]
    pub fn with_wait_timeout(mut self, timeout: Duration) -> Self {
        self.wait_timeout = timeout;
        self
    }

    /// Sets how long opening a connection may take.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the `idle_in_transaction_session_timeout` of the pool's connections (`None`: the
    /// server's).
    #[must_use]
    pub fn with_idle_in_transaction_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_in_transaction_timeout = timeout;
        self
    }

    /// Sets how often notifications poll the head position besides listening.
    #[must_use]
    pub fn with_notification_poll(mut self, every: Duration) -> Self {
        self.notification_poll = every;
        self
    }

    /// The `LISTEN`/`NOTIFY` channel appends notify: `<schema>_events`.
    pub fn notification_channel(&self) -> String {
        format!("{}_events", self.schema)
    }

    /// Checks the schema name ([`PostgresError::InvalidSchema`] when it is not one).
    pub fn validate(&self) -> Result<(), PostgresError> {
        let mut chars = self.schema.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_');
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        let reserved = self.schema.starts_with("pg_") || self.schema == "information_schema";
        if first_ok && rest_ok && !reserved && self.schema.len() <= MAX_SCHEMA_LEN {
            Ok(())
        } else {
            Err(PostgresError::InvalidSchema(self.schema.clone()))
        }
    }

    /// The schema as a quoted SQL identifier (`"hive"`). Only valid after [`Self::validate`].
    pub(crate) fn quoted_schema(&self) -> String {
        quote_identifier(&self.schema)
    }
}

/// `name` as a quoted SQL identifier (double quotes doubled).
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_schema_names_are_accepted() {
        for good in ["hive", "_x", "hive_test_0123abcd", &"a".repeat(MAX_SCHEMA_LEN)] {
            assert!(
                PostgresOptions::default().with_schema(good).validate().is_ok(),
                "{good}"
            );
        }
        for bad in [
            "",
            "Hive",
            "1hive",
            "hi-ve",
            "hi\"ve",
            "pg_catalog",
            "information_schema",
            &"a".repeat(MAX_SCHEMA_LEN + 1),
        ] {
            assert!(PostgresOptions::default().with_schema(bad).validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_identifier("hive"), "\"hive\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
    }
}
