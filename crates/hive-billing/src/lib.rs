#![doc = include_str!("../README.md")]

pub mod cache;
mod clock;
mod commands;
mod domain;
mod key;
mod module;
mod ports;
mod queries;
pub mod read;
mod streams;
mod sync;
pub mod validate;

pub use clock::{Clock, ManualClock, SystemClock};
pub use commands::*;
pub use domain::*;
pub use key::{payment_id_of_stream, NotAPaymentKey, PaymentKey};
pub use module::{BillingModule, BillingPorts, BillingServices};
pub use ports::*;
pub use queries::*;
pub use read::{
    CurrencyStatistics, DailyBucket, FoldError, PaymentReadModelProjection, PaymentSearchCriteria,
    PaymentSearchDocument, PaymentSearchProjection, PaymentSearchResults, PaymentStatistics, PaymentView,
    ScoredPayment, Suggestion, BILLING_PROJECTION_VERSION,
};
pub use streams::PaymentStreams;
pub use sync::{FieldDifference, Mismatch, SearchIndexSync, SyncReport, VerifyReport};
