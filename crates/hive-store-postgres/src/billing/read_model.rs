//! [`PostgresPaymentReadModel`]: payment views in the `payments` table.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use hive_billing::{
    BillingResult, DailyBucket, PaymentKey, PaymentList, PaymentReadModel, PaymentRecord, PaymentStatistics,
};
use hive_domain::{Page, TimeRange};
use tokio_postgres::types::ToSql;

use super::codec::{billing_error, corrupt, decode};
use super::sql::PaymentStatements;
use crate::event_store::codec::int;
use crate::store::Shared;

/// A [`PaymentReadModel`] on PostgreSQL: one row of `payments` per payment, keyed by its
/// [`PaymentKey`] (`{organizationId}/{paymentId}`: two organizations' same payment id are two
/// rows), with the global position of the last event applied (an upsert at a smaller
/// position leaves the row alone, so re-applying events after a crash changes nothing).
///
/// Each upsert is one `INSERT … ON CONFLICT DO UPDATE … WHERE position <= EXCLUDED.position`
/// of the whole batch (`unnest` of one array per column); a batch is written in one
/// transaction. Listing, key paging, statistics and trends are single SQL statements on the
/// table's indexes (see the crate README). Clones share the store's pool.
///
/// ```no_run
/// use hive_billing::{PaymentKey, PaymentReadModel};
/// use hive_store_postgres::{PostgresOptions, PostgresStore};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = PostgresStore::connect("postgres://hive@127.0.0.1:5432/hive", PostgresOptions::default()).await?;
/// let payments = store.payment_read_model();
/// assert!(payments.get(&PaymentKey::new("org-1", "pay-1")).await?.is_none());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PostgresPaymentReadModel {
    pub(super) shared: Arc<Shared>,
    pub(super) sql: Arc<PaymentStatements>,
}

impl PostgresPaymentReadModel {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        let sql = Arc::new(PaymentStatements::new(&shared.schema));
        Self { shared, sql }
    }

    /// Runs `sql` (prepared once per pooled connection) and returns its rows.
    pub(super) async fn query(
        &self,
        what: &'static str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> BillingResult<Vec<tokio_postgres::Row>> {
        self.shared.query(what, sql, params).await.map_err(billing_error)
    }
}

#[async_trait]
impl PaymentReadModel for PostgresPaymentReadModel {
    /// [`upsert_many`](PaymentReadModel::upsert_many) of the one record.
    async fn upsert(&self, record: PaymentRecord) -> BillingResult<bool> {
        Ok(self.upsert_many(vec![record]).await? == 1)
    }

    async fn get(&self, key: &PaymentKey) -> BillingResult<Option<PaymentRecord>> {
        let rows = self.query("get a payment", &self.sql.get, &[&key.as_str()]).await?;
        rows.first().map(|row| decode(row, 0)).transpose()
    }

    /// One `SELECT … WHERE payment_key = ANY($1)`.
    async fn get_many(&self, keys: &[&PaymentKey]) -> BillingResult<Vec<Option<PaymentRecord>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<&str> = keys.iter().map(|key| key.as_str()).collect();
        let rows = self.query("get payments", &self.sql.get_many, &[&texts]).await?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in &rows {
            let key: String = row
                .try_get(0)
                .map_err(|e| corrupt("payment", format!("`payment_key`: {e}")))?;
            found.insert(key, decode(row, 1)?);
        }
        Ok(texts.iter().map(|key| found.get(*key).cloned()).collect())
    }

    /// In one transaction: a stale record (a greater position stored) is skipped, and either
    /// the whole batch is written or, on an error, none of it.
    async fn upsert_many(&self, records: Vec<PaymentRecord>) -> BillingResult<usize> {
        self.upsert_many_with(records, None).await
    }

    /// One statement (one snapshot): the count, and the page joined to it (a page past the
    /// end is the count alone).
    async fn list_by_organization(&self, organization_id: &str, page: Page) -> BillingResult<PaymentList> {
        let (limit, offset) = (int(page.limit_usize() as u64), int(page.offset));
        let rows = self
            .query("list payments", &self.sql.page, &[&organization_id, &limit, &offset])
            .await?;
        let total: i64 = match rows.first() {
            Some(row) => row.try_get(0).map_err(|e| corrupt("payment listing", e))?,
            None => 0,
        };
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let view: Option<serde_json::Value> = row.try_get(1).map_err(|e| corrupt("payment listing", e))?;
            if view.is_some() {
                items.push(decode(row, 1)?.payment);
            }
        }
        Ok(PaymentList {
            items,
            total: u64::try_from(total).unwrap_or_default(),
        })
    }

    async fn statistics(&self, organization_id: &str, range: TimeRange) -> BillingResult<PaymentStatistics> {
        super::statistics::statistics(self, organization_id, &range).await
    }

    async fn trends(&self, organization_id: &str, range: TimeRange) -> BillingResult<Vec<DailyBucket>> {
        super::statistics::trends(self, organization_id, &range).await
    }

    /// `payment_key > after` ascending (byte order, as [`PaymentKey`]'s), of one organization
    /// (`organization_id` equal: `org-a/sub/p1` is not a payment of `org-a`) or of all.
    async fn list_keys(
        &self,
        organization_id: Option<&str>,
        after: Option<&PaymentKey>,
        limit: usize,
    ) -> BillingResult<Vec<PaymentKey>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let after = after.map(PaymentKey::as_str);
        let limit = int(limit as u64);
        let mut sql = format!("SELECT payment_key FROM {} WHERE TRUE", self.sql.table);
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(3);
        if let Some(organization) = &organization_id {
            params.push(organization);
            sql.push_str(&format!(" AND organization_id = ${}", params.len()));
        }
        if let Some(after) = &after {
            params.push(after);
            sql.push_str(&format!(" AND payment_key > ${}", params.len()));
        }
        params.push(&limit);
        sql.push_str(&format!(" ORDER BY payment_key LIMIT ${}", params.len()));
        let rows = self.query("list payment keys", &sql, &params).await?;
        rows.iter()
            .map(|row| {
                let text: String = row
                    .try_get(0)
                    .map_err(|e| corrupt("payment", format!("`payment_key`: {e}")))?;
                text.parse().map_err(|e| corrupt(text, e))
            })
            .collect()
    }

    async fn reset(&self) -> BillingResult<()> {
        self.shared
            .execute("reset the payment read model", &self.sql.reset, &[])
            .await
            .map(drop)
            .map_err(billing_error)
    }
}
