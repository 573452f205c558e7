//! ISO 4217 currency codes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A validated ISO 4217 currency that has a defined number of minor units (`EUR` → 2,
/// `JPY` → 0, `BHD` → 3). Codes without minor units (precious metals, `XXX`, `XTS`) are refused.
///
/// Serialised as its three-letter upper-case code.
///
/// ```
/// use hive_billing::Currency;
///
/// let eur: Currency = "EUR".parse().unwrap();
/// assert_eq!(eur.code(), "EUR");
/// assert_eq!(eur.minor_units(), 2);
/// assert_eq!("JPY".parse::<Currency>().unwrap().minor_units(), 0);
/// assert!("eur".parse::<Currency>().is_err());
/// assert!("ABC".parse::<Currency>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

/// A string that is not an accepted currency code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an ISO 4217 currency code with minor units (use the upper-case code, e.g. EUR)")]
pub struct UnknownCurrency(pub String);

impl Currency {
    /// The three-letter code, e.g. `EUR`.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// How many decimal places an amount in this currency has (ISO 4217 exponent).
    pub fn minor_units(&self) -> u32 {
        self.0.exponent().map_or(0, u32::from)
    }
}

impl FromStr for Currency {
    type Err = UnknownCurrency;

    fn from_str(code: &str) -> Result<Self, UnknownCurrency> {
        let valid = code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase());
        match iso_currency::Currency::from_code(code) {
            Some(currency) if valid && currency.exponent().is_some() => Ok(Self(currency)),
            _ => Err(UnknownCurrency(code.to_owned())),
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

impl PartialOrd for Currency {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Currency {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.code().cmp(other.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        code.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_have_their_minor_units() {
        for (code, units) in [("EUR", 2), ("USD", 2), ("JPY", 0), ("BHD", 3), ("KWD", 3), ("CLF", 4)] {
            let currency: Currency = code.parse().unwrap();
            assert_eq!(currency.minor_units(), units, "{code}");
            assert_eq!(currency.to_string(), code);
        }
    }

    #[test]
    fn unknown_lowercase_and_unit_less_codes_are_refused() {
        for code in ["", "EU", "EURO", "eur", "ABC", "XAU", "XXX"] {
            assert!(code.parse::<Currency>().is_err(), "{code}");
        }
    }

    #[test]
    fn serde_uses_the_code() {
        let eur: Currency = serde_json::from_str("\"EUR\"").unwrap();
        assert_eq!(serde_json::to_string(&eur).unwrap(), "\"EUR\"");
        let err = serde_json::from_str::<Currency>("\"EURO\"").unwrap_err();
        assert!(err.to_string().contains("not an ISO 4217"), "{err}");
    }
}
