//! Queries answered by the payment search index: search and suggestions.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hive_application::cache::{CachePolicy, Cacheable};
use hive_application::{ApplicationError, Handler, Message, MessageContext, Query};
use hive_domain::TimeRange;
use serde::{Deserialize, Serialize};

use super::{default_page, default_size, offset_of, page_count};
use crate::validate::Fields;
use crate::{Amount, PaymentSearchCriteria, PaymentSearchIndex, PaymentStatus, ScoredPayment, Suggestion};

/// Longest suggestion prefix.
const MAX_PREFIX_LEN: usize = 100;
/// Most suggestions asked at once.
const MAX_SUGGESTIONS: usize = 50;

/// Full-text and filtered search over the caller's organization's payments (semantics:
/// [`PaymentSearchCriteria`]). `page` is 1-based; `size` 1–100 (default 20).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPayments {
    /// Free text (fuzzy) over description (weight 2), payment id and tags.
    #[serde(default)]
    pub text: Option<String>,
    /// Only these statuses.
    #[serde(default)]
    pub statuses: Vec<PaymentStatus>,
    /// Only these ISO 4217 currencies.
    #[serde(default)]
    pub currencies: Vec<String>,
    /// Only amounts ≥ this.
    #[serde(default)]
    pub min_amount: Option<Amount>,
    /// Only amounts ≤ this.
    #[serde(default)]
    pub max_amount: Option<Amount>,
    /// Only payments processed at or after this.
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    /// Only payments processed before this.
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
    /// The page, from 1.
    #[serde(default = "default_page")]
    pub page: u64,
    /// The page size.
    #[serde(default = "default_size")]
    pub size: u64,
}

impl SearchPayments {
    /// A search of page 1 of 20, no filter.
    pub fn new() -> Self {
        Self {
            page: default_page(),
            size: default_size(),
            ..Self::default()
        }
    }
}

impl Message for SearchPayments {
    type Output = PaymentSearchPage;

    fn name() -> &'static str {
        "SearchPayments"
    }

    fn validate(&self) -> Result<(), ApplicationError> {
        let mut fields = Fields::new();
        for code in &self.currencies {
            fields.currency("currencies", code);
        }
        if let (Some(min), Some(max)) = (self.min_amount, self.max_amount) {
            fields.check(min <= max, "minAmount", "must not be greater than `maxAmount`");
        }
        if let (Some(from), Some(to)) = (self.from, self.to) {
            fields.range(from, to);
        }
        fields
            .check(self.page >= 1, "page", "must be at least 1")
            .page_size("size", self.size)
            .check(
                self.text.as_deref().is_none_or(|t| t.chars().count() <= 1000),
                "text",
                "must be at most 1000 characters",
            )
            .finish()
    }
}

impl Query for SearchPayments {}

impl Cacheable for SearchPayments {
    fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
        crate::cache::org_policy(self, context, crate::cache::payments_tag)
    }
}

/// A page of search results: `{"items", "total", "page", "size", "totalPages"}`; each item is a
/// payment view with its `score`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentSearchPage {
    /// The page, best first.
    pub items: Vec<ScoredPayment>,
    /// All matches.
    pub total: u64,
    /// The page number.
    pub page: u64,
    /// The page size.
    pub size: u64,
    /// How many pages all matches fill.
    pub total_pages: u64,
}

/// Completions of a description prefix among the caller's organization's payments (semantics:
/// [`Suggestion::suggest`]). `size` 1–50 (default 10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPaymentSuggestions {
    /// The prefix typed so far (1–100 characters).
    pub prefix: String,
    /// How many suggestions at most.
    #[serde(default = "default_suggestions")]
    pub size: usize,
}

fn default_suggestions() -> usize {
    10
}

impl Message for GetPaymentSuggestions {
    type Output = Suggestions;

    fn name() -> &'static str {
        "GetPaymentSuggestions"
    }

    fn validate(&self) -> Result<(), ApplicationError> {
        Fields::new()
            .check(!self.prefix.trim().is_empty(), "prefix", "must not be empty")
            .check(
                self.prefix.chars().count() <= MAX_PREFIX_LEN,
                "prefix",
                format!("must be at most {MAX_PREFIX_LEN} characters"),
            )
            .check(
                (1..=MAX_SUGGESTIONS).contains(&self.size),
                "size",
                format!("must be between 1 and {MAX_SUGGESTIONS}"),
            )
            .finish()
    }
}

impl Query for GetPaymentSuggestions {}

impl Cacheable for GetPaymentSuggestions {
    fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
        crate::cache::org_policy(self, context, crate::cache::payments_tag)
    }
}

/// `{"items": [{"text", "score"}]}`, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestions {
    /// The suggestions.
    pub items: Vec<Suggestion>,
}

/// Answers the search-index queries.
#[derive(Clone)]
pub struct PaymentSearchHandler {
    index: Arc<dyn PaymentSearchIndex>,
}

impl std::fmt::Debug for PaymentSearchHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentSearchHandler").finish_non_exhaustive()
    }
}

impl PaymentSearchHandler {
    /// A handler reading `index`.
    pub fn new(index: Arc<dyn PaymentSearchIndex>) -> Self {
        Self { index }
    }
}

impl Handler<SearchPayments> for PaymentSearchHandler {
    async fn handle(
        &self,
        query: &SearchPayments,
        context: &MessageContext,
    ) -> Result<PaymentSearchPage, ApplicationError> {
        let currencies = query
            .currencies
            .iter()
            .map(|code| code.parse())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e: crate::UnknownCurrency| ApplicationError::invalid("currencies", e.to_string()))?;
        let criteria = PaymentSearchCriteria {
            organization_id: context.organization()?.to_owned(),
            text: query.text.clone().filter(|t| !t.trim().is_empty()),
            statuses: query.statuses.clone(),
            currencies,
            min_amount: query.min_amount.map(|a| a.value()),
            max_amount: query.max_amount.map(|a| a.value()),
            processed: TimeRange {
                from: query.from,
                to: query.to,
            },
            offset: offset_of(query.page, query.size),
            limit: query.size,
        };
        let results = self.index.search(&criteria).await?;
        Ok(PaymentSearchPage {
            total_pages: page_count(results.total, query.size),
            items: results.items,
            total: results.total,
            page: query.page,
            size: query.size,
        })
    }
}

impl Handler<GetPaymentSuggestions> for PaymentSearchHandler {
    async fn handle(
        &self,
        query: &GetPaymentSuggestions,
        context: &MessageContext,
    ) -> Result<Suggestions, ApplicationError> {
        let organization_id = context.organization()?;
        Ok(Suggestions {
            items: self.index.suggest(organization_id, &query.prefix, query.size).await?,
        })
    }
}
