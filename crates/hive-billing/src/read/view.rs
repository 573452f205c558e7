//! `PaymentView`: the payment as the read side (and every command's answer) shows it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Amount, Currency, Payment, PaymentEvent, PaymentKey, PaymentStatus};

/// One payment as clients see it: `GET /payments/{id}` and the answer of every payment command.
///
/// Serialised in camelCase: `paymentId, organizationId, userId, amount, currency, status,
/// description, tags, metadata, createdAt, processedAt, failedAt, error, refundedAt,
/// refundAmount, updatedAt, version`. Amounts are decimal strings at the currency's scale (`"100.00"`);
/// absent times and amounts are `null`. `refundAmount` is the total refunded so far;
/// `updatedAt` is the time of the last event; `version` the number of events of the payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    /// The payment id.
    pub payment_id: String,
    /// The owning organization.
    pub organization_id: String,
    /// The user who created it.
    pub user_id: String,
    /// The amount.
    pub amount: Amount,
    /// The currency.
    pub currency: Currency,
    /// The status.
    pub status: PaymentStatus,
    /// Free text.
    pub description: String,
    /// Labels.
    pub tags: Vec<String>,
    /// Free-form string pairs given at creation (seed 004's `metadata`; `{}` when none).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was processed.
    pub processed_at: Option<DateTime<Utc>>,
    /// When it failed.
    pub failed_at: Option<DateTime<Utc>>,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was last refunded.
    pub refunded_at: Option<DateTime<Utc>>,
    /// Total refunded so far.
    pub refund_amount: Option<Amount>,
    /// Time of the last event.
    pub updated_at: DateTime<Utc>,
    /// Number of events (the stream version).
    pub version: u64,
}

/// An event that cannot be folded onto the view it is applied to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FoldError {
    /// A second `PaymentCreated`.
    #[error("payment `{0}` is already created")]
    AlreadyCreated(String),
    /// An event before the payment's `PaymentCreated` was applied.
    #[error("event version {version} of payment `{payment_id}` comes before its creation was applied")]
    NotCreated {
        /// The stream.
        payment_id: String,
        /// The event's version.
        version: u64,
    },
    /// The event does not follow the last applied one (an earlier event is missing).
    #[error("event version {got} of payment `{payment_id}` does not follow applied version {applied}")]
    OutOfOrder {
        /// The stream.
        payment_id: String,
        /// The version already applied.
        applied: u64,
        /// The event's version.
        got: u64,
    },
}

impl PaymentView {
    /// The view of an aggregate state at `version` (`None` before creation).
    pub fn from_payment(payment: &Payment, version: u64) -> Option<Self> {
        let created = payment.created()?;
        Some(Self {
            payment_id: created.payment_id.clone(),
            organization_id: created.organization_id.clone(),
            user_id: created.user_id.clone(),
            amount: created.amount,
            currency: created.currency,
            status: payment.status()?,
            description: created.description.clone(),
            tags: created.tags.clone(),
            metadata: created.metadata.clone(),
            created_at: created.created_at,
            processed_at: payment.processed_at(),
            failed_at: payment.failed_at(),
            error: payment.error().map(str::to_owned),
            refunded_at: payment.refunded_at(),
            refund_amount: payment.refunded_total(),
            updated_at: payment.updated_at().unwrap_or(created.created_at),
            version,
        })
    }

    /// The view after `event`, the stream's event number `version`, applied to `previous`.
    ///
    /// Gives the same view as [`PaymentView::from_payment`] of the aggregate after the same
    /// events. Refuses an event that does not follow `previous` (so a projection never skips one).
    pub fn fold(
        previous: Option<&PaymentView>,
        payment_id: &str,
        event: &PaymentEvent,
        version: u64,
    ) -> Result<PaymentView, FoldError> {
        let mut view = match (previous, event) {
            (None, PaymentEvent::PaymentCreated(created)) => {
                return Ok(Self {
                    payment_id: created.payment_id.clone(),
                    organization_id: created.organization_id.clone(),
                    user_id: created.user_id.clone(),
                    amount: created.amount,
                    currency: created.currency,
                    status: created.status,
                    description: created.description.clone(),
                    tags: created.tags.clone(),
                    metadata: created.metadata.clone(),
                    created_at: created.created_at,
                    processed_at: None,
                    failed_at: None,
                    error: None,
                    refunded_at: None,
                    refund_amount: None,
                    updated_at: created.created_at,
                    version,
                })
            }
            (Some(_), PaymentEvent::PaymentCreated(_)) => return Err(FoldError::AlreadyCreated(payment_id.to_owned())),
            (None, _) => {
                return Err(FoldError::NotCreated {
                    payment_id: payment_id.to_owned(),
                    version,
                })
            }
            (Some(previous), _) if previous.version + 1 != version => {
                return Err(FoldError::OutOfOrder {
                    payment_id: payment_id.to_owned(),
                    applied: previous.version,
                    got: version,
                })
            }
            (Some(previous), _) => previous.clone(),
        };
        match event {
            PaymentEvent::PaymentCreated(_) => {}
            PaymentEvent::PaymentProcessed(processed) => {
                view.status = processed.status;
                view.processed_at = Some(processed.processed_at);
            }
            PaymentEvent::PaymentFailed(failed) => {
                view.status = failed.status;
                view.error = Some(failed.error.clone());
                view.failed_at = Some(failed.failed_at);
            }
            PaymentEvent::PaymentRefunded(refunded) => {
                view.status = refunded.status;
                view.refund_amount = Some(refunded.total_refunded);
                view.refunded_at = Some(refunded.refunded_at);
            }
        }
        view.updated_at = event.occurred_at();
        view.version = version;
        Ok(view)
    }

    /// What search matches as tags: the tags, then the metadata values (key order).
    pub fn search_tags(&self) -> impl Iterator<Item = &str> {
        self.tags
            .iter()
            .map(String::as_str)
            .chain(self.metadata.values().map(String::as_str))
    }

    /// The payment's key: its organization and id.
    pub fn key(&self) -> PaymentKey {
        PaymentKey::new(&self.organization_id, &self.payment_id)
    }

    /// The instant the payment counts at in statistics and trends: `processedAt` when it was
    /// processed, else `createdAt` (so pending and failed payments count on their creation day).
    pub fn statistics_at(&self) -> DateTime<Utc> {
        self.processed_at.unwrap_or(self.created_at)
    }
}
