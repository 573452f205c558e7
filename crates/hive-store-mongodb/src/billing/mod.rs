//! The billing read side on MongoDB (feature `billing`): [`MongoPaymentReadModel`].

mod codec;
mod legacy;
mod pipelines;
mod read_model;

pub use read_model::MongoPaymentReadModel;

use crate::MongoStore;

impl MongoStore {
    /// The payment read model (`payment_read_models`), its indexes created.
    pub async fn payment_read_model(&self) -> hive_domain::StoreResult<MongoPaymentReadModel> {
        MongoPaymentReadModel::open(std::sync::Arc::clone(self.shared())).await
    }
}
