//! `Money`: an exact amount in a currency, at the currency's scale.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::{Amount, Currency};

/// Why an amount does not fit a currency.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// More decimal places than the currency has minor units.
    #[error("{amount} has more decimal places than {currency} allows ({minor_units})")]
    TooPrecise {
        /// The amount as given.
        amount: Decimal,
        /// The currency.
        currency: Currency,
        /// The currency's minor units.
        minor_units: u32,
    },
}

/// An exact amount of a currency, always written with the currency's minor units
/// (`100` EUR is stored and serialised as `"100.00"`, 5 JPY as `"5"`).
///
/// ```
/// use hive_billing::{Currency, Money};
/// use rust_decimal::Decimal;
///
/// let eur: Currency = "EUR".parse().unwrap();
/// let money = Money::new(Decimal::from(100), eur).unwrap();
/// assert_eq!(money.amount().to_string(), "100.00");
/// assert!(Money::new("1.005".parse().unwrap(), eur).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    amount: Amount,
    currency: Currency,
}

impl Money {
    /// `amount` of `currency`, rescaled to the currency's minor units; refused when it has
    /// more decimal places than that (nothing is ever rounded away).
    pub fn new(amount: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        Ok(Self {
            amount: Amount::new(to_scale(amount, currency)?),
            currency,
        })
    }

    /// Zero of `currency`.
    pub fn zero(currency: Currency) -> Self {
        let mut zero = Decimal::ZERO;
        zero.rescale(currency.minor_units());
        Self {
            amount: Amount::new(zero),
            currency,
        }
    }

    /// The amount, at the currency's scale.
    pub fn amount(&self) -> Amount {
        self.amount
    }

    /// The decimal value.
    pub fn value(&self) -> Decimal {
        self.amount.value()
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }
}

/// `amount` written with exactly `currency`'s minor units, or an error when that would drop
/// non-zero digits.
pub fn to_scale(amount: Decimal, currency: Currency) -> Result<Decimal, MoneyError> {
    let minor_units = currency.minor_units();
    let normalized = amount.normalize();
    if normalized.scale() > minor_units {
        return Err(MoneyError::TooPrecise {
            amount,
            currency,
            minor_units,
        });
    }
    let mut scaled = normalized;
    scaled.rescale(minor_units);
    Ok(scaled)
}

/// `value` rounded half-to-even to `currency`'s minor units (the rounding of averages).
pub fn round_to_currency(value: Decimal, currency: Currency) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(currency.minor_units(), RoundingStrategy::MidpointNearestEven);
    rounded.rescale(currency.minor_units());
    rounded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        code.parse().unwrap()
    }

    #[test]
    fn amounts_take_the_currency_scale() {
        let m = Money::new("12.5".parse().unwrap(), cur("EUR")).unwrap();
        assert_eq!(m.amount().to_string(), "12.50");
        let m = Money::new("7.000".parse().unwrap(), cur("JPY")).unwrap();
        assert_eq!(m.amount().to_string(), "7");
        assert_eq!(Money::zero(cur("BHD")).amount().to_string(), "0.000");
        assert_eq!(
            serde_json::to_value(m).unwrap(),
            serde_json::json!({"amount": "7", "currency": "JPY"})
        );
    }

    #[test]
    fn extra_digits_are_refused_not_rounded() {
        let err = Money::new("0.125".parse().unwrap(), cur("EUR")).unwrap_err();
        assert_eq!(err.to_string(), "0.125 has more decimal places than EUR allows (2)");
    }

    #[test]
    fn averages_round_half_to_even() {
        let eur = cur("EUR");
        assert_eq!(round_to_currency("0.125".parse().unwrap(), eur).to_string(), "0.12");
        assert_eq!(round_to_currency("0.135".parse().unwrap(), eur).to_string(), "0.14");
        assert_eq!(round_to_currency("3".parse().unwrap(), eur).to_string(), "3.00");
    }
}
