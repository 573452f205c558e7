//! `Amount`: an exact decimal amount, serialised as a string.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An exact decimal amount (never a float), without its currency.
///
/// Serialised as a decimal string that keeps its scale (`"100.00"`). Deserialised from a string
/// (`"100.00"`, `"-3"`) or a JSON number (`100`, `12.5`): a number goes through its shortest
/// decimal representation, so `12.5` is exactly `12.5`; a float that has no exact decimal form
/// within 28 digits, a string that is not a plain decimal, and any other JSON type are refused
/// with a message saying what is expected. Whether the scale suits the currency is checked by
/// the messages' validation (see [`crate::Money`]).
///
/// ```
/// use hive_billing::Amount;
///
/// let from_number: Amount = serde_json::from_str("12.5").unwrap();
/// let from_string: Amount = serde_json::from_str("\"12.50\"").unwrap();
/// assert_eq!(from_number.value(), from_string.value());
/// assert_eq!(serde_json::to_string(&from_string).unwrap(), "\"12.50\"");
/// assert!(serde_json::from_str::<Amount>("\"12,50\"").is_err());
/// assert!(serde_json::from_str::<Amount>("true").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Amount(Decimal);

/// A string that is not a plain decimal number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a decimal amount (expected digits with an optional `.` and fraction, e.g. \"100.00\")")]
pub struct InvalidAmount(pub String);

impl Amount {
    /// Wraps a decimal.
    pub fn new(value: Decimal) -> Self {
        Self(value)
    }

    /// The decimal value.
    pub fn value(&self) -> Decimal {
        self.0
    }

    /// Number of decimal places written (`"1.50"` → 2).
    pub fn scale(&self) -> u32 {
        self.0.scale()
    }
}

impl From<Decimal> for Amount {
    fn from(value: Decimal) -> Self {
        Self(value)
    }
}

impl From<Amount> for Decimal {
    fn from(amount: Amount) -> Self {
        amount.0
    }
}

impl FromStr for Amount {
    type Err = InvalidAmount;

    fn from_str(s: &str) -> Result<Self, InvalidAmount> {
        let body = s.strip_prefix('-').unwrap_or(s);
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !digits(int) || !digits(frac) || (body.contains('.') && frac.is_empty()) {
            return Err(InvalidAmount(s.to_owned()));
        }
        Decimal::from_str_exact(s)
            .map(Self)
            .map_err(|_| InvalidAmount(s.to_owned()))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

struct AmountVisitor;

impl Visitor<'_> for AmountVisitor {
    type Value = Amount;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal amount as a string (\"100.00\") or a JSON number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
        v.parse().map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
        Ok(Amount(Decimal::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
        Ok(Amount(Decimal::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
        // Rust prints the shortest decimal that reads back as the same float, never in
        // exponent notation: 0.1 → "0.1", 1e-7 → "0.0000001".
        let shortest = format!("{v}");
        if !v.is_finite() {
            return Err(E::custom(format!("{shortest} is not a finite amount")));
        }
        Decimal::from_str_exact(&shortest)
            .map(Amount)
            .map_err(|_| E::custom(format!("{shortest} has no exact decimal form of at most 28 digits")))
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AmountVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Amount, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn strings_and_numbers_are_exact() {
        assert_eq!(parse("\"100.00\"").unwrap().to_string(), "100.00");
        assert_eq!(parse("100").unwrap().to_string(), "100");
        assert_eq!(parse("0.1").unwrap().to_string(), "0.1");
        assert_eq!(parse("-3").unwrap().to_string(), "-3");
        assert_eq!(parse("0.30000000000000004").unwrap().scale(), 17);
    }

    #[test]
    fn non_numbers_are_refused_with_a_clear_message() {
        for bad in [
            "\"\"", "\"1e3\"", "\"1.\"", "\".5\"", "\"1,5\"", "\" 1\"", "\"abc\"", "true", "null", "[1]", "{}",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(
                err.contains("decimal amount") || err.contains("invalid type"),
                "{bad}: {err}"
            );
        }
        assert!(parse("1e-30").unwrap_err().contains("no exact decimal form"));
    }
}
