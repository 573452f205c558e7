//! Conformance suites of the billing read-side ports (feature `billing`):
//! [`PaymentReadModel`](hive_billing::PaymentReadModel) ([`read_model`]) and
//! [`PaymentSearchIndex`](hive_billing::PaymentSearchIndex) ([`search_index`]).
//!
//! Each case checks the adapter's answers against the reference functions of `hive-billing`
//! (`PaymentStatistics::compute`, `PaymentSearchCriteria::search`, `Suggestion::suggest`,
//! `organization_order`). Every case writes payments of organizations of its own (random
//! ids) and reads only those, so the cases run in parallel against one shared backend; no case
//! calls `reset` (it would wipe the other cases' data): adapters test it on their own.
//!
//! Full-text relevance differs between engines, so text searches are checked by the set of
//! matches and their total, and by order only where the reference ranks one match strictly
//! above another by field weight; scores are checked only to be 0 without text.

mod bulk_upsert;
mod instants;
mod macros;
pub mod read_model;
pub mod search_index;
mod support;

pub use support::pending_payment;

#[doc(hidden)]
pub use support::{hold_payment_read_model, hold_payment_search_index};
