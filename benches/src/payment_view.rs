//! Payment read-model views for the read-side benches: one organization's payments spread
//! over 30 days, three currencies and every status.

use chrono::{DateTime, TimeZone, Utc};
use hive_billing::{PaymentStatus, PaymentView};

/// The organization of [`payment_view`].
pub const BENCH_ORG: &str = "org-bench";

/// The first creation instant of [`payment_view`] (2024-11-01).
pub fn payment_views_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 11, 1, 0, 0, 0).single().unwrap_or_default()
}

/// The `n`-th payment of [`BENCH_ORG`]: created 25 s after the previous one, its status, currency
/// and amount cycling, processed (or failed) 5 minutes after creation unless pending.
#[allow(clippy::expect_used)] // constant currency codes
pub fn payment_view(n: u64) -> PaymentView {
    let created = payment_views_start() + chrono::Duration::seconds(i64::try_from(n * 25).unwrap_or(i64::MAX));
    let status = [
        PaymentStatus::Pending,
        PaymentStatus::Completed,
        PaymentStatus::Completed,
        PaymentStatus::Failed,
        PaymentStatus::PartiallyRefunded,
        PaymentStatus::Refunded,
    ][(n % 6) as usize];
    let processed = (status != PaymentStatus::Pending).then_some(created + chrono::Duration::minutes(5));
    PaymentView {
        payment_id: format!("pay-{n}"),
        organization_id: BENCH_ORG.into(),
        user_id: format!("user-{}", n % 50),
        amount: format!("{}.{:02}", 10 + n % 990, n % 100).parse().unwrap_or_default(),
        currency: ["EUR", "USD", "GBP"][(n % 3) as usize]
            .parse()
            .expect("a known currency code"),
        status,
        description: format!("Cloud compute {n}"),
        tags: vec!["compute".into()],
        metadata: [("region".to_owned(), format!("eu-{}", n % 3))].into(),
        created_at: created,
        processed_at: processed.filter(|_| status != PaymentStatus::Failed),
        failed_at: processed.filter(|_| status == PaymentStatus::Failed),
        error: (status == PaymentStatus::Failed).then(|| "card declined".into()),
        refunded_at: None,
        refund_amount: None,
        updated_at: processed.unwrap_or(created),
        version: 2,
    }
}
