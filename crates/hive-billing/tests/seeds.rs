//! The seeds' own test scenarios, as Rust tests over the in-memory adapters.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::TimeZone;
use common::{ts, Harness};
use hive_billing::{GetPaymentHistory, GetPaymentStatistics, PaymentStatus, SearchPaymentEvents, SearchPayments};

/// Seed 000/001/002 `testEventSourcingFlow`: a payment processed → its history has one
/// `PaymentProcessed` (after its `PaymentCreated`: here a payment is created before it is
/// processed).
#[tokio::test]
async fn one_payment_processed_has_one_processed_event_in_its_history() {
    let h = Harness::new();
    h.create("org-456", "payment-123", "100.00", "EUR", "Test payment")
        .await;
    h.process("org-456", "payment-123").await.unwrap();
    let history = h
        .query(
            "org-456",
            GetPaymentHistory {
                from_version: Default::default(),
                payment_id: "payment-123".into(),
            },
        )
        .await
        .unwrap();
    let processed: Vec<_> = history
        .items
        .iter()
        .filter(|e| e.event_type == "PaymentProcessed")
        .collect();
    assert_eq!(processed.len(), 1);
    assert_eq!(history.items.last().unwrap().event_type, "PaymentProcessed");
    assert_eq!(processed[0].data["amount"], "100.00");
    assert_eq!(processed[0].data["currency"], "EUR");
}

/// Seed 000/001/002 `testEventSearch`: three processed payments → three `PaymentProcessed`
/// recorded in 2024.
#[tokio::test]
async fn three_processed_payments_are_found_by_event_search() {
    let h = Harness::new();
    for (id, amount, currency) in [
        ("payment-1", "100.00", "EUR"),
        ("payment-2", "200.00", "USD"),
        ("payment-3", "300.00", "EUR"),
    ] {
        h.create("org-456", id, amount, currency, "Payment").await;
        h.process("org-456", id).await.unwrap();
    }
    let found = h
        .query(
            "org-456",
            SearchPaymentEvents {
                event_type: Some("PaymentProcessed".into()),
                from: Some(ts("2024-01-01T00:00:00Z")),
                to: Some(ts("2024-12-31T00:00:00Z")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(found.items.len(), 3);
    assert_eq!(found.items[0].event_type, "PaymentProcessed");
}

/// Seed 004 `testSearchFunctionality`: payments of org-456 (×2) and org-789 (×1) → a search
/// by org-456 returns 2 with total 2.
#[tokio::test]
async fn search_by_organization_returns_its_payments_and_total() {
    let h = Harness::new();
    h.create("org-456", "payment-1", "100.00", "EUR", "Payment 1").await;
    h.create("org-456", "payment-2", "200.00", "USD", "Payment 2").await;
    h.create("org-789", "payment-3", "300.00", "EUR", "Payment 3").await;
    let result = h
        .query(
            "org-456",
            SearchPayments {
                size: 10,
                ..SearchPayments::new()
            },
        )
        .await
        .unwrap();
    assert_eq!(result.items.len(), 2);
    assert_eq!(result.total, 2);
}

/// Seed 003 `testPaymentStatistics`: statistics of org-456 over 2024 contain `completed` → `EUR`.
#[tokio::test]
async fn statistics_of_an_organization_contain_completed_eur() {
    let h = Harness::new();
    h.clock.set(chrono::Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap());
    h.create("org-456", "payment-123", "100.00", "EUR", "Test payment")
        .await;
    h.process("org-456", "payment-123").await.unwrap();
    let statistics = h
        .query(
            "org-456",
            GetPaymentStatistics {
                from: ts("2024-01-01T00:00:00Z"),
                to: ts("2024-12-31T00:00:00Z"),
            },
        )
        .await
        .unwrap();
    let completed = &statistics.by_status[&PaymentStatus::Completed];
    let eur = &completed[&"EUR".parse().unwrap()];
    assert_eq!((eur.count, eur.total_amount.to_string()), (1, "100.00".into()));
}

/// Seed 003 `testCompleteEventSourcingCqrsFlow`: after processing, the read model shows the
/// amount, currency and `completed`.
#[tokio::test]
async fn the_read_model_shows_a_processed_payment() {
    let h = Harness::new();
    h.create("org-456", "payment-123", "100.00", "EUR", "Test payment")
        .await;
    h.process("org-456", "payment-123").await.unwrap();
    let payment = h
        .query(
            "org-456",
            hive_billing::GetPaymentById {
                payment_id: "payment-123".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(payment.amount.to_string(), "100.00");
    assert_eq!(payment.currency.code(), "EUR");
    assert_eq!(payment.status, PaymentStatus::Completed);
}
