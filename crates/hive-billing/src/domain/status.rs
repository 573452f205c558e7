//! The lifecycle status of a payment.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a payment is in its lifecycle. Serialised in snake case: `pending`, `completed`,
/// `failed`, `refunded`, `partially_refunded`.
///
/// `pending` → `completed` (processed) or `failed`; `completed` → `partially_refunded` or
/// `refunded`; `partially_refunded` → `partially_refunded` or `refunded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Created, not yet processed.
    Pending,
    /// Processed: the money was taken.
    Completed,
    /// Processing failed.
    Failed,
    /// Refunded in full.
    Refunded,
    /// Refunded in part.
    PartiallyRefunded,
}

impl PaymentStatus {
    /// Every status, in declaration order.
    pub const ALL: [PaymentStatus; 5] = [
        Self::Pending,
        Self::Completed,
        Self::Failed,
        Self::Refunded,
        Self::PartiallyRefunded,
    ];

    /// The serialised name, e.g. `partially_refunded`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Refunded => "refunded",
            Self::PartiallyRefunded => "partially_refunded",
        }
    }

    /// Whether the payment was processed (money taken, possibly refunded since).
    pub fn is_processed(&self) -> bool {
        matches!(self, Self::Completed | Self::Refunded | Self::PartiallyRefunded)
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PaymentStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                format!("unknown status `{s}`: expected pending, completed, failed, refunded or partially_refunded")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for status in PaymentStatus::ALL {
            assert_eq!(status.as_str().parse::<PaymentStatus>().unwrap(), status);
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert!("done".parse::<PaymentStatus>().is_err());
    }
}
