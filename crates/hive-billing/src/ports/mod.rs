//! The ports the billing read side needs; adapters (memory, MongoDB, Elasticsearch) implement
//! them and pass the `hive-testkit` billing conformance suites.

mod error;
mod read_model;
mod search_index;

pub use error::{BillingResult, BillingStoreError};
pub use read_model::{organization_order, PaymentList, PaymentReadModel, PaymentRecord};
pub use search_index::{BulkFailure, BulkReport, PaymentSearchIndex};
