//! Why the `Payment` aggregate refuses a command.

use hive_application::ApplicationError;
use rust_decimal::Decimal;

use crate::{Currency, PaymentStatus};

/// A broken payment invariant. Each maps to a stable [`ApplicationError`]:
///
/// | variant | maps to |
/// |---|---|
/// | [`NotFound`](Self::NotFound) | `NotFound { what: "payment", id }` |
/// | [`AlreadyExists`](Self::AlreadyExists) | `Domain { code: "payment_already_exists" }` |
/// | [`NonPositiveAmount`](Self::NonPositiveAmount) | `Domain { code: "non_positive_amount" }` |
/// | [`TooPrecise`](Self::TooPrecise) | `Domain { code: "amount_too_precise" }` |
/// | [`NotPending`](Self::NotPending) | `Domain { code: "payment_not_pending" }` |
/// | [`NotRefundable`](Self::NotRefundable) | `Domain { code: "payment_not_refundable" }` |
/// | [`RefundExceedsRemaining`](Self::RefundExceedsRemaining) | `Domain { code: "refund_exceeds_remaining" }` |
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The payment was never created, or belongs to another organization.
    #[error("payment `{payment_id}` not found")]
    NotFound {
        /// The id asked for.
        payment_id: String,
    },
    /// A payment with this id was already created.
    #[error("payment `{payment_id}` already exists")]
    AlreadyExists {
        /// The id.
        payment_id: String,
    },
    /// Amounts must be greater than zero.
    #[error("amount must be greater than zero, got {amount}")]
    NonPositiveAmount {
        /// The amount given.
        amount: Decimal,
    },
    /// More decimal places than the payment's currency has.
    #[error("{amount} has more decimal places than {currency} allows ({minor_units})")]
    TooPrecise {
        /// The amount given.
        amount: Decimal,
        /// The payment's currency.
        currency: Currency,
        /// Its minor units.
        minor_units: u32,
    },
    /// Only a pending payment can be processed or failed.
    #[error("payment `{payment_id}` is {status}, not pending")]
    NotPending {
        /// The payment.
        payment_id: String,
        /// Its status.
        status: PaymentStatus,
    },
    /// Only a processed payment can be refunded.
    #[error("payment `{payment_id}` is {status}: only a processed payment can be refunded")]
    NotRefundable {
        /// The payment.
        payment_id: String,
        /// Its status.
        status: PaymentStatus,
    },
    /// A refund may not exceed what remains unrefunded.
    #[error("refund of {requested} {currency} exceeds the {remaining} {currency} that remain refundable")]
    RefundExceedsRemaining {
        /// The refund asked for.
        requested: Decimal,
        /// What remains.
        remaining: Decimal,
        /// The currency.
        currency: Currency,
    },
}

impl PaymentError {
    /// The stable machine-readable code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "payment_not_found",
            Self::AlreadyExists { .. } => "payment_already_exists",
            Self::NonPositiveAmount { .. } => "non_positive_amount",
            Self::TooPrecise { .. } => "amount_too_precise",
            Self::NotPending { .. } => "payment_not_pending",
            Self::NotRefundable { .. } => "payment_not_refundable",
            Self::RefundExceedsRemaining { .. } => "refund_exceeds_remaining",
        }
    }
}

impl From<PaymentError> for ApplicationError {
    fn from(error: PaymentError) -> Self {
        match error {
            PaymentError::NotFound { payment_id } => ApplicationError::not_found("payment", payment_id),
            other => ApplicationError::domain(other.code(), other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_stable_application_errors() {
        let not_found = PaymentError::NotFound {
            payment_id: "p-1".into(),
        };
        assert_eq!(
            ApplicationError::from(not_found),
            ApplicationError::not_found("payment", "p-1")
        );
        let not_pending = PaymentError::NotPending {
            payment_id: "p-1".into(),
            status: PaymentStatus::Failed,
        };
        assert_eq!(
            ApplicationError::from(not_pending),
            ApplicationError::domain("payment_not_pending", "payment `p-1` is failed, not pending")
        );
    }
}
