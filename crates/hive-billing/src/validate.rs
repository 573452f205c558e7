//! Field checks shared by the messages' `validate`.

use chrono::{DateTime, Utc};
use hive_application::{ApplicationError, FieldError};

use crate::{Amount, Currency};

/// Longest payment id.
pub const MAX_PAYMENT_ID_LEN: usize = 128;
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 1000;
/// Most tags on a payment.
pub const MAX_TAGS: usize = 20;
/// Longest tag.
pub const MAX_TAG_LEN: usize = 64;
/// Most metadata pairs on a payment.
pub const MAX_METADATA_ENTRIES: usize = 20;
/// Longest metadata key.
pub const MAX_METADATA_KEY_LEN: usize = 64;
/// Longest metadata value.
pub const MAX_METADATA_VALUE_LEN: usize = 256;
/// Longest failure message.
pub const MAX_ERROR_LEN: usize = 1000;
/// Largest page a query returns.
pub const MAX_PAGE_SIZE: u64 = 100;

/// Collects the field errors of one message.
#[derive(Debug, Default)]
pub(crate) struct Fields(Vec<FieldError>);

impl Fields {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Records `message` against `field` unless `ok`.
    pub(crate) fn check(&mut self, ok: bool, field: &str, message: impl Into<String>) -> &mut Self {
        if !ok {
            self.0.push(FieldError {
                field: field.to_owned(),
                message: message.into(),
            });
        }
        self
    }

    pub(crate) fn payment_id(&mut self, field: &str, id: &str) -> &mut Self {
        let message = payment_id_problem(id);
        self.check(message.is_none(), field, message.unwrap_or_default())
    }

    /// At most [`MAX_METADATA_ENTRIES`] pairs, keys of 1 to [`MAX_METADATA_KEY_LEN`] characters
    /// (not blank), values of at most [`MAX_METADATA_VALUE_LEN`].
    pub(crate) fn metadata(&mut self, field: &str, metadata: &std::collections::BTreeMap<String, String>) -> &mut Self {
        self.check(
            metadata.len() <= MAX_METADATA_ENTRIES,
            field,
            format!("at most {MAX_METADATA_ENTRIES} pairs"),
        )
        .check(
            metadata
                .keys()
                .all(|k| !k.trim().is_empty() && k.chars().count() <= MAX_METADATA_KEY_LEN),
            field,
            format!("each key must have 1 to {MAX_METADATA_KEY_LEN} characters"),
        )
        .check(
            metadata.values().all(|v| v.chars().count() <= MAX_METADATA_VALUE_LEN),
            field,
            format!("each value must have at most {MAX_METADATA_VALUE_LEN} characters"),
        )
    }

    /// A positive amount whose scale fits `currency` (when the currency is valid).
    pub(crate) fn amount(&mut self, field: &str, amount: Amount, currency: Option<Currency>) -> &mut Self {
        self.check(
            amount.value() > rust_decimal::Decimal::ZERO,
            field,
            "must be greater than zero",
        );
        if let Some(currency) = currency {
            let units = currency.minor_units();
            self.check(
                amount.value().normalize().scale() <= units,
                field,
                format!("{currency} allows at most {units} decimal place(s)"),
            );
        }
        self
    }

    pub(crate) fn currency(&mut self, field: &str, code: &str) -> Option<Currency> {
        match code.parse::<Currency>() {
            Ok(currency) => Some(currency),
            Err(error) => {
                self.check(false, field, error.to_string());
                None
            }
        }
    }

    pub(crate) fn range(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> &mut Self {
        self.check(from <= to, "from", "must not be after `to`")
    }

    pub(crate) fn page_size(&mut self, field: &str, size: u64) -> &mut Self {
        self.check(
            (1..=MAX_PAGE_SIZE).contains(&size),
            field,
            format!("must be between 1 and {MAX_PAGE_SIZE}"),
        )
    }

    pub(crate) fn finish(&mut self) -> Result<(), ApplicationError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApplicationError::Validation(std::mem::take(&mut self.0)))
        }
    }
}

/// Why `id` is not a valid payment id: non-empty, at most 128 characters of `[A-Za-z0-9._:-]`.
pub fn payment_id_problem(id: &str) -> Option<String> {
    if id.is_empty() {
        Some("must not be empty".into())
    } else if id.len() > MAX_PAYMENT_ID_LEN {
        Some(format!("must be at most {MAX_PAYMENT_ID_LEN} characters"))
    } else if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
    {
        Some("may only contain letters, digits, `.`, `_`, `:` and `-`".into())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_ids_are_checked() {
        assert!(payment_id_problem("payment-123").is_none());
        assert!(payment_id_problem("a.b_c:d-E9").is_none());
        assert!(payment_id_problem("").is_some());
        assert!(payment_id_problem("a b").is_some());
        assert!(payment_id_problem("é").is_some());
        assert!(payment_id_problem(&"x".repeat(129)).is_some());
        assert!(payment_id_problem(&"x".repeat(128)).is_none());
    }
}
