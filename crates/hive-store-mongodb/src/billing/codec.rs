//! Payment read-model documents: `_id` the payment's key (`{organizationId}/{paymentId}`), the
//! view's camelCase fields (`metadata` an embedded document of strings), amounts as
//! `Decimal128`, times as BSON dates plus their sub-millisecond nanoseconds (so every instant
//! reads back exactly and sorts and filters exactly), the position, and `statisticsAt`
//! (`processedAt`, else `createdAt`: the instant statistics and trends count a payment at).

use std::collections::BTreeMap;
use std::str::FromStr;

use bson::{doc, Bson, Decimal128, Document};
use chrono::{DateTime, Utc};
use hive_billing::{Amount, BillingStoreError, PaymentRecord, PaymentView};
use rust_decimal::Decimal;

pub(crate) use crate::instant::{split, SUB_MS};

/// A `Decimal128` holding exactly `value` (with its scale).
pub(crate) fn decimal(value: Decimal) -> Result<Decimal128, BillingStoreError> {
    Decimal128::from_str(&value.to_string()).map_err(|e| BillingStoreError::Backend(format!("amount {value}: {e}")))
}

/// The exact decimal of a `Decimal128` (plain or exponent notation).
pub(crate) fn from_decimal(value: &Decimal128) -> Result<Decimal, BillingStoreError> {
    let text = value.to_string();
    Decimal::from_str_exact(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|e| corrupt("amount", format!("{text}: {e}")))
}

pub(crate) fn corrupt(record: &str, reason: impl Into<String>) -> BillingStoreError {
    BillingStoreError::Corrupt {
        record: record.to_owned(),
        reason: reason.into(),
    }
}

/// The document of a record.
pub(crate) fn encode(record: &PaymentRecord) -> Result<Document, BillingStoreError> {
    let p = &record.payment;
    let mut sub = Document::new();
    let metadata: Document = p.metadata.iter().map(|(k, v)| (k.clone(), Bson::from(v))).collect();
    let mut doc = doc! {
        "_id": p.key().as_str(),
        "paymentId": &p.payment_id,
        "organizationId": &p.organization_id,
        "userId": &p.user_id,
        "amount": decimal(p.amount.value())?,
        "currency": p.currency.code(),
        "status": p.status.as_str(),
        "description": &p.description,
        "tags": p.tags.clone(),
        "metadata": metadata,
        "version": i64::try_from(p.version).unwrap_or(i64::MAX),
        "position": i64::try_from(record.position).unwrap_or(i64::MAX),
    };
    let mut time = |field: &str, t: Option<DateTime<Utc>>| {
        if let Some(t) = t {
            let (date, nanos) = split(t);
            doc.insert(field, date);
            sub.insert(field, nanos);
        }
    };
    time("createdAt", Some(p.created_at));
    time("processedAt", p.processed_at);
    time("failedAt", p.failed_at);
    time("refundedAt", p.refunded_at);
    time("updatedAt", Some(p.updated_at));
    time("statisticsAt", Some(p.statistics_at()));
    doc.insert(SUB_MS, sub);
    if let Some(error) = &p.error {
        doc.insert("error", error);
    }
    if let Some(refund) = p.refund_amount {
        doc.insert("refundAmount", decimal(refund.value())?);
    }
    Ok(doc)
}

/// The record of a document.
pub(crate) fn decode(doc: &Document) -> Result<PaymentRecord, BillingStoreError> {
    let id = doc.get_str("paymentId").unwrap_or_default().to_owned();
    let record = match doc.get("_id") {
        Some(Bson::String(key)) => format!("payment {key}"),
        _ => format!("payment {id}"),
    };
    let bad = |field: &str, reason: String| corrupt(&record, format!("`{field}`: {reason}"));
    let text = |field: &str| {
        doc.get_str(field)
            .map(str::to_owned)
            .map_err(|e| bad(field, e.to_string()))
    };
    let time = |field: &str| crate::instant::read(doc, field).map_err(|reason| bad(field, reason));
    let required = |field: &str| time(field)?.ok_or_else(|| bad(field, "missing".into()));
    let amount = |field: &str| -> Result<Option<Amount>, BillingStoreError> {
        match doc.get(field) {
            None | Some(Bson::Null) => Ok(None),
            Some(Bson::Decimal128(d)) => Ok(Some(Amount::new(from_decimal(d)?))),
            Some(other) => Err(bad(field, format!("expected a Decimal128, found {other:?}"))),
        }
    };
    let count = |field: &str| {
        doc.get_i64(field)
            .ok()
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(|| bad(field, "expected a non-negative Int64".into()))
    };
    let tags = doc
        .get_array("tags")
        .map(|tags| tags.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let metadata = match doc.get("metadata") {
        // Written before payments had metadata.
        None | Some(Bson::Null) => BTreeMap::new(),
        Some(Bson::Document(pairs)) => pairs
            .iter()
            .map(|(k, v)| match v {
                Bson::String(v) => Ok((k.clone(), v.clone())),
                other => Err(bad("metadata", format!("`{k}` is {other:?}, not a string"))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(bad("metadata", format!("expected a document, found {other:?}"))),
    };
    let payment = PaymentView {
        payment_id: id.clone(),
        organization_id: text("organizationId")?,
        user_id: text("userId")?,
        amount: amount("amount")?.ok_or_else(|| bad("amount", "missing".into()))?,
        currency: text("currency")?.parse().map_err(|e| bad("currency", format!("{e}")))?,
        status: text("status")?.parse().map_err(|e| bad("status", format!("{e:?}")))?,
        description: text("description")?,
        tags,
        metadata,
        created_at: required("createdAt")?,
        processed_at: time("processedAt")?,
        failed_at: time("failedAt")?,
        error: doc.get_str("error").ok().map(str::to_owned),
        refunded_at: time("refundedAt")?,
        refund_amount: amount("refundAmount")?,
        updated_at: required("updatedAt")?,
        version: count("version")?,
    };
    Ok(PaymentRecord {
        payment,
        position: count("position")?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;
    use hive_billing::PaymentStatus;

    fn record() -> PaymentRecord {
        let at = Utc.with_ymd_and_hms(2024, 12, 19, 10, 0, 0).unwrap() + chrono::Duration::nanoseconds(1_234_567);
        PaymentRecord {
            payment: PaymentView {
                payment_id: "pay-1".into(),
                organization_id: "org-1".into(),
                user_id: "user-1".into(),
                amount: "10.50".parse().unwrap(),
                currency: "EUR".parse().unwrap(),
                status: PaymentStatus::Completed,
                description: "Cloud hosting".into(),
                tags: vec!["a".into()],
                metadata: BTreeMap::from([
                    ("invoice".to_owned(), "INV-1".to_owned()),
                    ("$where".to_owned(), "1".to_owned()),
                    ("a.b".to_owned(), "dotted".to_owned()),
                ]),
                created_at: at,
                processed_at: Some(at),
                failed_at: None,
                error: None,
                refunded_at: None,
                refund_amount: None,
                updated_at: at,
                version: 2,
            },
            position: 7,
        }
    }

    #[test]
    fn records_round_trip_under_their_key() {
        let record = record();
        let document = encode(&record).unwrap();
        assert_eq!(document.get_str("_id").unwrap(), "org-1/pay-1");
        assert_eq!(document.get_str("paymentId").unwrap(), "pay-1");
        assert_eq!(document.get_str("organizationId").unwrap(), "org-1");
        assert_eq!(
            document.get_document("metadata").unwrap().get_str("a.b").unwrap(),
            "dotted"
        );
        assert_eq!(decode(&document).unwrap(), record);
    }

    #[test]
    fn documents_without_metadata_read_as_empty_and_bad_metadata_is_corrupt() {
        let record = record();
        let mut document = encode(&record).unwrap();
        document.remove("metadata");
        assert!(decode(&document).unwrap().payment.metadata.is_empty());
        document.insert("metadata", doc! { "n": 1 });
        let error = decode(&document).unwrap_err();
        assert!(
            matches!(&error, BillingStoreError::Corrupt { record, .. } if record == "payment org-1/pay-1"),
            "{error:?}"
        );
    }
}
