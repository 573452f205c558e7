//! Which event stream holds a payment: its [`PaymentKey`], or a legacy stream.

use std::sync::Arc;

use futures::TryStreamExt;
use hive_domain::{EventStore, StoreResult};

use crate::PaymentKey;

/// Finds the stream of a payment of an organization.
///
/// A payment's stream is its [`PaymentKey`] (`{organizationId}/{paymentId}`). A store written
/// before payment ids were per organization holds streams named by the payment id alone; such
/// a stream belongs to the organization recorded in its first event, and only to it: for any
/// other organization it does not exist (that organization's payment of the same id lives in
/// its own keyed stream). Nothing is rewritten: commands on a legacy payment append to its
/// legacy stream.
#[derive(Clone)]
pub struct PaymentStreams {
    store: Arc<dyn EventStore>,
}

impl std::fmt::Debug for PaymentStreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentStreams").finish_non_exhaustive()
    }
}

impl PaymentStreams {
    /// Whether `key`'s payment has any event (in its own stream or its legacy stream).
    pub async fn exists(&self, key: &PaymentKey) -> StoreResult<bool> {
        let stream = self.resolve(key).await?;
        Ok(self.store.stream_version(&stream).await? > 0)
    }

    /// Streams of `store`.
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self { store }
    }

    /// The stream id of `key`'s payment: the key itself, unless that stream is empty and a
    /// legacy stream named by the payment id belongs to the key's organization.
    pub async fn resolve(&self, key: &PaymentKey) -> StoreResult<String> {
        if self.store.stream_version(key.as_str()).await? > 0 {
            return Ok(key.as_str().to_owned());
        }
        Ok(self.legacy(key).await?.unwrap_or_else(|| key.as_str().to_owned()))
    }

    /// The legacy stream of `key`'s payment (named by its payment id), when there is one and it
    /// belongs to the key's organization.
    pub async fn legacy(&self, key: &PaymentKey) -> StoreResult<Option<String>> {
        let owner = self.legacy_owner(key.payment_id()).await?;
        Ok((owner.as_deref() == Some(key.organization_id())).then(|| key.payment_id().to_owned()))
    }

    /// The organization recorded in the first event of the legacy stream `payment_id`
    /// (`None` when there is no such stream).
    async fn legacy_owner(&self, payment_id: &str) -> StoreResult<Option<String>> {
        let mut stream = self.store.read_stream(payment_id, 1);
        let first = stream.try_next().await?;
        Ok(first.and_then(|event| event.metadata.organization_id))
    }
}
