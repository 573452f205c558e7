//! Payment search criteria, results and suggestions, with their reference semantics.

use std::collections::BTreeMap;

use hive_domain::TimeRange;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::read::text;
use crate::{Currency, PaymentSearchDocument, PaymentStatus, PaymentView};

/// The weight of a `description` match over a `paymentId` or `tags` match (`description^2`).
pub const DESCRIPTION_BOOST: f64 = 2.0;

/// What to search for. Every set filter must hold (AND).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentSearchCriteria {
    /// Only this organization's payments (always set: the caller's).
    pub organization_id: String,
    /// Free text (fuzzy; see [`PaymentSearchCriteria::score`]).
    pub text: Option<String>,
    /// Only these statuses (empty: any).
    pub statuses: Vec<PaymentStatus>,
    /// Only these currencies (empty: any).
    pub currencies: Vec<Currency>,
    /// Only amounts ≥ this (compared as numbers, whatever the currency).
    pub min_amount: Option<Decimal>,
    /// Only amounts ≤ this.
    pub max_amount: Option<Decimal>,
    /// Only payments whose `processedAt` lies in this half-open range (a payment never
    /// processed does not match a range with a bound).
    pub processed: TimeRange,
    /// Matches to skip.
    pub offset: u64,
    /// Matches to return at most.
    pub limit: u64,
}

/// One match and its relevance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoredPayment {
    /// The payment.
    #[serde(flatten)]
    pub payment: PaymentView,
    /// Relevance (0 when the search has no text).
    pub score: f64,
}

/// One page of matches and the number of all matches.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PaymentSearchResults {
    /// The page, best first.
    pub items: Vec<ScoredPayment>,
    /// All matches.
    pub total: u64,
}

/// A completion of a description prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The description.
    pub text: String,
    /// How many of the organization's payments have that description.
    pub score: f64,
}

impl PaymentSearchCriteria {
    /// Whether a payment passes every filter except the text.
    pub fn passes_filters(&self, payment: &PaymentView) -> bool {
        let processed_ok = match (self.processed.from, self.processed.to) {
            (None, None) => true,
            _ => payment.processed_at.is_some_and(|at| self.processed.contains(at)),
        };
        payment.organization_id == self.organization_id
            && (self.statuses.is_empty() || self.statuses.contains(&payment.status))
            && (self.currencies.is_empty() || self.currencies.contains(&payment.currency))
            && self.min_amount.is_none_or(|min| payment.amount.value() >= min)
            && self.max_amount.is_none_or(|max| payment.amount.value() <= max)
            && processed_ok
    }

    /// The relevance of a payment for the text, `None` when it does not match (`Some(0.0)` when
    /// there is no text). The reference of Elasticsearch's `multi_match` of type `best_fields`
    /// over `description^2, paymentId, tags` with `fuzziness: AUTO` (operator OR):
    ///
    /// * `description` field score: for each token of the query ([`text::tokens`]), its best
    ///   [`text::term_similarity`] among the description's tokens, summed;
    /// * `paymentId` field score: for each whitespace-separated query word, its similarity to
    ///   the lower-cased payment id, summed;
    /// * `tags` field score: for each query word, its best similarity among the lower-cased
    ///   [`PaymentView::search_tags`] (tags and metadata values), summed;
    /// * score = max(2 × description, paymentId, tags); the payment matches when it is > 0.
    pub fn score(&self, payment: &PaymentView) -> Option<f64> {
        let Some(query) = self.text.as_deref().filter(|t| !t.trim().is_empty()) else {
            return Some(0.0);
        };
        let description = text::tokens(&payment.description);
        let description_score: f64 = text::tokens(query)
            .iter()
            .map(|term| text::best_similarity(term, description.iter().map(String::as_str)))
            .sum();
        let words = text::query_words(query);
        let id = payment.payment_id.to_lowercase();
        let id_score: f64 = words.iter().map(|w| text::best_similarity(w, [id.as_str()])).sum();
        let tags: Vec<String> = payment.search_tags().map(str::to_lowercase).collect();
        let tags_score: f64 = words
            .iter()
            .map(|w| text::best_similarity(w, tags.iter().map(String::as_str)))
            .sum();
        let score = (DESCRIPTION_BOOST * description_score).max(id_score).max(tags_score);
        (score > 0.0).then_some(score)
    }

    /// The reference search over `documents`: the matches, ordered by score descending, then
    /// `processedAt` descending (never processed last), then `paymentId` ascending; the page
    /// `[offset, offset + limit)` of them and their total.
    pub fn search<'a>(&self, documents: impl IntoIterator<Item = &'a PaymentSearchDocument>) -> PaymentSearchResults {
        let mut matches: Vec<ScoredPayment> = documents
            .into_iter()
            .map(|d| &d.payment)
            .filter(|p| self.passes_filters(p))
            .filter_map(|p| {
                self.score(p).map(|score| ScoredPayment {
                    payment: p.clone(),
                    score,
                })
            })
            .collect();
        matches.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| crate::organization_order(&a.payment, &b.payment))
        });
        let total = matches.len() as u64;
        let offset = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        PaymentSearchResults {
            items: matches.into_iter().skip(offset).take(limit).collect(),
            total,
        }
    }
}

impl Suggestion {
    /// The reference completion: among `organization_id`'s documents, those with a completion
    /// input (`suggest`, see [`text::completion_inputs`]) starting with the normalised `prefix`
    /// ([`text::normalize_prefix`]), grouped by exact description; score = payments in the
    /// group; ordered by score descending then text ascending; the first `size`. An empty
    /// prefix completes nothing.
    pub fn suggest<'a>(
        documents: impl IntoIterator<Item = &'a PaymentSearchDocument>,
        organization_id: &str,
        prefix: &str,
        size: usize,
    ) -> Vec<Suggestion> {
        let prefix = text::normalize_prefix(prefix);
        if prefix.is_empty() {
            return Vec::new();
        }
        let mut groups: BTreeMap<&str, u64> = BTreeMap::new();
        for document in documents {
            let inputs_match = document
                .suggest
                .iter()
                .any(|input| input.starts_with(&prefix) || format!("{input} ").starts_with(&prefix));
            if document.payment.organization_id == organization_id && inputs_match {
                *groups.entry(document.payment.description.as_str()).or_default() += 1;
            }
        }
        let mut suggestions: Vec<Suggestion> = groups
            .into_iter()
            .map(|(text, count)| Suggestion {
                text: text.to_owned(),
                score: count as f64,
            })
            .collect();
        suggestions.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.text.cmp(&b.text)));
        suggestions.truncate(size);
        suggestions
    }
}
