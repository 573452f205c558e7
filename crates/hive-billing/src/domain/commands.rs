//! What the `Payment` aggregate decides on.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::Money;

/// A decision asked of one payment: who asks (the tenant and user from the message context),
/// when (the handler's clock: the aggregate itself reads no clock) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentCommand {
    /// The payment (stream) id.
    pub payment_id: String,
    /// The caller's organization: a payment of another organization is "not found".
    pub organization_id: String,
    /// The caller.
    pub user_id: String,
    /// The time recorded in the event.
    pub at: DateTime<Utc>,
    /// What to do.
    pub action: PaymentAction,
}

/// What a [`PaymentCommand`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentAction {
    /// Create the payment, pending.
    Create {
        /// The amount and currency.
        money: Money,
        /// Free text.
        description: String,
        /// Labels.
        tags: Vec<String>,
        /// Free-form string pairs.
        metadata: BTreeMap<String, String>,
    },
    /// Process a pending payment.
    Process,
    /// Mark a pending payment failed.
    Fail {
        /// Why.
        error: String,
    },
    /// Refund part or all of what remains of a processed payment (in the payment's currency).
    Refund {
        /// How much.
        amount: Decimal,
    },
}

impl PaymentCommand {
    /// A command on `payment_id` by `user_id` of `organization_id` at `at`.
    pub fn new(
        payment_id: impl Into<String>,
        organization_id: impl Into<String>,
        user_id: impl Into<String>,
        at: DateTime<Utc>,
        action: PaymentAction,
    ) -> Self {
        Self {
            payment_id: payment_id.into(),
            organization_id: organization_id.into(),
            user_id: user_id.into(),
            at,
            action,
        }
    }
}
