//! Payment identity: a payment id is unique within its organization, not across them.
//!
//! A payment's event stream, its read-model record and its search document are all keyed by
//! its [`PaymentKey`], `{organizationId}/{paymentId}` (payment ids never contain `/`, so the
//! key splits at its last `/`). Two organizations may each have a `pay-1`; neither can learn
//! that the other's exists.
//!
//! Streams written before payment ids were per organization are named by the payment id alone
//! (legacy streams). They are still read, and still appended to, as the payment of the
//! organization recorded in their events: see [`PaymentStreams`](crate::PaymentStreams).

use std::fmt;

use hive_domain::EventEnvelope;
use serde::{Deserialize, Serialize};

/// The identity of a payment: its organization and its id in that organization.
///
/// Ordered as its text (`{organizationId}/{paymentId}`), the order every read model's keyset
/// paging follows.
///
/// ```
/// use hive_billing::PaymentKey;
///
/// let key = PaymentKey::new("org-1", "pay-1");
/// assert_eq!(key.as_str(), "org-1/pay-1");
/// assert_eq!((key.organization_id(), key.payment_id()), ("org-1", "pay-1"));
/// assert_eq!("org/with/slashes/pay-1".parse::<PaymentKey>().unwrap().organization_id(), "org/with/slashes");
/// assert!("pay-1".parse::<PaymentKey>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PaymentKey {
    text: String,
    split: usize,
}

impl PaymentKey {
    /// The key of payment `payment_id` of `organization_id`.
    pub fn new(organization_id: &str, payment_id: &str) -> Self {
        Self {
            text: format!("{organization_id}/{payment_id}"),
            split: organization_id.len(),
        }
    }

    /// The key of the payment a stored event belongs to: parsed from its stream id, or for a
    /// legacy stream (named by the payment id alone) the stream id in the organization of the
    /// event's metadata. `None` without either.
    pub fn of_event(event: &EventEnvelope) -> Option<Self> {
        match event.aggregate_id.parse() {
            Ok(key) => Some(key),
            Err(_) => Some(Self::new(
                event.metadata.organization_id.as_deref()?,
                &event.aggregate_id,
            )),
        }
    }

    /// The organization.
    pub fn organization_id(&self) -> &str {
        &self.text[..self.split]
    }

    /// The payment id within the organization.
    pub fn payment_id(&self) -> &str {
        &self.text[self.split + 1..]
    }

    /// `{organizationId}/{paymentId}`: the stream id of the payment's events (unless it is a
    /// legacy stream) and the document id of its read-model record and search document.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// The payment id part of a stream id: what follows its last `/`, or the whole id of a
/// legacy stream.
pub fn payment_id_of_stream(stream_id: &str) -> &str {
    stream_id.rsplit_once('/').map_or(stream_id, |(_, id)| id)
}

impl fmt::Display for PaymentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl AsRef<str> for PaymentKey {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

/// Text that is not `{organizationId}/{paymentId}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a payment key (`{{organizationId}}/{{paymentId}}`)")]
pub struct NotAPaymentKey(pub String);

impl std::str::FromStr for PaymentKey {
    type Err = NotAPaymentKey;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.rsplit_once('/') {
            Some((org, id)) if !org.is_empty() && crate::validate::payment_id_problem(id).is_none() => {
                Ok(Self::new(org, id))
            }
            _ => Err(NotAPaymentKey(text.to_owned())),
        }
    }
}

impl TryFrom<String> for PaymentKey {
    type Error = NotAPaymentKey;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<PaymentKey> for String {
    fn from(key: PaymentKey) -> Self {
        key.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hive_domain::Metadata;

    #[test]
    fn keys_order_as_their_text() {
        let mut keys = [
            PaymentKey::new("org-b", "a"),
            PaymentKey::new("org-a", "z"),
            PaymentKey::new("org-a", "b"),
        ];
        keys.sort();
        let texts: Vec<&str> = keys.iter().map(PaymentKey::as_str).collect();
        assert_eq!(texts, ["org-a/b", "org-a/z", "org-b/a"]);
    }

    #[test]
    fn events_name_their_payment_by_stream_or_by_metadata() {
        let current = EventEnvelope::new("org-1/pay-1", "Payment", "PaymentCreated", serde_json::json!({}), 1);
        assert_eq!(PaymentKey::of_event(&current), Some(PaymentKey::new("org-1", "pay-1")));
        let legacy = EventEnvelope::new("pay-1", "Payment", "PaymentCreated", serde_json::json!({}), 1)
            .with_metadata(Metadata::default().with_organization("org-2"));
        assert_eq!(PaymentKey::of_event(&legacy), Some(PaymentKey::new("org-2", "pay-1")));
        let orphan = EventEnvelope::new("pay-1", "Payment", "PaymentCreated", serde_json::json!({}), 1);
        assert_eq!(PaymentKey::of_event(&orphan), None);
        assert_eq!(payment_id_of_stream("org-1/pay-1"), "pay-1");
        assert_eq!(payment_id_of_stream("pay-1"), "pay-1");
    }

    #[test]
    fn keys_serialize_as_text() {
        let key = PaymentKey::new("org-1", "pay-1");
        assert_eq!(serde_json::to_string(&key).unwrap(), "\"org-1/pay-1\"");
        assert_eq!(serde_json::from_str::<PaymentKey>("\"org-1/pay-1\"").unwrap(), key);
        assert!(serde_json::from_str::<PaymentKey>("\"pay-1\"").is_err());
    }
}
