//! The application layer's error: what a command or query can fail with.

use std::time::Duration;

use hive_domain::{Capability, CodecError, EventStoreError};
use thiserror::Error;

/// One invalid field of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as the client named it (e.g. `amount`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// Why a command or query did not succeed. Cloneable so an idempotent replay can return the
/// first answer again; each variant maps to one HTTP status in the driving adapter.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApplicationError {
    /// No handler is registered for this message type.
    #[error("no handler registered for `{message_type}`")]
    NotRegistered {
        /// The message type.
        message_type: &'static str,
    },
    /// The message is malformed (one entry per bad field).
    #[error("invalid message: {}", describe(.0))]
    Validation(Vec<FieldError>),
    /// What the message refers to does not exist (or belongs to another tenant).
    #[error("{what} `{id}` not found")]
    NotFound {
        /// The kind of thing (e.g. `payment`).
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// A domain invariant refused the command.
    #[error("{message}")]
    Domain {
        /// A stable machine-readable code (e.g. `payment_not_pending`).
        code: &'static str,
        /// A human-readable explanation.
        message: String,
    },
    /// The caller may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Optimistic concurrency conflict that retries did not resolve.
    #[error("concurrency conflict on `{aggregate_id}`: expected version {expected}, actual {actual}")]
    Conflict {
        /// The stream.
        aggregate_id: String,
        /// The version the command was decided on.
        expected: u64,
        /// The version found in the store.
        actual: u64,
    },
    /// The handler did not finish in time.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The event store lacks an optional capability this message needs (see
    /// [`hive_domain::StoreCapabilities`]); the same message will fail the same way.
    #[error("the event store does not support `{capability}`")]
    Unsupported {
        /// The missing capability.
        capability: Capability,
    },
    /// A backend is unreachable; nothing was written.
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected backend failure.
    #[error("internal error: {0}")]
    Internal(String),
}

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ApplicationError {
    /// A validation error on one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// A domain rejection.
    pub fn domain(code: &'static str, message: impl Into<String>) -> Self {
        Self::Domain {
            code,
            message: message.into(),
        }
    }

    /// The event store lacks `capability`.
    pub fn unsupported(capability: Capability) -> Self {
        Self::Unsupported { capability }
    }

    /// A missing entity.
    pub fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        Self::NotFound { what, id: id.into() }
    }

    /// True for failures worth retrying later with the same message (the backend was down or
    /// slow); an idempotent replay does not remember these.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Timeout(_) | Self::Unavailable(_) | Self::Internal(_) | Self::Conflict { .. }
        )
    }
}

impl From<EventStoreError> for ApplicationError {
    fn from(err: EventStoreError) -> Self {
        match err {
            EventStoreError::Conflict {
                aggregate_id,
                expected,
                actual,
            } => Self::Conflict {
                aggregate_id,
                expected,
                actual,
            },
            EventStoreError::Unavailable(msg) => Self::Unavailable(msg),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<CodecError> for ApplicationError {
    fn from(err: CodecError) -> Self {
        Self::Internal(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_typed_application_errors() {
        let conflict = EventStoreError::Conflict {
            aggregate_id: "a".into(),
            expected: 1,
            actual: 2,
        };
        assert_eq!(
            ApplicationError::from(conflict),
            ApplicationError::Conflict {
                aggregate_id: "a".into(),
                expected: 1,
                actual: 2
            }
        );
        assert!(matches!(
            ApplicationError::from(EventStoreError::Unavailable("x".into())),
            ApplicationError::Unavailable(_)
        ));
        assert!(matches!(
            ApplicationError::from(EventStoreError::Backend("x".into())),
            ApplicationError::Internal(_)
        ));
    }

    #[test]
    fn validation_message_names_the_fields() {
        let err = ApplicationError::Validation(vec![
            FieldError {
                field: "amount".into(),
                message: "must be positive".into(),
            },
            FieldError {
                field: "currency".into(),
                message: "unknown".into(),
            },
        ]);
        assert_eq!(
            err.to_string(),
            "invalid message: amount: must be positive; currency: unknown"
        );
    }
}
