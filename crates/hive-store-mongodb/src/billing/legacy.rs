//! What a payment read model keyed by payment id alone left behind, removed on
//! [`reset`](hive_billing::PaymentReadModel::reset) (the projection runner resets the read
//! model when it rebuilds it for a newer projection version).
//!
//! Before payment ids were per organization, documents had `_id` = the payment id, and a
//! database set up by other tools (the seed's schema) may hold a **unique index on
//! `paymentId`**: it would refuse the second organization's `pay-1`, and the refusal (a
//! duplicate key) reads like a stale record to `upsert`, which would then silently skip it.
//! `reset` deletes every document (so the old `_id`s go) and drops each unique index on
//! `paymentId` that does not include `organizationId`. This crate itself never created one.

use bson::Document;
use futures::TryStreamExt;
use hive_billing::{BillingResult, BillingStoreError};
use mongodb::{Collection, IndexModel};

use crate::error::store_error;

/// `NamespaceNotFound`: listing the indexes of a collection that does not exist.
const NAMESPACE_NOT_FOUND: i32 = 26;
/// `IndexNotFound`: the index went meanwhile (another instance dropped it).
const INDEX_NOT_FOUND: i32 = 27;

/// Whether `index` makes payment ids unique across organizations: unique, on `paymentId`,
/// without `organizationId`.
pub(crate) fn unique_across_organizations(index: &IndexModel) -> bool {
    let unique = index.options.as_ref().and_then(|o| o.unique).unwrap_or(false);
    unique && index.keys.contains_key("paymentId") && !index.keys.contains_key("organizationId")
}

fn code(error: &mongodb::error::Error) -> Option<i32> {
    match error.kind.as_ref() {
        mongodb::error::ErrorKind::Command(e) => Some(e.code),
        _ => None,
    }
}

fn failure(what: &'static str) -> impl Fn(mongodb::error::Error) -> BillingStoreError {
    move |error| store_error(what, &error).into()
}

/// Drops every index of `collection` that [`unique_across_organizations`] finds; returns their
/// names.
pub(crate) async fn drop_payment_id_indexes(collection: &Collection<Document>) -> BillingResult<Vec<String>> {
    let indexes: Vec<IndexModel> = match collection.list_indexes().await {
        Ok(cursor) => cursor
            .try_collect()
            .await
            .map_err(failure("list the payment indexes"))?,
        Err(error) if code(&error) == Some(NAMESPACE_NOT_FOUND) => return Ok(Vec::new()),
        Err(error) => return Err(failure("list the payment indexes")(error)),
    };
    let mut dropped = Vec::new();
    for index in indexes.iter().filter(|i| unique_across_organizations(i)) {
        let Some(name) = index.options.as_ref().and_then(|o| o.name.clone()) else {
            continue;
        };
        match collection.drop_index(&name).await {
            Ok(()) => {}
            Err(error) if code(&error) == Some(INDEX_NOT_FOUND) => {}
            Err(error) => return Err(failure("drop a unique payment id index")(error)),
        }
        tracing::info!(index = %name, keys = %index.keys,
            "dropped a unique index on paymentId: payment ids are unique per organization only");
        dropped.push(name);
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;
    use mongodb::options::IndexOptions;

    fn model(keys: Document, unique: Option<bool>) -> IndexModel {
        IndexModel::builder()
            .keys(keys)
            .options(IndexOptions::builder().name("i".to_owned()).unique(unique).build())
            .build()
    }

    #[test]
    fn only_unique_payment_id_indexes_without_the_organization_are_legacy() {
        assert!(unique_across_organizations(&model(doc! { "paymentId": 1 }, Some(true))));
        assert!(unique_across_organizations(&model(
            doc! { "paymentId": -1, "createdAt": 1 },
            Some(true)
        )));
        assert!(!unique_across_organizations(&model(doc! { "paymentId": 1 }, None)));
        assert!(!unique_across_organizations(&model(
            doc! { "paymentId": 1 },
            Some(false)
        )));
        assert!(!unique_across_organizations(&model(
            doc! { "organizationId": 1, "paymentId": 1 },
            Some(true)
        )));
        assert!(!unique_across_organizations(&model(doc! { "_id": 1 }, Some(true))));
    }
}
