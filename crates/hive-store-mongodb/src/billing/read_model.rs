//! [`MongoPaymentReadModel`]: payment views in `payment_read_models`.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use bson::{doc, Bson, Document};
use futures::TryStreamExt;
use hive_billing::{
    BillingResult, BillingStoreError, DailyBucket, PaymentKey, PaymentList, PaymentReadModel, PaymentRecord,
    PaymentStatistics,
};
use hive_domain::{Page, StoreResult, TimeRange};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};

use super::codec::{decode, encode, SUB_MS};
use super::pipelines;
use crate::error::{duplicate_key, store_error, DUPLICATE_KEY};
use crate::store::Shared;

/// A [`PaymentReadModel`] on MongoDB: one document per payment, `_id` = its [`PaymentKey`]
/// (`{organizationId}/{paymentId}`, so two organizations' same payment id are two documents),
/// with the position of the last event applied (an upsert with an older position is refused,
/// so re-applying events after a crash changes nothing).
///
/// [`reset`](PaymentReadModel::reset) also drops what a read model keyed by payment id alone
/// may have left behind: a unique index on `paymentId` (see the crate documentation).
///
/// Statistics and trends are aggregation pipelines (see the crate documentation).
#[derive(Debug, Clone)]
pub struct MongoPaymentReadModel {
    shared: Arc<Shared>,
}

fn index(keys: Document, name: &str) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(IndexOptions::builder().name(name.to_owned()).build())
        .build()
}

/// The seed's indexes, plus the listing order and the statistics range.
fn indexes() -> Vec<IndexModel> {
    let completed = IndexOptions::builder()
        .name("completed_by_organization".to_owned())
        .partial_filter_expression(doc! { "status": "completed" })
        .build();
    vec![
        index(
            doc! { "organizationId": 1, "processedAt": -1 },
            "organization_processed",
        ),
        index(doc! { "status": 1, "processedAt": -1 }, "status_processed"),
        index(doc! { "amount": 1, "processedAt": -1 }, "amount_processed"),
        index(
            doc! { "organizationId": 1, "status": 1, "processedAt": -1 },
            "organization_status_processed",
        ),
        index(doc! { "currency": 1, "status": 1 }, "currency_status"),
        IndexModel::builder()
            .keys(doc! { "organizationId": 1, "processedAt": -1, "paymentId": 1 })
            .options(completed)
            .build(),
        index(
            doc! { "organizationId": 1, "statisticsAt": 1 },
            "organization_statistics_at",
        ),
    ]
}

impl MongoPaymentReadModel {
    pub(crate) async fn open(shared: Arc<Shared>) -> StoreResult<Self> {
        let model = Self { shared };
        model
            .collection()
            .create_indexes(indexes())
            .await
            .map_err(|e| store_error("create the payment read-model indexes", &e))?;
        Ok(model)
    }

    fn collection(&self) -> Collection<Document> {
        self.shared
            .collection(&self.shared.options.collections.payment_read_models)
    }

    async fn facet(&self, organization_id: &str, range: &TimeRange, with_status: bool) -> BillingResult<Document> {
        let answer: Vec<Document> = self
            .collection()
            .aggregate(pipelines::pipeline(organization_id, range, with_status))
            .await
            .map_err(failure("payment statistics"))?
            .try_collect()
            .await
            .map_err(failure("payment statistics"))?;
        Ok(answer.into_iter().next().unwrap_or_default())
    }
}

fn failure(what: &'static str) -> impl Fn(mongodb::error::Error) -> BillingStoreError {
    move |error| store_error(what, &error).into()
}

/// Replacements per `update` command of [`PaymentReadModel::upsert_many`]: far below the
/// server's 100 000 statements and 16 MiB per command (a payment document is under 1 KiB).
const UPSERT_BATCH: usize = 1000;

/// An integer field of a server reply, however it is typed (`-1` when missing).
fn int(document: &Document, key: &str) -> i64 {
    match document.get(key) {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        #[allow(clippy::cast_possible_truncation)]
        Some(Bson::Double(n)) => *n as i64,
        _ => -1,
    }
}

#[async_trait]
impl PaymentReadModel for MongoPaymentReadModel {
    async fn upsert(&self, record: PaymentRecord) -> BillingResult<bool> {
        let document = encode(&record)?;
        let position = i64::try_from(record.position).unwrap_or(i64::MAX);
        let key = record.payment.key();
        let written = self
            .collection()
            .replace_one(doc! { "_id": key.as_str(), "position": { "$lte": position } }, document)
            .upsert(true)
            .await;
        match written {
            Ok(_) => Ok(true),
            // The stored record has a greater position: the filter missed it, the upsert hit `_id`.
            Err(error) if duplicate_key(&error).is_some() => Ok(false),
            Err(error) => Err(failure("upsert a payment")(error)),
        }
    }

    async fn get(&self, key: &PaymentKey) -> BillingResult<Option<PaymentRecord>> {
        let found = self
            .collection()
            .find_one(doc! { "_id": key.as_str() })
            .await
            .map_err(failure("get a payment"))?;
        found.as_ref().map(decode).transpose()
    }

    /// One `find` with `{_id: {$in: keys}}`.
    async fn get_many(&self, keys: &[&PaymentKey]) -> BillingResult<Vec<Option<PaymentRecord>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = keys.iter().map(|key| key.as_str()).collect();
        let docs: Vec<Document> = self
            .collection()
            .find(doc! { "_id": { "$in": &ids } })
            .await
            .map_err(failure("get payments"))?
            .try_collect()
            .await
            .map_err(failure("get payments"))?;
        let mut found = HashMap::with_capacity(docs.len());
        for document in &docs {
            let record = decode(document)?;
            found.insert(record.payment.key().as_str().to_owned(), record);
        }
        // Moved out on the last mention of a key; cloned only for a key given twice.
        let mut left: HashMap<&str, usize> = HashMap::with_capacity(ids.len());
        for id in &ids {
            *left.entry(id).or_default() += 1;
        }
        Ok(ids
            .iter()
            .map(|id| {
                let count = left.get_mut(id).map(|n| {
                    *n -= 1;
                    *n
                });
                if count == Some(0) {
                    found.remove(*id)
                } else {
                    found.get(*id).cloned()
                }
            })
            .collect())
    }

    /// `update` commands of up to `UPSERT_BATCH` replacements each, ordered, each with the
    /// filter of [`upsert`](PaymentReadModel::upsert) (`_id` and `position` at most the
    /// record's), so the position rule holds per record on the server. A record whose stored
    /// position is greater misses the filter and its upsert hits `_id` (duplicate key): it is
    /// not written, and the rest of the batch is sent again after it (an ordered batch stops
    /// at its first error). One round trip per batch when no record is stale.
    async fn upsert_many(&self, records: Vec<PaymentRecord>) -> BillingResult<usize> {
        let statements = records
            .iter()
            .map(|record| {
                let position = i64::try_from(record.position).unwrap_or(i64::MAX);
                Ok(doc! {
                    "q": { "_id": record.payment.key().as_str(), "position": { "$lte": position } },
                    "u": encode(record)?,
                    "upsert": true,
                })
            })
            .collect::<BillingResult<Vec<Document>>>()?;
        let collection = self.collection();
        let write_concern = bson::to_document(&self.shared.options.write_concern)
            .map_err(|e| BillingStoreError::Backend(format!("MongoDB write concern: {e}")))?;
        let mut written = 0;
        let mut start = 0;
        while let Some(rest) = statements.get(start..).filter(|rest| !rest.is_empty()) {
            let chunk = &rest[..rest.len().min(UPSERT_BATCH)];
            let mut command = doc! {
                "update": collection.name(),
                "updates": chunk.to_vec(),
                "ordered": true,
            };
            if !write_concern.is_empty() {
                command.insert("writeConcern", write_concern.clone());
            }
            let reply = self
                .shared
                .database
                .run_command(command)
                .await
                .map_err(failure("upsert payments"))?;
            if let Ok(error) = reply.get_document("writeConcernError") {
                return Err(BillingStoreError::Backend(format!(
                    "MongoDB upsert payments: write concern error: {error}"
                )));
            }
            let first_error = reply.get_array("writeErrors").ok().and_then(|errors| {
                errors
                    .iter()
                    .filter_map(Bson::as_document)
                    .min_by_key(|e| int(e, "index"))
            });
            match first_error {
                None => {
                    written += chunk.len();
                    start += chunk.len();
                }
                Some(error) => {
                    let index = usize::try_from(int(error, "index")).unwrap_or(0).min(chunk.len() - 1);
                    if int(error, "code") != i64::from(DUPLICATE_KEY) {
                        return Err(BillingStoreError::Backend(format!(
                            "MongoDB upsert payments: payment `{}`: {}",
                            records[start + index].payment.key(),
                            error.get_str("errmsg").unwrap_or("write error")
                        )));
                    }
                    // The statements before it were written; this one is stale.
                    written += index;
                    start += index + 1;
                }
            }
        }
        Ok(written)
    }

    async fn list_by_organization(&self, organization_id: &str, page: Page) -> BillingResult<PaymentList> {
        let collection = self.collection();
        let filter = doc! { "organizationId": organization_id };
        let limit = i64::try_from(page.limit_usize()).unwrap_or(i64::MAX);
        let count = collection.count_documents(filter.clone());
        let items = async {
            collection
                .find(filter.clone())
                .sort(doc! { "processedAt": -1, format!("{SUB_MS}.processedAt"): -1, "paymentId": 1 })
                .skip(page.offset)
                .limit(limit)
                .await?
                .try_collect::<Vec<Document>>()
                .await
        };
        let (total, docs) = tokio::join!(count, items);
        let total = total.map_err(failure("count payments"))?;
        let docs = docs.map_err(failure("list payments"))?;
        Ok(PaymentList {
            items: docs
                .iter()
                .map(|d| decode(d).map(|r| r.payment))
                .collect::<BillingResult<_>>()?,
            total,
        })
    }

    async fn statistics(&self, organization_id: &str, range: TimeRange) -> BillingResult<PaymentStatistics> {
        pipelines::statistics(&self.facet(organization_id, &range, true).await?)
    }

    async fn trends(&self, organization_id: &str, range: TimeRange) -> BillingResult<Vec<DailyBucket>> {
        pipelines::daily(&self.facet(organization_id, &range, false).await?)
    }

    /// `_id` ascending from `after`; with an organization, the `_id` range
    /// `[org + "/", org + "0")` (`0` follows `/`: the ids starting with `org/`), and
    /// `organizationId` equal to it (an organization id may hold a `/`, so `org-a/b/p1`, of
    /// organization `org-a/b`, lies in the range of `org-a`).
    async fn list_keys(
        &self,
        organization_id: Option<&str>,
        after: Option<&PaymentKey>,
        limit: usize,
    ) -> BillingResult<Vec<PaymentKey>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let docs: Vec<Document> = self
            .collection()
            .find(key_range(organization_id, after))
            .sort(doc! { "_id": 1 })
            .projection(doc! { "_id": 1 })
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .await
            .map_err(failure("list payment keys"))?
            .try_collect()
            .await
            .map_err(failure("list payment keys"))?;
        // A document of a read model keyed by payment id alone (before a rebuild) has no key.
        Ok(docs
            .iter()
            .filter_map(|d| d.get_str("_id").ok()?.parse().ok())
            .collect())
    }

    /// Drops a unique index on `paymentId` (without `organizationId`) left by a read model
    /// keyed by payment id alone, then deletes every document.
    async fn reset(&self) -> BillingResult<()> {
        super::legacy::drop_payment_id_indexes(&self.collection()).await?;
        self.collection()
            .delete_many(doc! {})
            .await
            .map(drop)
            .map_err(failure("reset the payment read model"))
    }
}

/// The `_id` filter of [`PaymentReadModel::list_keys`].
fn key_range(organization_id: Option<&str>, after: Option<&PaymentKey>) -> Document {
    let mut range = Document::new();
    if let Some(organization) = organization_id {
        range.insert("$gte", format!("{organization}/"));
        range.insert("$lt", format!("{organization}0"));
    }
    if let Some(after) = after {
        // Above the range's start: `after` replaces it (both bounds are on `_id`).
        match range.get_str("$gte") {
            Ok(start) if start > after.as_str() => {}
            _ => {
                range.remove("$gte");
                range.insert("$gt", after.as_str());
            }
        }
    }
    let mut filter = Document::new();
    if !range.is_empty() {
        filter.insert("_id", range);
    }
    if let Some(organization) = organization_id {
        filter.insert("organizationId", organization);
    }
    filter
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn key_ranges_cover_exactly_one_organization() {
        assert_eq!(key_range(None, None), doc! {});
        assert_eq!(
            key_range(Some("org-1"), None),
            doc! { "_id": { "$gte": "org-1/", "$lt": "org-10" }, "organizationId": "org-1" }
        );
        let after = PaymentKey::new("org-1", "p2");
        assert_eq!(
            key_range(Some("org-1"), Some(&after)),
            doc! { "_id": { "$lt": "org-10", "$gt": "org-1/p2" }, "organizationId": "org-1" }
        );
        assert_eq!(key_range(None, Some(&after)), doc! { "_id": { "$gt": "org-1/p2" } });
        // `after` before the organization's range: the range's start stays.
        let before = PaymentKey::new("org-0", "p9");
        assert_eq!(
            key_range(Some("org-1"), Some(&before)),
            doc! { "_id": { "$gte": "org-1/", "$lt": "org-10" }, "organizationId": "org-1" }
        );
    }
}
