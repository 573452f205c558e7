//! Adapters of the billing read-side ports (feature `billing`): the payment read model and the
//! payment search index, in memory ([`MemoryPaymentReadModel`], [`MemoryPaymentSearchIndex`])
//! and on disk ([`disk`]), with exactly the reference semantics of `hive-billing` (the same
//! answers the MongoDB and Elasticsearch adapters give). All store each payment under its
//! [`PaymentKey`](hive_billing::PaymentKey), so two organizations' `pay-1` never collide.

pub mod disk;
mod keyed;
mod read_model;
mod search_index;

pub use read_model::MemoryPaymentReadModel;
pub use search_index::MemoryPaymentSearchIndex;
