//! The payment domain: value objects, the `Payment` aggregate, its commands, events and errors.

mod aggregate;
mod amount;
mod commands;
mod currency;
mod error;
mod events;
mod money;
mod status;

pub use aggregate::Payment;
pub use amount::{Amount, InvalidAmount};
pub use commands::{PaymentAction, PaymentCommand};
pub use currency::{Currency, UnknownCurrency};
pub use error::PaymentError;
pub use events::{PaymentCreated, PaymentEvent, PaymentFailed, PaymentProcessed, PaymentRefunded};
pub use money::{round_to_currency, to_scale, Money, MoneyError};
pub use status::PaymentStatus;
