//! `ReplayPayment`: a payment's state rebuilt from its events.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use hive_application::cache::{CachePolicy, Cacheable};
use hive_application::{ApplicationError, Handler, Message, MessageContext, Query};
use hive_domain::{Aggregate, EventStore, UpcasterChain};
use serde::{Deserialize, Serialize};

use crate::validate::Fields;
use crate::{Payment, PaymentEvent, PaymentKey, PaymentStreams, PaymentView};

/// The state of a payment of the caller's organization rebuilt from its events: at its latest
/// version (neither bound set), at `version` N (events 1..=N), or as of `asOf` (the events
/// recorded at or before that instant). At most one of `version` and `asOf`.
///
/// `NotFound` when the payment does not exist (at that point) or belongs to another
/// organization; a validation error when `version` is beyond the payment's last event.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayPayment {
    /// The payment.
    pub payment_id: String,
    /// Replay events 1..=version.
    #[serde(default)]
    pub version: Option<u64>,
    /// Replay the events recorded at or before this instant.
    #[serde(default)]
    pub as_of: Option<DateTime<Utc>>,
}

impl Message for ReplayPayment {
    type Output = PaymentReplay;

    fn name() -> &'static str {
        "ReplayPayment"
    }

    fn validate(&self) -> Result<(), ApplicationError> {
        Fields::new()
            .payment_id("paymentId", &self.payment_id)
            .check(self.version.is_none_or(|v| v >= 1), "version", "must be at least 1")
            .check(
                self.version.is_none() || self.as_of.is_none(),
                "asOf",
                "give either `version` or `asOf`, not both",
            )
            .finish()
    }
}

impl Query for ReplayPayment {}

impl Cacheable for ReplayPayment {
    fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
        crate::cache::payment_policy(self, context, &self.payment_id)
    }
}

/// `{"payment": view, "eventsApplied", "latestVersion"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentReplay {
    /// The payment as it was (its `version` is the number of events applied).
    pub payment: PaymentView,
    /// Events folded.
    pub events_applied: u64,
    /// The payment's current version.
    pub latest_version: u64,
}

/// Rebuilds payments from the event store (through the upcasters).
#[derive(Clone)]
pub struct ReplayPaymentHandler {
    store: Arc<dyn EventStore>,
    streams: PaymentStreams,
    upcasters: Arc<UpcasterChain>,
}

impl std::fmt::Debug for ReplayPaymentHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayPaymentHandler").finish_non_exhaustive()
    }
}

impl ReplayPaymentHandler {
    /// A handler reading `store`, decoding with `upcasters`.
    pub fn new(store: Arc<dyn EventStore>, upcasters: Arc<UpcasterChain>) -> Self {
        Self {
            streams: PaymentStreams::new(Arc::clone(&store)),
            store,
            upcasters,
        }
    }
}

impl Handler<ReplayPayment> for ReplayPaymentHandler {
    async fn handle(&self, query: &ReplayPayment, context: &MessageContext) -> Result<PaymentReplay, ApplicationError> {
        let organization_id = context.organization()?;
        let not_found = || ApplicationError::not_found("payment", query.payment_id.clone());
        let stream_id = self
            .streams
            .resolve(&PaymentKey::new(organization_id, &query.payment_id))
            .await?;
        let mut state = Payment::default();
        let mut applied = 0;
        let mut stream = self.store.read_stream(&stream_id, 1);
        while let Some(envelope) = stream.try_next().await? {
            let past_version = query.version.is_some_and(|v| envelope.version > v);
            let past_time = query.as_of.is_some_and(|t| envelope.timestamp > t);
            if past_version || past_time || envelope.aggregate_type != Payment::TYPE {
                break;
            }
            let event: PaymentEvent = self.upcasters.decode(&envelope)?;
            state.apply(&event);
            applied = envelope.version;
        }
        let payment = PaymentView::from_payment(&state, applied)
            .filter(|p| p.organization_id == organization_id)
            .ok_or_else(not_found)?;
        drop(stream);
        let latest_version = self.store.stream_version(&stream_id).await?;
        if let Some(version) = query.version.filter(|v| *v > latest_version) {
            return Err(ApplicationError::invalid(
                "version",
                format!("must be at most {latest_version}, the payment's last version (asked {version})"),
            ));
        }
        Ok(PaymentReplay {
            payment,
            events_applied: applied,
            latest_version,
        })
    }
}
