//! Given/when/then tests of the `Payment` aggregate: every command and every invariant.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use hive_billing::{
    Amount, Currency, Money, Payment, PaymentAction, PaymentCommand, PaymentCreated, PaymentError, PaymentEvent,
    PaymentFailed, PaymentProcessed, PaymentRefunded, PaymentStatus,
};
use hive_testkit::AggregateFixture;
use rust_decimal::Decimal;

const ID: &str = "payment-123";
const ORG: &str = "org-456";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 12, 19, 10, 0, 0).unwrap()
}

fn eur() -> Currency {
    "EUR".parse().unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn amount(s: &str) -> Amount {
    Amount::new(dec(s))
}

fn command(minutes: i64, action: PaymentAction) -> PaymentCommand {
    PaymentCommand::new(ID, ORG, "user-789", t0() + Duration::minutes(minutes), action)
}

fn create(value: &str) -> PaymentCommand {
    command(
        0,
        PaymentAction::Create {
            money: Money::new(dec(value), eur()).unwrap(),
            description: "Cloud hosting".into(),
            tags: vec!["hosting".into()],
            metadata: Default::default(),
        },
    )
}

fn created() -> PaymentEvent {
    PaymentEvent::PaymentCreated(PaymentCreated {
        payment_id: ID.into(),
        organization_id: ORG.into(),
        user_id: "user-789".into(),
        amount: amount("100.00"),
        currency: eur(),
        status: PaymentStatus::Pending,
        description: "Cloud hosting".into(),
        tags: vec!["hosting".into()],
        metadata: Default::default(),
        created_at: t0(),
    })
}

fn processed() -> PaymentEvent {
    PaymentEvent::PaymentProcessed(PaymentProcessed {
        amount: amount("100.00"),
        currency: eur(),
        status: PaymentStatus::Completed,
        processed_at: t0() + Duration::minutes(1),
    })
}

fn failed() -> PaymentEvent {
    PaymentEvent::PaymentFailed(PaymentFailed {
        error: "card declined".into(),
        status: PaymentStatus::Failed,
        failed_at: t0() + Duration::minutes(1),
    })
}

fn refunded(minutes: i64, refund: &str, total: &str, status: PaymentStatus) -> PaymentEvent {
    PaymentEvent::PaymentRefunded(PaymentRefunded {
        refund_amount: amount(refund),
        total_refunded: amount(total),
        currency: eur(),
        status,
        refunded_at: t0() + Duration::minutes(minutes),
    })
}

fn refund(minutes: i64, value: &str) -> PaymentCommand {
    command(minutes, PaymentAction::Refund { amount: dec(value) })
}

#[test]
fn create_emits_a_pending_payment_at_the_currency_scale() {
    AggregateFixture::<Payment>::given_no_previous_events()
        .when(create("100"))
        .then_expect_events(vec![created()])
        .then_state(|p| {
            assert_eq!(p.status(), Some(PaymentStatus::Pending));
            assert_eq!(p.money().unwrap().amount().to_string(), "100.00");
        });
}

#[test]
fn a_payment_id_is_created_once() {
    AggregateFixture::<Payment>::given(vec![created()])
        .when(create("5"))
        .then_expect_error(|e| matches!(e, PaymentError::AlreadyExists { payment_id } if payment_id == ID))
        .then_expect_error_message("payment `payment-123` already exists");
}

#[test]
fn amounts_must_be_positive() {
    for value in ["0", "-1.50"] {
        AggregateFixture::<Payment>::given_no_previous_events()
            .when(create(value))
            .then_expect_error(|e| matches!(e, PaymentError::NonPositiveAmount { .. }));
    }
}

#[test]
fn process_completes_a_pending_payment() {
    AggregateFixture::<Payment>::given(vec![created()])
        .when(command(1, PaymentAction::Process))
        .then_expect_events(vec![processed()])
        .then_state(|p| {
            assert_eq!(p.status(), Some(PaymentStatus::Completed));
            assert_eq!(p.remaining_refundable(), dec("100.00"));
        });
}

#[test]
fn only_a_pending_payment_is_processed() {
    for history in [vec![created(), processed()], vec![created(), failed()]] {
        AggregateFixture::<Payment>::given(history)
            .when(command(2, PaymentAction::Process))
            .then_expect_error(|e| e.code() == "payment_not_pending");
    }
}

#[test]
fn fail_records_the_error_of_a_pending_payment() {
    AggregateFixture::<Payment>::given(vec![created()])
        .when(command(
            1,
            PaymentAction::Fail {
                error: "card declined".into(),
            },
        ))
        .then_expect_events(vec![failed()])
        .then_state(|p| assert_eq!(p.error(), Some("card declined")));
}

#[test]
fn only_a_pending_payment_fails() {
    AggregateFixture::<Payment>::given(vec![created(), processed()])
        .when(command(2, PaymentAction::Fail { error: "late".into() }))
        .then_expect_error(|e| {
            matches!(
                e,
                PaymentError::NotPending {
                    status: PaymentStatus::Completed,
                    ..
                }
            )
        })
        .then_expect_error_message("payment `payment-123` is completed, not pending");
}

#[test]
fn a_partial_refund_leaves_the_rest_refundable() {
    AggregateFixture::<Payment>::given(vec![created(), processed()])
        .when(refund(2, "30"))
        .then_expect_events(vec![refunded(2, "30.00", "30.00", PaymentStatus::PartiallyRefunded)])
        .then_state(|p| assert_eq!(p.remaining_refundable(), dec("70.00")));
}

#[test]
fn partial_refunds_add_up_to_a_full_refund() {
    AggregateFixture::<Payment>::given(vec![
        created(),
        processed(),
        refunded(2, "30.00", "30.00", PaymentStatus::PartiallyRefunded),
    ])
    .when(refund(3, "70.00"))
    .then_expect_events(vec![refunded(3, "70.00", "100.00", PaymentStatus::Refunded)])
    .then_state(|p| {
        assert_eq!(p.status(), Some(PaymentStatus::Refunded));
        assert_eq!(p.remaining_refundable(), Decimal::ZERO);
    });
}

#[test]
fn a_refund_never_exceeds_what_remains() {
    AggregateFixture::<Payment>::given(vec![
        created(),
        processed(),
        refunded(2, "30.00", "30.00", PaymentStatus::PartiallyRefunded),
    ])
    .when(refund(3, "70.01"))
    .then_expect_error(
        |e| matches!(e, PaymentError::RefundExceedsRemaining { remaining, .. } if *remaining == dec("70.00")),
    )
    .then_expect_error_message("refund of 70.01 EUR exceeds the 70.00 EUR that remain refundable");
    AggregateFixture::<Payment>::given(vec![
        created(),
        processed(),
        refunded(2, "100.00", "100.00", PaymentStatus::Refunded),
    ])
    .when(refund(3, "0.01"))
    .then_expect_error(|e| e.code() == "refund_exceeds_remaining");
}

#[test]
fn only_a_processed_payment_is_refunded() {
    for history in [vec![created()], vec![created(), failed()]] {
        AggregateFixture::<Payment>::given(history)
            .when(refund(2, "1"))
            .then_expect_error(|e| e.code() == "payment_not_refundable");
    }
}

#[test]
fn refunds_are_positive_and_fit_the_currency() {
    AggregateFixture::<Payment>::given(vec![created(), processed()])
        .when(refund(2, "0"))
        .then_expect_error(|e| e.code() == "non_positive_amount");
    AggregateFixture::<Payment>::given(vec![created(), processed()])
        .when(refund(2, "0.001"))
        .then_expect_error(|e| e.code() == "amount_too_precise");
}

#[test]
fn commands_on_a_payment_never_created_are_not_found() {
    for action in [
        PaymentAction::Process,
        PaymentAction::Fail { error: "x".into() },
        PaymentAction::Refund { amount: dec("1") },
    ] {
        AggregateFixture::<Payment>::given_no_previous_events()
            .when(command(1, action))
            .then_expect_error(|e| matches!(e, PaymentError::NotFound { payment_id } if payment_id == ID));
    }
}

#[test]
fn a_payment_of_another_organization_is_not_found() {
    let mut other = command(1, PaymentAction::Process);
    other.organization_id = "org-999".into();
    AggregateFixture::<Payment>::given(vec![created()])
        .when(other)
        .then_expect_error(|e| e.code() == "payment_not_found")
        .then_state(|p| assert_eq!(p.status(), Some(PaymentStatus::Pending)));
}

#[test]
fn events_serialise_with_the_seed_payloads() {
    let (event_type, data) = hive_domain::encode_event(&processed()).unwrap();
    assert_eq!(event_type, "PaymentProcessed");
    assert_eq!(
        data,
        serde_json::json!({
            "amount": "100.00",
            "currency": "EUR",
            "status": "completed",
            "processedAt": "2024-12-19T10:01:00Z"
        })
    );
    let (_, data) =
        hive_domain::encode_event(&refunded(2, "30.00", "30.00", PaymentStatus::PartiallyRefunded)).unwrap();
    assert_eq!(data["refundAmount"], "30.00");
    assert_eq!(data["status"], "partially_refunded");
    let back: PaymentEvent =
        hive_domain::decode_event("PaymentCreated", hive_domain::encode_event(&created()).unwrap().1).unwrap();
    assert_eq!(back, created());
}
