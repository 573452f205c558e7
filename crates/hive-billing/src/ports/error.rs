//! The error of the billing read-side ports.

use hive_application::ApplicationError;
use hive_domain::EventStoreError;

/// What a [`crate::PaymentReadModel`] or [`crate::PaymentSearchIndex`] can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillingStoreError {
    /// The backend cannot be reached right now; nothing was written.
    #[error("billing store unavailable: {0}")]
    Unavailable(String),
    /// A stored record could not be read back.
    #[error("corrupt billing record `{record}`: {reason}")]
    Corrupt {
        /// Which record.
        record: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Any other backend failure.
    #[error("billing store backend error: {0}")]
    Backend(String),
}

/// A `Result` whose error is a [`BillingStoreError`].
pub type BillingResult<T> = Result<T, BillingStoreError>;

impl From<BillingStoreError> for ApplicationError {
    fn from(error: BillingStoreError) -> Self {
        match error {
            BillingStoreError::Unavailable(message) => ApplicationError::Unavailable(message),
            other => ApplicationError::Internal(other.to_string()),
        }
    }
}

impl From<EventStoreError> for BillingStoreError {
    fn from(error: EventStoreError) -> Self {
        match error {
            EventStoreError::Unavailable(message) => Self::Unavailable(message),
            EventStoreError::Corrupt { record, reason } => Self::Corrupt { record, reason },
            other => Self::Backend(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_stays_unavailable() {
        assert_eq!(
            ApplicationError::from(BillingStoreError::Unavailable("down".into())),
            ApplicationError::Unavailable("down".into())
        );
        assert!(matches!(
            ApplicationError::from(BillingStoreError::Backend("x".into())),
            ApplicationError::Internal(_)
        ));
    }
}
