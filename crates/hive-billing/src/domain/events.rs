//! The events of the `Payment` aggregate, stored as `eventType` + `eventData`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hive_domain::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::{Amount, Currency, PaymentStatus};

/// A payment was created (`eventData` of `PaymentCreated`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCreated {
    /// The payment id (also the stream id).
    pub payment_id: String,
    /// The organization that owns the payment.
    pub organization_id: String,
    /// The user who created it.
    pub user_id: String,
    /// The amount, at the currency's scale.
    pub amount: Amount,
    /// The currency.
    pub currency: Currency,
    /// Always `pending`.
    pub status: PaymentStatus,
    /// Free text.
    pub description: String,
    /// Labels for search.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Free-form string pairs (absent from events written before payments had metadata).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A pending payment was processed (`eventData` of `PaymentProcessed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentProcessed {
    /// The amount taken.
    pub amount: Amount,
    /// The currency.
    pub currency: Currency,
    /// Always `completed`.
    pub status: PaymentStatus,
    /// When it was processed.
    pub processed_at: DateTime<Utc>,
}

/// A pending payment failed (`eventData` of `PaymentFailed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFailed {
    /// Why it failed.
    pub error: String,
    /// Always `failed`.
    pub status: PaymentStatus,
    /// When it failed.
    pub failed_at: DateTime<Utc>,
}

/// Part or all of a processed payment was refunded (`eventData` of `PaymentRefunded`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRefunded {
    /// The amount of this refund.
    pub refund_amount: Amount,
    /// Everything refunded so far, this refund included.
    pub total_refunded: Amount,
    /// The currency.
    pub currency: Currency,
    /// `refunded` when nothing remains, else `partially_refunded`.
    pub status: PaymentStatus,
    /// When it was refunded.
    pub refunded_at: DateTime<Utc>,
}

/// The events of a payment. The variant name is the stored `eventType`.
///
/// ```
/// use hive_billing::PaymentEvent;
/// use hive_domain::decode_event;
/// use serde_json::json;
///
/// let event: PaymentEvent = decode_event(
///     "PaymentFailed",
///     json!({"error": "card declined", "status": "failed", "failedAt": "2024-12-19T10:00:00Z"}),
/// )
/// .unwrap();
/// assert!(matches!(event, PaymentEvent::PaymentFailed(ref failed) if failed.error == "card declined"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "eventType", content = "eventData")]
pub enum PaymentEvent {
    /// See [`PaymentCreated`].
    PaymentCreated(PaymentCreated),
    /// See [`PaymentProcessed`].
    PaymentProcessed(PaymentProcessed),
    /// See [`PaymentFailed`].
    PaymentFailed(PaymentFailed),
    /// See [`PaymentRefunded`].
    PaymentRefunded(PaymentRefunded),
}

impl PaymentEvent {
    /// Every stored event type of a payment.
    pub const TYPES: [&'static str; 4] = ["PaymentCreated", "PaymentProcessed", "PaymentFailed", "PaymentRefunded"];

    /// When the event happened (the timestamp its payload carries).
    pub fn occurred_at(&self) -> DateTime<Utc> {
        match self {
            Self::PaymentCreated(e) => e.created_at,
            Self::PaymentProcessed(e) => e.processed_at,
            Self::PaymentFailed(e) => e.failed_at,
            Self::PaymentRefunded(e) => e.refunded_at,
        }
    }
}

impl DomainEvent for PaymentEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::PaymentCreated(_) => "PaymentCreated",
            Self::PaymentProcessed(_) => "PaymentProcessed",
            Self::PaymentFailed(_) => "PaymentFailed",
            Self::PaymentRefunded(_) => "PaymentRefunded",
        }
    }
}
