//! Payment read-model documents: the view's camelCase fields, amounts as `Decimal128`, times as
//! BSON dates plus their sub-millisecond nanoseconds (so every instant reads back exactly and
//! sorts and filters exactly), the position, and `statisticsAt` (`processedAt`, else
//! `createdAt`: the instant statistics and trends count a payment at).

use std::str::FromStr;

use bson::{doc, Bson, DateTime as BsonDateTime, Decimal128, Document};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use hive_billing::{Amount, BillingStoreError, PaymentRecord, PaymentView};
use rust_decimal::Decimal;

/// The sub-document holding the nanoseconds below the millisecond of each time field.
pub(crate) const SUB_MS: &str = "subMillisecondNanos";

/// The millisecond floor of `t` as a BSON date, and the nanoseconds below it.
pub(crate) fn split(t: DateTime<Utc>) -> (BsonDateTime, i64) {
    let floor = t.trunc_subsecs(3);
    let rest = (t - floor).num_nanoseconds().unwrap_or_default();
    (BsonDateTime::from_chrono(floor), rest)
}

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
    let mut doc = doc! {
        "_id": &p.payment_id,
        "paymentId": &p.payment_id,
        "organizationId": &p.organization_id,
        "userId": &p.user_id,
        "amount": decimal(p.amount.value())?,
        "currency": p.currency.code(),
        "status": p.status.as_str(),
        "description": &p.description,
        "tags": p.tags.clone(),
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
    let bad = |field: &str, reason: String| corrupt(&format!("payment {id}"), format!("`{field}`: {reason}"));
    let text = |field: &str| {
        doc.get_str(field)
            .map(str::to_owned)
            .map_err(|e| bad(field, e.to_string()))
    };
    let sub = doc.get_document(SUB_MS).ok();
    let time = |field: &str| -> Result<Option<DateTime<Utc>>, BillingStoreError> {
        match doc.get(field) {
            None | Some(Bson::Null) => Ok(None),
            Some(Bson::DateTime(date)) => {
                let nanos = sub.and_then(|s| s.get_i64(field).ok()).unwrap_or(0);
                Ok(Some(date.to_chrono() + Duration::nanoseconds(nanos)))
            }
            Some(other) => Err(bad(field, format!("expected a date, found {other:?}"))),
        }
    };
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
    let payment = PaymentView {
        payment_id: id.clone(),
        organization_id: text("organizationId")?,
        user_id: text("userId")?,
        amount: amount("amount")?.ok_or_else(|| bad("amount", "missing".into()))?,
        currency: text("currency")?.parse().map_err(|e| bad("currency", format!("{e}")))?,
        status: text("status")?.parse().map_err(|e| bad("status", format!("{e:?}")))?,
        description: text("description")?,
        tags,
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
