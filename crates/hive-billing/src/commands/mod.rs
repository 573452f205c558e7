//! The payment commands sent on the command bus, and their handler.
//!
//! The organization and user are never part of a command: the handler takes them from the
//! [`hive_application::MessageContext`] (`metadata.organizationId`, `metadata.userId`). Every
//! command answers with the [`crate::PaymentView`] of the aggregate after it.

mod handler;

use std::collections::BTreeMap;

use hive_application::{ApplicationError, Command, Message};
use serde::{Deserialize, Serialize};

pub use handler::PaymentCommandHandler;

use crate::validate::{Fields, MAX_DESCRIPTION_LEN, MAX_ERROR_LEN, MAX_TAGS, MAX_TAG_LEN};
use crate::{Amount, PaymentView};

/// Create a pending payment.
///
/// Validation: `paymentId` non-empty, ≤ 128 characters of `[A-Za-z0-9._:-]`; `amount` > 0 with
/// at most the currency's minor units; `currency` an ISO 4217 code; `description` ≤ 1000
/// characters; at most 20 `tags` of 1–64 characters; at most 20 `metadata` pairs, keys of 1–64
/// and values of at most 256 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePayment {
    /// The new payment's id (the HTTP layer generates one when the client gives none).
    pub payment_id: String,
    /// The amount (a JSON string or number).
    pub amount: Amount,
    /// The ISO 4217 currency code.
    pub currency: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Labels.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Free-form string pairs, stored in the `PaymentCreated` event, returned with the
    /// payment and searchable like its tags.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

impl Message for CreatePayment {
    type Output = PaymentView;

    fn name() -> &'static str {
        "CreatePayment"
    }

    fn validate(&self) -> Result<(), ApplicationError> {
        let mut fields = Fields::new();
        fields.payment_id("paymentId", &self.payment_id);
        let currency = fields.currency("currency", &self.currency);
        fields
            .amount("amount", self.amount, currency)
            .check(
                self.description.chars().count() <= MAX_DESCRIPTION_LEN,
                "description",
                format!("must be at most {MAX_DESCRIPTION_LEN} characters"),
            )
            .check(self.tags.len() <= MAX_TAGS, "tags", format!("at most {MAX_TAGS} tags"))
            .check(
                self.tags
                    .iter()
                    .all(|t| !t.trim().is_empty() && t.chars().count() <= MAX_TAG_LEN),
                "tags",
                format!("each tag must have 1 to {MAX_TAG_LEN} characters"),
            )
            .metadata("metadata", &self.metadata)
            .finish()
    }
}

impl Command for CreatePayment {}

/// Process a pending payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessPayment {
    /// The payment.
    pub payment_id: String,
}

impl Message for ProcessPayment {
    type Output = PaymentView;

    fn name() -> &'static str {
        "ProcessPayment"
    }

    fn validate(&self) -> Result<(), ApplicationError> {
        Fields::new().payment_id("paymentId", &self.payment_id).finish()
    }
}

impl Command for ProcessPayment {}

/// Mark a pending payment failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailPayment {
    /// The payment.
    pub payment_id: String,
    /// Why it failed (1–1000 characters).
    pub error: String,
}

impl Message for FailPayment {
    type Output = PaymentView;

    fn name() -> &'static str {
        "FailPayment"
    }

    fn validate(&self) -> Result<(), ApplicationError> {
        Fields::new()
            .payment_id("paymentId", &self.payment_id)
            .check(!self.error.trim().is_empty(), "error", "must not be empty")
            .check(
                self.error.chars().count() <= MAX_ERROR_LEN,
                "error",
                format!("must be at most {MAX_ERROR_LEN} characters"),
            )
            .finish()
    }
}

impl Command for FailPayment {}

/// Refund part or all of what remains of a processed payment, in the payment's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundPayment {
    /// The payment.
    pub payment_id: String,
    /// How much (> 0; at most the currency's minor units, checked against the payment).
    pub refund_amount: Amount,
}

impl Message for RefundPayment {
    type Output = PaymentView;

    fn name() -> &'static str {
        "RefundPayment"
    }

    fn validate(&self) -> Result<(), ApplicationError> {
        Fields::new()
            .payment_id("paymentId", &self.payment_id)
            .amount("refundAmount", self.refund_amount, None)
            .finish()
    }
}

impl Command for RefundPayment {}
