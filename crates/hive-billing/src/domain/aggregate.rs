//! The `Payment` aggregate: decide (`handle`) and evolve (`apply`), both pure.

use chrono::{DateTime, Utc};
use hive_domain::Aggregate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    Amount, Currency, Money, PaymentAction, PaymentCommand, PaymentCreated, PaymentError, PaymentEvent, PaymentFailed,
    PaymentProcessed, PaymentRefunded, PaymentStatus,
};

/// The state of one payment: the fold of its events. `Payment::default()` is a payment that
/// was never created (`created()` is `None`).
///
/// Invariants enforced by [`Aggregate::handle`]:
/// * a payment id is created once; amounts are greater than zero;
/// * only a pending payment is processed or failed;
/// * only a processed payment is refunded, never beyond what remains unrefunded (partial
///   refunds add up);
/// * a payment of another organization is not found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    created: Option<PaymentCreated>,
    status: Option<PaymentStatus>,
    processed_at: Option<DateTime<Utc>>,
    failed_at: Option<DateTime<Utc>>,
    error: Option<String>,
    refunded_at: Option<DateTime<Utc>>,
    refunded_total: Option<Amount>,
    updated_at: Option<DateTime<Utc>>,
}

impl Payment {
    /// The creation facts (id, organization, user, amount, description, tags), once created.
    pub fn created(&self) -> Option<&PaymentCreated> {
        self.created.as_ref()
    }

    /// The status (`None` before creation).
    pub fn status(&self) -> Option<PaymentStatus> {
        self.status
    }

    /// The amount and currency (`None` before creation).
    pub fn money(&self) -> Option<Money> {
        let created = self.created.as_ref()?;
        Money::new(created.amount.value(), created.currency).ok()
    }

    /// When it was processed.
    pub fn processed_at(&self) -> Option<DateTime<Utc>> {
        self.processed_at
    }

    /// When it failed.
    pub fn failed_at(&self) -> Option<DateTime<Utc>> {
        self.failed_at
    }

    /// Why it failed.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// When it was last refunded.
    pub fn refunded_at(&self) -> Option<DateTime<Utc>> {
        self.refunded_at
    }

    /// Everything refunded so far (`None` before the first refund).
    pub fn refunded_total(&self) -> Option<Amount> {
        self.refunded_total
    }

    /// The time of the last event.
    pub fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }

    /// What remains refundable: the amount less the refunds (zero before processing).
    pub fn remaining_refundable(&self) -> Decimal {
        match (&self.created, self.status) {
            (Some(created), Some(status)) if status.is_processed() => {
                created.amount.value() - self.refunded_total.map_or(Decimal::ZERO, |t| t.value())
            }
            _ => Decimal::ZERO,
        }
    }

    fn owned_by(&self, command: &PaymentCommand) -> Result<(&PaymentCreated, PaymentStatus), PaymentError> {
        match (&self.created, self.status) {
            (Some(created), Some(status)) if created.organization_id == command.organization_id => {
                Ok((created, status))
            }
            _ => Err(PaymentError::NotFound {
                payment_id: command.payment_id.clone(),
            }),
        }
    }

    fn refund(
        &self,
        command: &PaymentCommand,
        created: &PaymentCreated,
        status: PaymentStatus,
        amount: Decimal,
    ) -> Result<PaymentEvent, PaymentError> {
        if !status.is_processed() {
            return Err(PaymentError::NotRefundable {
                payment_id: command.payment_id.clone(),
                status,
            });
        }
        let currency: Currency = created.currency;
        let requested = checked_amount(amount, currency)?;
        let remaining = self.remaining_refundable();
        if requested.value() > remaining {
            return Err(PaymentError::RefundExceedsRemaining {
                requested: amount,
                remaining,
                currency,
            });
        }
        let before = self.refunded_total.map_or(Decimal::ZERO, |t| t.value());
        let total = Money::new(before + requested.value(), currency).map_err(|_| PaymentError::TooPrecise {
            amount,
            currency,
            minor_units: currency.minor_units(),
        })?;
        let status = if total.value() == created.amount.value() {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::PartiallyRefunded
        };
        Ok(PaymentEvent::PaymentRefunded(PaymentRefunded {
            refund_amount: requested.amount(),
            total_refunded: total.amount(),
            currency,
            status,
            refunded_at: command.at,
        }))
    }
}

/// `amount` of `currency` when it is positive and fits the currency's minor units.
fn checked_amount(amount: Decimal, currency: Currency) -> Result<Money, PaymentError> {
    if amount <= Decimal::ZERO {
        return Err(PaymentError::NonPositiveAmount { amount });
    }
    Money::new(amount, currency).map_err(|_| PaymentError::TooPrecise {
        amount,
        currency,
        minor_units: currency.minor_units(),
    })
}

impl Aggregate for Payment {
    const TYPE: &'static str = "Payment";
    type Command = PaymentCommand;
    type Event = PaymentEvent;
    type Error = PaymentError;

    fn handle(&self, command: &PaymentCommand) -> Result<Vec<PaymentEvent>, PaymentError> {
        let event = match &command.action {
            PaymentAction::Create {
                money,
                description,
                tags,
                metadata,
            } => {
                if self.created.is_some() {
                    return Err(PaymentError::AlreadyExists {
                        payment_id: command.payment_id.clone(),
                    });
                }
                let money = checked_amount(money.value(), money.currency())?;
                PaymentEvent::PaymentCreated(PaymentCreated {
                    payment_id: command.payment_id.clone(),
                    organization_id: command.organization_id.clone(),
                    user_id: command.user_id.clone(),
                    amount: money.amount(),
                    currency: money.currency(),
                    status: PaymentStatus::Pending,
                    description: description.clone(),
                    tags: tags.clone(),
                    metadata: metadata.clone(),
                    created_at: command.at,
                })
            }
            PaymentAction::Process => {
                let (created, status) = self.owned_by(command)?;
                if status != PaymentStatus::Pending {
                    return Err(PaymentError::NotPending {
                        payment_id: command.payment_id.clone(),
                        status,
                    });
                }
                PaymentEvent::PaymentProcessed(PaymentProcessed {
                    amount: created.amount,
                    currency: created.currency,
                    status: PaymentStatus::Completed,
                    processed_at: command.at,
                })
            }
            PaymentAction::Fail { error } => {
                let (_, status) = self.owned_by(command)?;
                if status != PaymentStatus::Pending {
                    return Err(PaymentError::NotPending {
                        payment_id: command.payment_id.clone(),
                        status,
                    });
                }
                PaymentEvent::PaymentFailed(PaymentFailed {
                    error: error.clone(),
                    status: PaymentStatus::Failed,
                    failed_at: command.at,
                })
            }
            PaymentAction::Refund { amount } => {
                let (created, status) = self.owned_by(command)?;
                self.refund(command, created, status, *amount)?
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: &PaymentEvent) {
        self.updated_at = Some(event.occurred_at());
        match event {
            PaymentEvent::PaymentCreated(created) => {
                self.status = Some(created.status);
                self.created = Some(created.clone());
            }
            PaymentEvent::PaymentProcessed(processed) => {
                self.status = Some(processed.status);
                self.processed_at = Some(processed.processed_at);
            }
            PaymentEvent::PaymentFailed(failed) => {
                self.status = Some(failed.status);
                self.error = Some(failed.error.clone());
                self.failed_at = Some(failed.failed_at);
            }
            PaymentEvent::PaymentRefunded(refunded) => {
                self.status = Some(refunded.status);
                self.refunded_total = Some(refunded.total_refunded);
                self.refunded_at = Some(refunded.refunded_at);
            }
        }
    }
}
