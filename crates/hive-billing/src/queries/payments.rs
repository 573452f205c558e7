//! Queries answered by the payment read model: by id, by organization, statistics, trends.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hive_application::cache::{CachePolicy, Cacheable};
use hive_application::{ApplicationError, Handler, Message, MessageContext, Query};
use hive_domain::{Page, TimeRange};
use serde::{Deserialize, Serialize};

use crate::validate::Fields;
use crate::{DailyBucket, PaymentKey, PaymentReadModel, PaymentStatistics, PaymentView};

/// One payment of the caller's organization (`NotFound` otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPaymentById {
    /// The payment.
    pub payment_id: String,
}

impl Message for GetPaymentById {
    type Output = PaymentView;

    fn name() -> &'static str {
        "GetPaymentById"
    }

    fn validate(&self) -> Result<(), ApplicationError> {
        Fields::new().payment_id("paymentId", &self.payment_id).finish()
    }
}

impl Query for GetPaymentById {}

impl Cacheable for GetPaymentById {
    fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
        crate::cache::payment_policy(self, context, &self.payment_id)
    }
}

/// The caller's organization's payments, `processedAt` descending (never processed last, see
/// [`crate::organization_order`]), `limit` (1–100, default 20) after `offset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPaymentsByOrganization {
    /// Page size.
    #[serde(default = "default_limit")]
    pub limit: u64,
    /// Payments to skip.
    #[serde(default)]
    pub offset: u64,
}

fn default_limit() -> u64 {
    20
}

impl Default for GetPaymentsByOrganization {
    fn default() -> Self {
        Self {
            limit: default_limit(),
            offset: 0,
        }
    }
}

impl Message for GetPaymentsByOrganization {
    type Output = PaymentPage;

    fn name() -> &'static str {
        "GetPaymentsByOrganization"
    }

    fn validate(&self) -> Result<(), ApplicationError> {
        Fields::new().page_size("limit", self.limit).finish()
    }
}

impl Query for GetPaymentsByOrganization {}

impl Cacheable for GetPaymentsByOrganization {
    fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
        crate::cache::org_policy(self, context, crate::cache::payments_tag)
    }
}

/// A page of payments: `{"items": [...], "total", "limit", "offset"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPage {
    /// The page.
    pub items: Vec<PaymentView>,
    /// All payments of the organization.
    pub total: u64,
    /// The page size asked for.
    pub limit: u64,
    /// The offset asked for.
    pub offset: u64,
}

/// Statistics of the caller's organization's payments in `[from, to)` (see
/// [`PaymentStatistics`] for the exact semantics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPaymentStatistics {
    /// Inclusive start.
    pub from: DateTime<Utc>,
    /// Exclusive end.
    pub to: DateTime<Utc>,
}

impl Message for GetPaymentStatistics {
    type Output = PaymentStatistics;

    fn name() -> &'static str {
        "GetPaymentStatistics"
    }

    fn validate(&self) -> Result<(), ApplicationError> {
        Fields::new().range(self.from, self.to).finish()
    }
}

impl Query for GetPaymentStatistics {}

impl Cacheable for GetPaymentStatistics {
    fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
        crate::cache::org_policy(self, context, crate::cache::payments_tag)
    }
}

/// Per UTC day and currency: count and total amount of the caller's organization's payments in
/// `[from, to)` (the `daily` part of [`PaymentStatistics`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPaymentTrends {
    /// Inclusive start.
    pub from: DateTime<Utc>,
    /// Exclusive end.
    pub to: DateTime<Utc>,
}

impl Message for GetPaymentTrends {
    type Output = PaymentTrends;

    fn name() -> &'static str {
        "GetPaymentTrends"
    }

    fn validate(&self) -> Result<(), ApplicationError> {
        Fields::new().range(self.from, self.to).finish()
    }
}

impl Query for GetPaymentTrends {}

impl Cacheable for GetPaymentTrends {
    fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
        crate::cache::org_policy(self, context, crate::cache::payments_tag)
    }
}

/// `{"daily": [{"date", "currency", "count", "totalAmount"}]}`, oldest day first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentTrends {
    /// Per day and currency.
    pub daily: Vec<DailyBucket>,
}

/// Answers the read-model queries.
#[derive(Clone)]
pub struct PaymentQueryHandler {
    read_model: Arc<dyn PaymentReadModel>,
}

impl std::fmt::Debug for PaymentQueryHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentQueryHandler").finish_non_exhaustive()
    }
}

impl PaymentQueryHandler {
    /// A handler reading `read_model`.
    pub fn new(read_model: Arc<dyn PaymentReadModel>) -> Self {
        Self { read_model }
    }
}

impl Handler<GetPaymentById> for PaymentQueryHandler {
    async fn handle(&self, query: &GetPaymentById, context: &MessageContext) -> Result<PaymentView, ApplicationError> {
        let key = PaymentKey::new(context.organization()?, &query.payment_id);
        self.read_model
            .get(&key)
            .await?
            .map(|record| record.payment)
            .filter(|payment| payment.organization_id == key.organization_id())
            .ok_or_else(|| ApplicationError::not_found("payment", query.payment_id.clone()))
    }
}

impl Handler<GetPaymentsByOrganization> for PaymentQueryHandler {
    async fn handle(
        &self,
        query: &GetPaymentsByOrganization,
        context: &MessageContext,
    ) -> Result<PaymentPage, ApplicationError> {
        let organization_id = context.organization()?;
        let list = self
            .read_model
            .list_by_organization(organization_id, Page::new(query.offset, query.limit))
            .await?;
        Ok(PaymentPage {
            items: list.items,
            total: list.total,
            limit: query.limit,
            offset: query.offset,
        })
    }
}

impl Handler<GetPaymentStatistics> for PaymentQueryHandler {
    async fn handle(
        &self,
        query: &GetPaymentStatistics,
        context: &MessageContext,
    ) -> Result<PaymentStatistics, ApplicationError> {
        let organization_id = context.organization()?;
        let range = TimeRange::between(query.from, query.to);
        Ok(self.read_model.statistics(organization_id, range).await?)
    }
}

impl Handler<GetPaymentTrends> for PaymentQueryHandler {
    async fn handle(
        &self,
        query: &GetPaymentTrends,
        context: &MessageContext,
    ) -> Result<PaymentTrends, ApplicationError> {
        let organization_id = context.organization()?;
        let range = TimeRange::between(query.from, query.to);
        Ok(PaymentTrends {
            daily: self.read_model.trends(organization_id, range).await?,
        })
    }
}
