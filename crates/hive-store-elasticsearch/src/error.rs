//! [`EsError`]: what can go wrong talking to Elasticsearch, each case with what to do about it.

use hive_domain::EventStoreError;
use thiserror::Error;

/// An Elasticsearch failure.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EsError {
    /// Nothing answers at the configured URL.
    #[error("cannot connect to Elasticsearch at {url}: {reason}; is the cluster running and `elasticsearch.url` (HIVE_ELASTICSEARCH_URL) right?")]
    Connection {
        /// The cluster URL.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// The cluster rejected the request for load (HTTP 429); bulk writes retry these with backoff.
    #[error("Elasticsearch is overloaded (429 {kind}): {reason}; retry later or slow the writers")]
    TooManyRequests {
        /// The error type Elasticsearch named.
        kind: String,
        /// Its reason.
        reason: String,
    },
    /// The cluster or the index is not available (HTTP 503, e.g. no primary shard yet).
    #[error("Elasticsearch is unavailable (503 {kind}): {reason}; check `GET _cluster/health`")]
    Unavailable {
        /// The error type Elasticsearch named.
        kind: String,
        /// Its reason.
        reason: String,
    },
    /// A document does not fit the index mapping (a field mapped with another type).
    #[error("mapping conflict in index `{index}` ({kind}): {reason}; a field changed type — fix the data or reindex")]
    MappingConflict {
        /// The index.
        index: String,
        /// The error type Elasticsearch named.
        kind: String,
        /// Its reason.
        reason: String,
    },
    /// Any other error status.
    #[error("Elasticsearch answered {status} ({kind}) to {method} {path}: {reason}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Request method.
        method: String,
        /// Request path.
        path: String,
        /// The error type Elasticsearch named.
        kind: String,
        /// Its reason.
        reason: String,
    },
    /// A response body did not have the expected shape.
    #[error("unexpected Elasticsearch response to {what}: {reason}")]
    Decode {
        /// Which request.
        what: String,
        /// What was wrong.
        reason: String,
    },
    /// The client could not be built or the request could not be sent.
    #[error("Elasticsearch client error: {0}")]
    Client(String),
}

impl EsError {
    /// Whether retrying later may succeed (429, 503, connection failures).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Connection { .. } | Self::TooManyRequests { .. } | Self::Unavailable { .. }
        )
    }

    pub(crate) fn decode(what: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Self::Decode {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}

impl From<EsError> for EventStoreError {
    fn from(error: EsError) -> Self {
        if error.is_transient() {
            EventStoreError::Unavailable(error.to_string())
        } else {
            EventStoreError::Backend(error.to_string())
        }
    }
}

/// Results of this crate.
pub type EsResult<T> = Result<T, EsError>;
