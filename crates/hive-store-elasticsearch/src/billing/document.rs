//! [`EsPaymentDocument`]: what the `payments` index stores per payment, written alike by the
//! search index and the read model.

use chrono::{DateTime, Utc};
use hive_billing::{Currency, PaymentKey, PaymentRecord, PaymentSearchDocument, PaymentView};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{EsError, EsResult};

/// The nanoseconds below the millisecond of an instant (`date` fields keep milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubMillisecondNanos {
    /// Of `processedAt` (absent when the payment was not processed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processed_at: Option<u32>,
    /// Of `statisticsAt`.
    #[serde(default)]
    pub statistics_at: u32,
}

/// One document of the `payments` index (`_id` = [`PaymentKey`] text, `{organizationId}/{paymentId}`):
/// the [`PaymentSearchDocument`] (the whole `PaymentView` flattened in camelCase, `metadata`
/// included, `suggest` and `position`) plus fields derived from the payment for the queries:
///
/// * `paymentKey` (`keyword`): the key, the document's `_id` as a field to sort on (keyset
///   paging of `list_keys`; sorting on `_id` is discouraged);
/// * `searchTags` (`keyword` with a `text` sub-field): [`PaymentView::search_tags`], the tags
///   then the metadata values, what the full-text search matches as tags (the `metadata`
///   object itself is stored, not indexed, so arbitrary keys add no mapping);
/// * `statisticsAt` (`date`): [`PaymentView::statistics_at`], the instant statistics and trends
///   count the payment at;
/// * `amountMinorUnits` (`long`): the amount in the currency's minor units (`"120.03"` EUR →
///   `12003`), summed exactly by aggregations; absent when the amount is not a whole number of
///   minor units or does not fit an `i64` (statistics then fall back to an exact computation);
/// * `subMillisecondNanos.processedAt` / `.statisticsAt` (`integer`): the nanoseconds below the
///   millisecond (a `date` keeps milliseconds), so listings sort and statistics ranges filter
///   to the nanosecond.
///
/// The search index and the read model write this same document for a payment at a position,
/// so the two projections writing the same event are idempotent on one index. Reading ignores
/// the derived fields (they are recomputed from the payment on every write).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EsPaymentDocument {
    /// The search document (payment, completion inputs, position).
    #[serde(flatten)]
    pub document: PaymentSearchDocument,
    /// The payment's key text (the `_id`).
    #[serde(default)]
    pub payment_key: String,
    /// The tags, then the metadata values.
    #[serde(default)]
    pub search_tags: Vec<String>,
    /// `processedAt`, else `createdAt`.
    pub statistics_at: DateTime<Utc>,
    /// The amount in minor units of the currency, when exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_minor_units: Option<i64>,
    /// The sub-millisecond parts of the instants that are sorted or filtered on.
    #[serde(default)]
    pub sub_millisecond_nanos: SubMillisecondNanos,
}

impl EsPaymentDocument {
    /// The document of `document`, its derived fields computed.
    pub fn new(document: PaymentSearchDocument) -> Self {
        let payment = &document.payment;
        let statistics_at = payment.statistics_at();
        Self {
            payment_key: payment.key().as_str().to_owned(),
            search_tags: payment.search_tags().map(str::to_owned).collect(),
            statistics_at,
            amount_minor_units: minor_units(payment.amount.value(), payment.currency),
            sub_millisecond_nanos: SubMillisecondNanos {
                processed_at: payment.processed_at.map(sub_millisecond),
                statistics_at: sub_millisecond(statistics_at),
            },
            document,
        }
    }

    /// The document of a read-model record.
    pub fn of_record(record: PaymentRecord) -> Self {
        Self::new(PaymentSearchDocument::new(record.payment, record.position))
    }

    /// The payment's key text, `{organizationId}/{paymentId}` (the document's `_id`).
    pub fn id(&self) -> &str {
        &self.payment_key
    }

    /// The payment's key.
    pub fn key(&self) -> PaymentKey {
        self.document.payment.key()
    }

    /// The global position (the document's external version).
    pub fn position(&self) -> u64 {
        self.document.position
    }

    /// The `_source` to send.
    pub(crate) fn to_source(&self) -> EsResult<serde_json::Value> {
        serde_json::to_value(self).map_err(|e| EsError::Client(format!("cannot serialise a payment document: {e}")))
    }
}

/// A stored `_source` as a search document (the derived fields are ignored).
pub(crate) fn search_document(what: &str, source: &serde_json::Value) -> EsResult<PaymentSearchDocument> {
    PaymentSearchDocument::deserialize(source).map_err(|e| EsError::decode(what, format!("a payment document: {e}")))
}

/// A stored `_source` as a read-model record.
pub(crate) fn record(what: &str, source: &serde_json::Value) -> EsResult<PaymentRecord> {
    let document = search_document(what, source)?;
    Ok(PaymentRecord {
        payment: document.payment,
        position: document.position,
    })
}

/// A stored `_source` as a payment view.
pub(crate) fn view(what: &str, source: &serde_json::Value) -> EsResult<PaymentView> {
    Ok(search_document(what, source)?.payment)
}

/// The nanoseconds of `t` below its millisecond (`t` minus its millisecond floor).
pub(crate) fn sub_millisecond(t: DateTime<Utc>) -> u32 {
    t.timestamp_subsec_nanos() % 1_000_000
}

/// `value` in minor units of `currency`, when it is a whole number of them that fits an `i64`.
pub(crate) fn minor_units(value: Decimal, currency: Currency) -> Option<i64> {
    let factor = Decimal::from(10_i64.checked_pow(currency.minor_units())?);
    let scaled = value.checked_mul(factor)?;
    if !scaled.fract().is_zero() {
        return None;
    }
    i64::try_from(scaled.trunc()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn currency(code: &str) -> Currency {
        code.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap_or_default()
    }

    #[test]
    fn amounts_in_minor_units_are_exact_or_absent() {
        assert_eq!(minor_units(dec("120.03"), currency("EUR")), Some(12_003));
        assert_eq!(minor_units(dec("12.5"), currency("EUR")), Some(1_250));
        assert_eq!(minor_units(dec("1500"), currency("JPY")), Some(1_500));
        assert_eq!(minor_units(dec("1.234"), currency("BHD")), Some(1_234));
        assert_eq!(minor_units(dec("0.0001"), currency("CLF")), Some(1));
        assert_eq!(minor_units(dec("-3.00"), currency("USD")), Some(-300));
        assert_eq!(minor_units(dec("0.001"), currency("EUR")), None, "below a minor unit");
        assert_eq!(minor_units(dec("0.5"), currency("JPY")), None);
        assert_eq!(
            minor_units(dec("99999999999999999999"), currency("EUR")),
            None,
            "beyond an i64"
        );
    }

    #[test]
    fn sub_milliseconds_are_the_rest_below_the_millisecond_floor() {
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap_or_default();
        assert_eq!(sub_millisecond(at("2024-03-04T10:00:00.123456789Z")), 456_789);
        assert_eq!(sub_millisecond(at("2024-03-04T10:00:00Z")), 0);
        // Before 1970 the millisecond floor is below the instant, as Elasticsearch truncates.
        assert_eq!(sub_millisecond(at("1969-12-31T23:59:59.9999999Z")), 999_900);
    }
}
