#![doc = include_str!("../README.md")]

pub mod cache;
mod clock;
mod commands;
mod domain;
mod key;
mod module;
mod ports;
mod queries;
mod streams;
pub mod read;
mod sync;
pub mod validate;

pub use clock::{Clock, ManualClock, SystemClock};
pub use commands::*;
pub use domain::*;
pub use key::{payment_id_of_stream, NotAPaymentKey, PaymentKey};
pub use module::{BillingModule, BillingPorts, BillingServices};
pub use ports::*;
pub use queries::*;
pub use streams::PaymentStreams;
pub use read::{
    CurrencyStatistics, DailyBucket, FoldError, PaymentReadModelProjection, PaymentSearchCriteria, BILLING_PROJECTION_VERSION,
    PaymentSearchDocument, PaymentSearchProjection, PaymentSearchResults, PaymentStatistics, PaymentView,
    ScoredPayment, Suggestion,
};
pub use sync::{FieldDifference, Mismatch, SearchIndexSync, SyncReport, VerifyReport};
