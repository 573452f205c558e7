//! The projections of the billing read side: the payment read model and the search index.
//!
//! Each is both an inline [`EventHandler`] (registered on the [`hive_application::EventBus`]
//! so a command's caller reads its own write) and a [`Projection`] for the
//! [`hive_application::ProjectionRunner`] (catch-up and rebuild from the global log). Both are
//! idempotent by global position: an event at or below the position stored with the payment is
//! skipped, and an event that does not follow the stored version is refused (so nothing is
//! ever skipped silently; the runner applies it in order later).

use std::sync::Arc;

use async_trait::async_trait;
use hive_application::{ApplicationError, EventHandler, Projection};
use hive_domain::{Aggregate, EventEnvelope, UpcasterChain};

use crate::{
    Payment, PaymentEvent, PaymentReadModel, PaymentRecord, PaymentSearchDocument, PaymentSearchIndex, PaymentView,
};

/// The decoded payment event of `envelope` and its global position, or `None` for events of
/// other aggregates.
fn payment_event(
    upcasters: &UpcasterChain,
    envelope: &EventEnvelope,
) -> Result<Option<(PaymentEvent, u64)>, ApplicationError> {
    if envelope.aggregate_type != Payment::TYPE {
        return Ok(None);
    }
    let position = envelope.global_position.ok_or_else(|| {
        ApplicationError::Internal(format!(
            "payment event {} has no global position: billing projections need a store with a global log",
            envelope.event_id
        ))
    })?;
    Ok(Some((upcasters.decode(envelope)?, position)))
}

fn fold(
    previous: Option<&PaymentView>,
    envelope: &EventEnvelope,
    event: &PaymentEvent,
) -> Result<PaymentView, ApplicationError> {
    PaymentView::fold(previous, &envelope.aggregate_id, event, envelope.version)
        .map_err(|e| ApplicationError::Internal(e.to_string()))
}

/// Maintains the [`PaymentReadModel`] from payment events.
#[derive(Clone)]
pub struct PaymentReadModelProjection {
    read_model: Arc<dyn PaymentReadModel>,
    upcasters: Arc<UpcasterChain>,
}

impl std::fmt::Debug for PaymentReadModelProjection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentReadModelProjection").finish_non_exhaustive()
    }
}

impl PaymentReadModelProjection {
    /// The checkpoint name.
    pub const NAME: &'static str = "billing.payment_read_model";

    /// A projection into `read_model`, decoding events with `upcasters`.
    pub fn new(read_model: Arc<dyn PaymentReadModel>, upcasters: Arc<UpcasterChain>) -> Self {
        Self { read_model, upcasters }
    }

    /// Applies one stored event (events of other aggregates are ignored).
    pub async fn apply_event(&self, envelope: &EventEnvelope) -> Result<(), ApplicationError> {
        let Some((event, position)) = payment_event(&self.upcasters, envelope)? else {
            return Ok(());
        };
        let previous = self.read_model.get(&envelope.aggregate_id).await?;
        if previous.as_ref().is_some_and(|r| r.position >= position) {
            return Ok(());
        }
        let payment = fold(previous.as_ref().map(|r| &r.payment), envelope, &event)?;
        self.read_model.upsert(PaymentRecord { payment, position }).await?;
        Ok(())
    }
}

#[async_trait]
impl EventHandler for PaymentReadModelProjection {
    fn name(&self) -> &str {
        Self::NAME
    }

    async fn handle(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        self.apply_event(event).await
    }
}

#[async_trait]
impl Projection for PaymentReadModelProjection {
    fn name(&self) -> &str {
        Self::NAME
    }

    async fn apply(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        self.apply_event(event).await
    }

    async fn reset(&self) -> Result<(), ApplicationError> {
        Ok(self.read_model.reset().await?)
    }
}

/// Maintains the [`PaymentSearchIndex`] from payment events (from the log, not from the read
/// model: the two never depend on each other).
#[derive(Clone)]
pub struct PaymentSearchProjection {
    index: Arc<dyn PaymentSearchIndex>,
    upcasters: Arc<UpcasterChain>,
}

impl std::fmt::Debug for PaymentSearchProjection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentSearchProjection").finish_non_exhaustive()
    }
}

impl PaymentSearchProjection {
    /// The checkpoint name.
    pub const NAME: &'static str = "billing.payment_search_index";

    /// A projection into `index`, decoding events with `upcasters`.
    pub fn new(index: Arc<dyn PaymentSearchIndex>, upcasters: Arc<UpcasterChain>) -> Self {
        Self { index, upcasters }
    }

    /// Applies one stored event (events of other aggregates are ignored).
    pub async fn apply_event(&self, envelope: &EventEnvelope) -> Result<(), ApplicationError> {
        let Some((event, position)) = payment_event(&self.upcasters, envelope)? else {
            return Ok(());
        };
        let previous = self.index.get(&envelope.aggregate_id).await?;
        if previous.as_ref().is_some_and(|d| d.position >= position) {
            return Ok(());
        }
        let payment = fold(previous.as_ref().map(|d| &d.payment), envelope, &event)?;
        let report = self
            .index
            .index(vec![PaymentSearchDocument::new(payment, position)])
            .await?;
        match report.failed.into_iter().next() {
            Some(failure) => Err(ApplicationError::Unavailable(format!(
                "search index refused payment `{}`: {}",
                failure.payment_id, failure.reason
            ))),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl EventHandler for PaymentSearchProjection {
    fn name(&self) -> &str {
        Self::NAME
    }

    async fn handle(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        self.apply_event(event).await
    }
}

#[async_trait]
impl Projection for PaymentSearchProjection {
    fn name(&self) -> &str {
        Self::NAME
    }

    async fn apply(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        self.apply_event(event).await
    }

    async fn reset(&self) -> Result<(), ApplicationError> {
        Ok(self.index.reset().await?)
    }
}
