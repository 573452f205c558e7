//! How a payment is stored in the views file: a [`PaymentView`] in postcard, without the
//! organization and payment ids (they are the key it is stored under).
//!
//! The view is not encoded through its own serde implementation: [`Amount`] reads itself with
//! `deserialize_any` (it accepts a JSON number or string), which postcard, not self-describing,
//! cannot do; and its times would be RFC 3339 text. So it goes through [`Stored`], a mirror of
//! its fields with amounts as their decimal text (`"100.00"` stays `"100.00"`) and times as
//! seconds and nanoseconds since the epoch. Adding a field to `PaymentView` breaks the build
//! here (both conversions name every field), so it cannot be forgotten.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hive_billing::{Amount, Currency, PaymentKey, PaymentStatus, PaymentView};
use serde::{Deserialize, Serialize};

/// An instant, exactly: seconds since the epoch and nanoseconds within the second.
#[derive(Serialize, Deserialize)]
struct Instant(i64, u32);

impl From<DateTime<Utc>> for Instant {
    fn from(at: DateTime<Utc>) -> Self {
        Self(at.timestamp(), at.timestamp_subsec_nanos())
    }
}

impl Instant {
    fn decode(self) -> Result<DateTime<Utc>, String> {
        DateTime::from_timestamp(self.0, self.1).ok_or_else(|| format!("instant {}s {}ns out of range", self.0, self.1))
    }
}

fn decode_instant(at: Option<Instant>) -> Result<Option<DateTime<Utc>>, String> {
    at.map(Instant::decode).transpose()
}

fn decode_amount(text: &str) -> Result<Amount, String> {
    text.parse().map_err(|e| format!("{e}"))
}

/// The stored fields of a [`PaymentView`] (every field but the two ids of its key).
#[derive(Serialize, Deserialize)]
struct Stored {
    user_id: String,
    amount: String,
    currency: Currency,
    status: PaymentStatus,
    description: String,
    tags: Vec<String>,
    metadata: BTreeMap<String, String>,
    created_at: Instant,
    processed_at: Option<Instant>,
    failed_at: Option<Instant>,
    error: Option<String>,
    refunded_at: Option<Instant>,
    refund_amount: Option<String>,
    updated_at: Instant,
    version: u64,
}

/// The stored bytes of `view`.
pub(super) fn encode(view: &PaymentView) -> Vec<u8> {
    let PaymentView {
        payment_id: _,
        organization_id: _,
        user_id,
        amount,
        currency,
        status,
        description,
        tags,
        metadata,
        created_at,
        processed_at,
        failed_at,
        error,
        refunded_at,
        refund_amount,
        updated_at,
        version,
    } = view;
    let stored = Stored {
        user_id: user_id.clone(),
        amount: amount.to_string(),
        currency: *currency,
        status: *status,
        description: description.clone(),
        tags: tags.clone(),
        metadata: metadata.clone(),
        created_at: (*created_at).into(),
        processed_at: processed_at.map(Instant::from),
        failed_at: failed_at.map(Instant::from),
        error: error.clone(),
        refunded_at: refunded_at.map(Instant::from),
        refund_amount: refund_amount.map(|a| a.to_string()),
        updated_at: (*updated_at).into(),
        version: *version,
    };
    // Strings, maps, numbers and unit variants: encoding into a vector cannot fail.
    postcard::to_allocvec(&stored).unwrap_or_default()
}

/// The view stored as `bytes` under `key`; why not when the bytes do not decode.
pub(super) fn decode(key: &PaymentKey, bytes: &[u8]) -> Result<PaymentView, String> {
    let stored: Stored = postcard::from_bytes(bytes).map_err(|e| format!("undecodable: {e}"))?;
    Ok(PaymentView {
        payment_id: key.payment_id().to_owned(),
        organization_id: key.organization_id().to_owned(),
        user_id: stored.user_id,
        amount: decode_amount(&stored.amount)?,
        currency: stored.currency,
        status: stored.status,
        description: stored.description,
        tags: stored.tags,
        metadata: stored.metadata,
        created_at: stored.created_at.decode()?,
        processed_at: decode_instant(stored.processed_at)?,
        failed_at: decode_instant(stored.failed_at)?,
        error: stored.error,
        refunded_at: decode_instant(stored.refunded_at)?,
        refund_amount: stored.refund_amount.as_deref().map(decode_amount).transpose()?,
        updated_at: stored.updated_at.decode()?,
        version: stored.version,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn view() -> PaymentView {
        let at = |nanos| Utc.timestamp_opt(1_734_602_400, nanos).unwrap();
        PaymentView {
            payment_id: "pay-1".into(),
            organization_id: "org/with-slash".into(),
            user_id: "user-1".into(),
            amount: "1234.50".parse().unwrap(),
            currency: "EUR".parse().unwrap(),
            status: PaymentStatus::PartiallyRefunded,
            description: "Cloud hosting — März".into(),
            tags: vec!["cloud".into(), "monthly".into()],
            metadata: BTreeMap::from([("invoice".into(), "INV-7".into()), ("empty".into(), String::new())]),
            created_at: at(1),
            processed_at: Some(at(999_999_999)),
            failed_at: None,
            error: Some("retried".into()),
            refunded_at: Some(at(123_456_789)),
            refund_amount: Some("0.10".parse().unwrap()),
            updated_at: at(500),
            version: 4,
        }
    }

    #[test]
    fn a_view_round_trips_exactly() {
        let view = view();
        let bytes = encode(&view);
        let decoded = decode(&view.key(), &bytes);
        assert_eq!(decoded, Ok(view.clone()));
        let decoded = decoded.unwrap();
        assert_eq!(decoded.amount.to_string(), "1234.50", "the decimal text is kept");
        assert_eq!(decoded.refund_amount.map(|a| a.to_string()).as_deref(), Some("0.10"));
        assert_eq!(
            decoded.processed_at.map(|at| at.timestamp_subsec_nanos()),
            Some(999_999_999)
        );
        assert!(bytes.len() < 150, "compact: {} bytes", bytes.len());
    }

    #[test]
    fn damaged_bytes_are_an_error_not_a_panic() {
        let view = view();
        let bytes = encode(&view);
        assert!(decode(&view.key(), &bytes[..bytes.len() / 2]).is_err());
        assert!(decode(&view.key(), &[0xFF; 4]).is_err());
    }
}
