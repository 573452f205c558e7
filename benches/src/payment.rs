//! A small payment aggregate, the workload of the command benches (P1 against cqrs-es, P2 as
//! streams grow): created once, then processed in parts, and refunded at most up to what was
//! processed.

use hive_application::ApplicationError;
use hive_domain::{encode_event, Aggregate, CodecError, DomainEvent, EventEnvelope, Metadata};
use serde::{Deserialize, Serialize};

/// What happened to a payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "eventType", content = "eventData")]
pub enum BenchPaymentEvent {
    /// The payment was created.
    Created {
        /// Its amount, in cents.
        amount: u64,
        /// Its currency code.
        currency: String,
    },
    /// A part of it was processed.
    Processed {
        /// How much, in cents.
        amount: u64,
    },
    /// A part of what was processed was refunded.
    Refunded {
        /// How much, in cents.
        amount: u64,
    },
}

impl DomainEvent for BenchPaymentEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::Created { .. } => "Created",
            Self::Processed { .. } => "Processed",
            Self::Refunded { .. } => "Refunded",
        }
    }
}

/// What can be asked of a payment.
#[derive(Debug, Clone, PartialEq)]
pub enum BenchPaymentCommand {
    /// Create it.
    Create {
        /// Its amount, in cents.
        amount: u64,
        /// Its currency code.
        currency: String,
    },
    /// Process a part of it (any positive amount: the benches' cheap valid command).
    Process {
        /// How much, in cents.
        amount: u64,
    },
    /// Refund a part of what was processed.
    Refund {
        /// How much, in cents.
        amount: u64,
    },
}

/// Why a payment refuses a command.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BenchPaymentError {
    /// Creating a payment twice.
    #[error("payment already created")]
    AlreadyCreated,
    /// Using a payment that was never created.
    #[error("payment not created")]
    NotCreated,
    /// An amount of zero.
    #[error("amount must be positive")]
    ZeroAmount,
    /// Refunding more than was processed and not yet refunded.
    #[error("refund exceeds the processed amount")]
    RefundExceedsProcessed,
}

impl From<BenchPaymentError> for ApplicationError {
    fn from(e: BenchPaymentError) -> Self {
        ApplicationError::domain("payment", e.to_string())
    }
}

/// A payment: its amount and currency, and the totals processed and refunded.
///
/// ```
/// use hive_benches::{BenchPayment, BenchPaymentCommand, BenchPaymentError};
/// use hive_domain::Aggregate;
///
/// let mut payment = BenchPayment::default();
/// let create = BenchPaymentCommand::Create { amount: 500, currency: "EUR".into() };
/// payment.apply_all(&payment.handle(&create).unwrap());
/// payment.apply_all(&payment.handle(&BenchPaymentCommand::Process { amount: 200 }).unwrap());
/// let too_much = BenchPaymentCommand::Refund { amount: 300 };
/// assert_eq!(payment.handle(&too_much), Err(BenchPaymentError::RefundExceedsProcessed));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BenchPayment {
    /// Whether it was created.
    pub created: bool,
    /// Its amount, in cents.
    pub amount: u64,
    /// Its currency code.
    pub currency: String,
    /// The total processed, in cents.
    pub processed: u64,
    /// The total refunded, in cents.
    pub refunded: u64,
    /// How many events it has applied.
    pub events: u64,
}

impl Aggregate for BenchPayment {
    const TYPE: &'static str = "BenchPayment";
    type Command = BenchPaymentCommand;
    type Event = BenchPaymentEvent;
    type Error = BenchPaymentError;

    fn handle(&self, command: &BenchPaymentCommand) -> Result<Vec<BenchPaymentEvent>, BenchPaymentError> {
        match command {
            BenchPaymentCommand::Create { .. } if self.created => Err(BenchPaymentError::AlreadyCreated),
            BenchPaymentCommand::Create { amount, currency } => Ok(vec![BenchPaymentEvent::Created {
                amount: *amount,
                currency: currency.clone(),
            }]),
            _ if !self.created => Err(BenchPaymentError::NotCreated),
            BenchPaymentCommand::Process { amount: 0 } | BenchPaymentCommand::Refund { amount: 0 } => {
                Err(BenchPaymentError::ZeroAmount)
            }
            BenchPaymentCommand::Process { amount } => Ok(vec![BenchPaymentEvent::Processed { amount: *amount }]),
            BenchPaymentCommand::Refund { amount } if self.refunded + amount > self.processed => {
                Err(BenchPaymentError::RefundExceedsProcessed)
            }
            BenchPaymentCommand::Refund { amount } => Ok(vec![BenchPaymentEvent::Refunded { amount: *amount }]),
        }
    }

    fn apply(&mut self, event: &BenchPaymentEvent) {
        self.events += 1;
        match event {
            BenchPaymentEvent::Created { amount, currency } => {
                self.created = true;
                self.amount = *amount;
                self.currency.clone_from(currency);
            }
            BenchPaymentEvent::Processed { amount } => self.processed += amount,
            BenchPaymentEvent::Refunded { amount } => self.refunded += amount,
        }
    }
}

/// The events of a payment stream of `count` events: `Created`, then `Processed` of 1 cent.
///
/// ```
/// let events = hive_benches::payment_history(3);
/// assert_eq!(events.len(), 3);
/// ```
pub fn payment_history(count: u64) -> Vec<BenchPaymentEvent> {
    (0..count)
        .map(|at| match at {
            0 => BenchPaymentEvent::Created {
                amount: 1_000_000,
                currency: "EUR".to_owned(),
            },
            _ => BenchPaymentEvent::Processed { amount: 1 },
        })
        .collect()
}

/// The envelopes of `events` for stream `stream`, from version `first_version`, as the
/// repository writes them (one correlation id, a user and an organization).
pub fn payment_envelopes(
    stream: &str,
    first_version: u64,
    events: &[BenchPaymentEvent],
) -> Result<Vec<EventEnvelope>, CodecError> {
    let correlation = format!("request-{stream}-{first_version}");
    let metadata = Metadata::default()
        .with_organization("org-bench")
        .with_user("user-bench");
    events
        .iter()
        .zip(first_version..)
        .map(|(event, version)| {
            let (event_type, data) = encode_event(event)?;
            Ok(
                EventEnvelope::new(stream, BenchPayment::TYPE, event_type, data, version)
                    .with_correlation_id(correlation.as_str())
                    .with_causation_id(correlation.as_str())
                    .with_metadata(metadata.clone()),
            )
        })
        .collect()
}
