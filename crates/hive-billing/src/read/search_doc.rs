//! `PaymentSearchDocument`: what the search index stores per payment.

use serde::{Deserialize, Serialize};

use crate::read::text;
use crate::PaymentView;

/// A payment as the search index stores it: the [`PaymentView`] fields (flattened, camelCase)
/// plus the completion inputs of its description (`suggest`, an Elasticsearch `completion`
/// field) and the global position of the last event applied (the write is skipped when the
/// index holds a greater one: Elasticsearch `version_type: external_gte`).
///
/// Full-text fields: `description` (analysed text, weight 2), `paymentId` and `tags` with the
/// metadata values ([`PaymentView::search_tags`], keywords, weight 1) — see
/// [`crate::PaymentSearchCriteria::score`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentSearchDocument {
    /// The payment.
    #[serde(flatten)]
    pub payment: PaymentView,
    /// Completion inputs of the description ([`text::completion_inputs`]).
    pub suggest: Vec<String>,
    /// Global position of the last event applied.
    pub position: u64,
}

impl PaymentSearchDocument {
    /// The document of `payment` as of global position `position`.
    pub fn new(payment: PaymentView, position: u64) -> Self {
        Self {
            suggest: text::completion_inputs(&payment.description),
            payment,
            position,
        }
    }
}
