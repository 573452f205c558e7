//! The projections of the billing read side: the payment read model and the search index.
//!
//! Each is both an inline [`EventHandler`] (registered on the [`hive_application::EventBus`]
//! so a command's caller reads its own write) and a [`Projection`] for the
//! [`hive_application::ProjectionRunner`] (catch-up and rebuild from the global log). Both are
//! idempotent by global position: an event at or below the position stored with the payment is
//! skipped, and an event that does not follow the stored version is refused (so nothing is
//! ever skipped silently; the runner applies it in order later).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use hive_application::{ApplicationError, BatchError, EventHandler, Projection};
use hive_domain::{Aggregate, EventEnvelope, UpcasterChain};

use crate::{
    Payment, PaymentEvent, PaymentKey, PaymentReadModel, PaymentRecord, PaymentSearchDocument, PaymentSearchIndex,
    PaymentView,
};

/// The version of both billing projections' read models: 2 since records and documents are
/// keyed by [`PaymentKey`] (organization and payment id) rather than by payment id alone. A
/// read model written by an earlier version is rebuilt from the log when the service starts.
pub const BILLING_PROJECTION_VERSION: u32 = 2;

/// One decoded payment event: its payment, the event and its global position.
type PaymentFact = (PaymentKey, PaymentEvent, u64);

/// The decoded payment event of `envelope`, or `None` for events of other aggregates.
fn payment_event(upcasters: &UpcasterChain, envelope: &EventEnvelope) -> Result<Option<PaymentFact>, ApplicationError> {
    if envelope.aggregate_type != Payment::TYPE {
        return Ok(None);
    }
    let position = envelope.global_position.ok_or_else(|| {
        ApplicationError::Internal(format!(
            "payment event {} has no global position: billing projections need a store with a global log",
            envelope.event_id
        ))
    })?;
    let key = PaymentKey::of_event(envelope).ok_or_else(|| {
        ApplicationError::Internal(format!(
            "payment event {} of stream `{}` names no organization",
            envelope.event_id, envelope.aggregate_id
        ))
    })?;
    Ok(Some((key, upcasters.decode(envelope)?, position)))
}

fn fold(
    previous: Option<&PaymentView>,
    key: &PaymentKey,
    envelope: &EventEnvelope,
    event: &PaymentEvent,
) -> Result<PaymentView, ApplicationError> {
    PaymentView::fold(previous, key.as_str(), event, envelope.version)
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
        let Some((key, event, position)) = payment_event(&self.upcasters, envelope)? else {
            return Ok(());
        };
        let previous = self.read_model.get(&key).await?;
        if previous.as_ref().is_some_and(|r| r.position >= position) {
            return Ok(());
        }
        let payment = fold(previous.as_ref().map(|r| &r.payment), &key, envelope, &event)?;
        self.read_model.upsert(PaymentRecord { payment, position }).await?;
        Ok(())
    }

    /// Applies a page of stored events, in order, with one [`PaymentReadModel::get_many`] and
    /// one [`PaymentReadModel::upsert_many`]: the read model ends as after
    /// [`apply_event`](Self::apply_event) of each event in order.
    ///
    /// The payment events are grouped by payment (keeping their order), and each payment's
    /// events are folded onto its stored record with the same rules: an event at or below
    /// the position reached is skipped, an event that does not follow the version reached is
    /// refused. Any error (decoding, folding, the read model) fails the whole page before it
    /// is written, except a failure of `upsert_many` itself, which may have written part of
    /// it; the [`hive_application::ProjectionRunner`] then applies the page event by event.
    pub async fn apply_events(&self, envelopes: &[EventEnvelope]) -> Result<(), ApplicationError> {
        let page = PaymentPage::decode(&self.upcasters, envelopes)?;
        if page.is_empty() {
            return Ok(());
        }
        let wanted: Vec<&PaymentKey> = page.keys.iter().collect();
        let stored = self.read_model.get_many(&wanted).await?;
        if stored.len() != page.keys.len() {
            return Err(ApplicationError::Internal(format!(
                "the payment read model answered {} records for {} keys",
                stored.len(),
                page.keys.len()
            )));
        }
        let stored = stored.into_iter().map(|r| r.map(|r| (r.payment, r.position))).collect();
        let records: Vec<PaymentRecord> = page
            .fold(stored)?
            .into_iter()
            .map(|(payment, position)| PaymentRecord { payment, position })
            .collect();
        if !records.is_empty() {
            self.read_model.upsert_many(records).await?;
        }
        Ok(())
    }
}

/// A page of the log's payment events grouped by payment, each payment's events in log order.
struct PaymentPage<'a> {
    /// The payments, in order of first appearance.
    keys: Vec<PaymentKey>,
    /// Each event with the index of its payment in `keys`, sorted by that index (stable).
    events: Vec<(usize, &'a EventEnvelope, PaymentEvent, u64)>,
}

impl<'a> PaymentPage<'a> {
    /// Decodes the payment events of `envelopes` (others are left out) and groups them.
    fn decode(upcasters: &UpcasterChain, envelopes: &'a [EventEnvelope]) -> Result<Self, ApplicationError> {
        let mut keys: Vec<PaymentKey> = Vec::with_capacity(envelopes.len());
        let mut slot_of: HashMap<PaymentKey, usize> = HashMap::with_capacity(envelopes.len());
        let mut events = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            let Some((key, event, position)) = payment_event(upcasters, envelope)? else {
                continue;
            };
            let slot = match slot_of.get(&key) {
                Some(slot) => *slot,
                None => {
                    keys.push(key.clone());
                    slot_of.insert(key, keys.len() - 1);
                    keys.len() - 1
                }
            };
            events.push((slot, envelope, event, position));
        }
        events.sort_by_key(|(slot, ..)| *slot);
        Ok(Self { keys, events })
    }

    fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Folds each payment's events onto what is stored of it (`stored[i]` for `keys[i]`: the
    /// view and its position), skipping events at or below the position reached and refusing
    /// one that does not follow the version reached. The views that changed, with positions.
    fn fold(&self, stored: Vec<Option<(PaymentView, u64)>>) -> Result<Vec<(PaymentView, u64)>, ApplicationError> {
        let mut changed = Vec::with_capacity(self.keys.len());
        for (stored, events) in stored.into_iter().zip(self.events.chunk_by(|a, b| a.0 == b.0)) {
            let mut current = stored;
            let mut moved = false;
            for (slot, envelope, event, position) in events {
                if current.as_ref().is_some_and(|(_, at)| at >= position) {
                    continue;
                }
                let view = fold(current.as_ref().map(|(v, _)| v), &self.keys[*slot], envelope, event)?;
                current = Some((view, *position));
                moved = true;
            }
            if let Some(entry) = current.filter(|_| moved) {
                changed.push(entry);
            }
        }
        Ok(changed)
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

    fn version(&self) -> u32 {
        BILLING_PROJECTION_VERSION
    }

    async fn apply(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        self.apply_event(event).await
    }

    async fn reset(&self) -> Result<(), ApplicationError> {
        Ok(self.read_model.reset().await?)
    }

    /// [`PaymentReadModelProjection::apply_events`]: one read and one write of the read model
    /// per page. Whatever fails, it reports no event as certainly applied, and the runner
    /// applies the page again event by event (harmless: applying is idempotent by position).
    async fn apply_batch(&self, events: &[EventEnvelope]) -> Result<(), BatchError> {
        Ok(self.apply_events(events).await?)
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
        let Some((key, event, position)) = payment_event(&self.upcasters, envelope)? else {
            return Ok(());
        };
        let previous = self.index.get(&key).await?;
        if previous.as_ref().is_some_and(|d| d.position >= position) {
            return Ok(());
        }
        let payment = fold(previous.as_ref().map(|d| &d.payment), &key, envelope, &event)?;
        let report = self
            .index
            .index(vec![PaymentSearchDocument::new(payment, position)])
            .await?;
        match report.failed.into_iter().next() {
            Some(failure) => Err(ApplicationError::Unavailable(format!(
                "search index refused payment `{}`: {}",
                failure.key, failure.reason
            ))),
            None => Ok(()),
        }
    }
}

impl PaymentSearchProjection {
    /// Applies a page of stored events with one read per payment and one bulk write: the
    /// index ends as after [`apply_event`](Self::apply_event) of each event in order (same
    /// skip and refusal rules as [`PaymentReadModelProjection::apply_events`]). A document
    /// the bulk write refuses fails the page; the runner then applies it event by event.
    pub async fn apply_events(&self, envelopes: &[EventEnvelope]) -> Result<(), ApplicationError> {
        let page = PaymentPage::decode(&self.upcasters, envelopes)?;
        if page.is_empty() {
            return Ok(());
        }
        let mut stored = Vec::with_capacity(page.keys.len());
        for key in &page.keys {
            stored.push(self.index.get(key).await?.map(|d| (d.payment, d.position)));
        }
        let documents: Vec<PaymentSearchDocument> = page
            .fold(stored)?
            .into_iter()
            .map(|(payment, position)| PaymentSearchDocument::new(payment, position))
            .collect();
        if documents.is_empty() {
            return Ok(());
        }
        let report = self.index.index(documents).await?;
        match report.failed.into_iter().next() {
            Some(failure) => Err(ApplicationError::Unavailable(format!(
                "search index refused payment `{}`: {}",
                failure.key, failure.reason
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

    fn version(&self) -> u32 {
        BILLING_PROJECTION_VERSION
    }

    async fn apply(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        self.apply_event(event).await
    }

    async fn reset(&self) -> Result<(), ApplicationError> {
        Ok(self.index.reset().await?)
    }

    /// [`PaymentSearchProjection::apply_events`]: one read per payment and one bulk write per
    /// page (one refresh on Elasticsearch instead of one per event).
    async fn apply_batch(&self, events: &[EventEnvelope]) -> Result<(), BatchError> {
        Ok(self.apply_events(events).await?)
    }
}
