//! [`PostgresError`]: what the driver, the pool and the migrations fail with, and how each
//! maps to the ports' [`EventStoreError`].

use deadpool_postgres::PoolError;
use hive_domain::EventStoreError;
use tokio_postgres::error::SqlState;

/// Everything the PostgreSQL adapters can fail with. The ports see it as an
/// [`EventStoreError`] (`From`): a server that cannot be reached, a pool with no free
/// connection in time, or a connection lost is `Unavailable`; stored data that cannot be read
/// back is `Corrupt`; the rest is `Backend`.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    /// The connection URL does not parse.
    #[error("invalid PostgreSQL URL: {0}")]
    InvalidUrl(String),
    /// The pool could not be built from the configuration.
    #[error("PostgreSQL configuration: {0}")]
    Config(String),
    /// The schema name is not a plain lower-case identifier (see
    /// [`crate::PostgresOptions::schema`]).
    #[error(
        "invalid schema name `{0}`: use a lower-case letter or `_`, then lower-case letters, digits or `_` \
         (at most {max} bytes, not `pg_…`)",
        max = crate::options::MAX_SCHEMA_LEN
    )]
    InvalidSchema(String),
    /// The pool could not hand out a connection.
    #[error("PostgreSQL connection pool: {0}")]
    Pool(#[from] PoolError),
    /// A statement failed; a server's refusal shows its message and SQLSTATE.
    #[error("PostgreSQL {what}: {}", describe(source))]
    Query {
        /// What was being done.
        what: &'static str,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// A migration could not be applied (nothing of it was: migrations run in one transaction).
    #[error("PostgreSQL migration {version} ({name}): {source}")]
    Migration {
        /// The migration's version.
        version: i32,
        /// Its name.
        name: &'static str,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The schema holds a migration this version of the crate does not know: a newer Hive
    /// wrote it.
    #[error("the schema was migrated by a newer Hive (migration {version} `{name}` is unknown here)")]
    UnknownMigration {
        /// The recorded version.
        version: i32,
        /// Its recorded name.
        name: String,
    },
    /// A stored row cannot be read back.
    #[error("corrupt record {record}: {reason}")]
    Corrupt {
        /// Which row.
        record: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl PostgresError {
    /// A closure wrapping a driver error as [`PostgresError::Query`] about `what`.
    pub(crate) fn query(what: &'static str) -> impl Fn(tokio_postgres::Error) -> Self {
        move |source| Self::Query { what, source }
    }

    /// A stored row that does not decode.
    #[allow(dead_code)] // the event store's decoding (next commit) uses it
    pub(crate) fn corrupt(record: impl Into<String>, reason: impl ToString) -> Self {
        Self::Corrupt {
            record: record.into(),
            reason: reason.to_string(),
        }
    }

    /// Whether the server could not be reached or the connection was lost: nothing was done.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Pool(PoolError::Timeout(_) | PoolError::Closed) => true,
            // The server answered (a wrong password, an unknown database): not a matter of reach.
            Self::Pool(PoolError::Backend(source)) => driver_unavailable(source),
            Self::Pool(_) => false,
            Self::Query { source, .. } | Self::Migration { source, .. } => driver_unavailable(source),
            _ => false,
        }
    }

    /// The SQLSTATE of a failed statement.
    pub fn code(&self) -> Option<&SqlState> {
        match self {
            Self::Query { source, .. } | Self::Migration { source, .. } => source.code(),
            Self::Pool(PoolError::Backend(source)) => source.code(),
            _ => None,
        }
    }
}

/// A driver error as people read it: the driver's own words, and for a server's refusal its
/// message and SQLSTATE (`db error: <message> (<code>)`; the driver alone says `db error`).
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{error}: {} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}

/// Whether a driver error means the server is out of reach (a closed connection, an I/O error,
/// connection exceptions `08…`, a shutting-down server, too many connections).
fn driver_unavailable(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    match error.code() {
        Some(code) => {
            code.code().starts_with("08")
                || *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
                || *code == SqlState::TOO_MANY_CONNECTIONS
        }
        // No SQLSTATE: the error came from the connection itself (I/O, a timeout), not the server.
        None => error.as_db_error().is_none(),
    }
}

impl From<PostgresError> for EventStoreError {
    fn from(error: PostgresError) -> Self {
        match error {
            PostgresError::Corrupt { record, reason } => EventStoreError::Corrupt { record, reason },
            error if error.is_unavailable() => EventStoreError::Unavailable(error.to_string()),
            error => EventStoreError::Backend(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_rows_stay_corrupt_and_bad_schemas_are_backend_errors() {
        let corrupt: EventStoreError = PostgresError::corrupt("event 7", "bad uuid").into();
        assert_eq!(
            corrupt,
            EventStoreError::Corrupt {
                record: "event 7".into(),
                reason: "bad uuid".into()
            }
        );
        let schema: EventStoreError = PostgresError::InvalidSchema("X".into()).into();
        assert!(matches!(schema, EventStoreError::Backend(m) if m.contains("`X`")));
    }

    #[test]
    fn a_pool_timeout_is_unavailable() {
        let timeout = PostgresError::Pool(PoolError::Timeout(deadpool_postgres::TimeoutType::Wait));
        assert!(timeout.is_unavailable());
        assert!(matches!(
            EventStoreError::from(timeout),
            EventStoreError::Unavailable(_)
        ));
    }
}
