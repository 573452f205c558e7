//! The payment commands through the command bus: validation, invariants, tenancy, envelopes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{ctx, domain_code, invalid_fields, Harness};
use futures::TryStreamExt;
use hive_application::{ApplicationError, MessageContext};
use hive_billing::{CreatePayment, GetPaymentById, PaymentStatus, ProcessPayment};
use hive_domain::{EventEnvelope, EventStore};

/// The events of org-456's payment `id` (its stream is its key, `org-456/{id}`).
async fn stream(h: &Harness, id: &str) -> Vec<EventEnvelope> {
    let key = hive_billing::PaymentKey::new("org-456", id);
    h.events.read_stream(key.as_str(), 1).try_collect().await.unwrap()
}

#[tokio::test]
async fn create_answers_the_pending_view_at_the_currency_scale() {
    let h = Harness::new();
    let view = h
        .try_create("org-456", "payment-1", "100", "EUR", "Cloud hosting", &["hosting"])
        .await
        .unwrap();
    assert_eq!(view.status, PaymentStatus::Pending);
    assert_eq!(view.amount.to_string(), "100.00");
    assert_eq!(
        (view.organization_id.as_str(), view.user_id.as_str()),
        ("org-456", "user-123")
    );
    assert_eq!(view.version, 1);
    assert_eq!(view.created_at, common::t0());
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["amount"], "100.00");
    assert_eq!(json["status"], "pending");
    assert!(json["processedAt"].is_null());
}

#[tokio::test]
async fn the_full_lifecycle_answers_each_new_state() {
    let h = Harness::new();
    h.create("org-456", "p", "100.00", "EUR", "Cloud hosting").await;
    h.advance(1);
    let processed = h.process("org-456", "p").await.unwrap();
    assert_eq!(processed.status, PaymentStatus::Completed);
    assert_eq!(
        processed.processed_at,
        Some(common::t0() + chrono::Duration::minutes(1))
    );
    h.advance(1);
    let partial = h.refund("org-456", "p", "30").await.unwrap();
    assert_eq!(partial.status, PaymentStatus::PartiallyRefunded);
    assert_eq!(partial.refund_amount.unwrap().to_string(), "30.00");
    let full = h.refund("org-456", "p", "70.00").await.unwrap();
    assert_eq!(full.status, PaymentStatus::Refunded);
    assert_eq!(full.refund_amount.unwrap().to_string(), "100.00");
    assert_eq!(full.version, 4);
    let read = h
        .query("org-456", GetPaymentById { payment_id: "p".into() })
        .await
        .unwrap();
    assert_eq!(read, full, "the read model shows what the command answered");
}

#[tokio::test]
async fn failing_records_the_error() {
    let h = Harness::new();
    h.create("org-456", "p", "10", "USD", "").await;
    let failed = h.fail("org-456", "p", "card declined").await.unwrap();
    assert_eq!(failed.status, PaymentStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("card declined"));
    assert_eq!(
        domain_code(&h.process("org-456", "p").await.unwrap_err()),
        "payment_not_pending"
    );
    assert_eq!(
        domain_code(&h.fail("org-456", "p", "again").await.unwrap_err()),
        "payment_not_pending"
    );
    assert_eq!(
        domain_code(&h.refund("org-456", "p", "1").await.unwrap_err()),
        "payment_not_refundable"
    );
}

#[tokio::test]
async fn every_invariant_is_a_typed_error_on_the_bus() {
    let h = Harness::new();
    h.create("org-456", "p", "10.00", "EUR", "x").await;
    let again = h.try_create("org-456", "p", "5", "EUR", "y", &[]).await.unwrap_err();
    assert_eq!(domain_code(&again), "payment_already_exists");
    assert_eq!(
        domain_code(&h.refund("org-456", "p", "1").await.unwrap_err()),
        "payment_not_refundable"
    );
    h.process("org-456", "p").await.unwrap();
    assert_eq!(
        domain_code(&h.process("org-456", "p").await.unwrap_err()),
        "payment_not_pending"
    );
    assert_eq!(
        domain_code(&h.refund("org-456", "p", "10.01").await.unwrap_err()),
        "refund_exceeds_remaining"
    );
    assert_eq!(
        domain_code(&h.refund("org-456", "p", "0.001").await.unwrap_err()),
        "amount_too_precise"
    );
    assert_eq!(stream(&h, "p").await.len(), 2, "refused commands append nothing");
}

#[tokio::test]
async fn commands_on_unknown_or_foreign_payments_are_not_found() {
    let h = Harness::new();
    let not_found = ApplicationError::not_found("payment", "ghost");
    assert_eq!(h.process("org-456", "ghost").await.unwrap_err(), not_found);
    assert_eq!(h.fail("org-456", "ghost", "x").await.unwrap_err(), not_found);
    assert_eq!(h.refund("org-456", "ghost", "1").await.unwrap_err(), not_found);
    h.create("org-456", "mine", "10", "EUR", "x").await;
    let foreign = ApplicationError::not_found("payment", "mine");
    assert_eq!(h.process("org-789", "mine").await.unwrap_err(), foreign);
    assert_eq!(h.fail("org-789", "mine", "x").await.unwrap_err(), foreign);
    assert_eq!(stream(&h, "ghost").await.len(), 0);
}

#[tokio::test]
async fn messages_are_validated_field_by_field() {
    let h = Harness::new();
    let bad = h
        .try_create("org-456", "bad id!", "-1", "EURO", &"d".repeat(1001), &[""])
        .await
        .unwrap_err();
    assert_eq!(
        invalid_fields(&bad),
        vec!["paymentId", "currency", "amount", "description", "tags"]
    );
    let precise = h.try_create("org-456", "p", "1.001", "EUR", "", &[]).await.unwrap_err();
    assert_eq!(invalid_fields(&precise), vec!["amount"]);
    let yen = h.try_create("org-456", "p", "1.5", "JPY", "", &[]).await.unwrap_err();
    assert_eq!(invalid_fields(&yen), vec!["amount"]);
    let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let tags: Vec<&str> = many.iter().map(String::as_str).collect();
    let too_many = h.try_create("org-456", "p", "1", "EUR", "", &tags).await.unwrap_err();
    assert_eq!(invalid_fields(&too_many), vec!["tags"]);
    assert_eq!(
        invalid_fields(&h.fail("org-456", "p", " ").await.unwrap_err()),
        vec!["error"]
    );
    assert_eq!(
        invalid_fields(&h.refund("org-456", "p", "0").await.unwrap_err()),
        vec!["refundAmount"]
    );
    assert_eq!(
        invalid_fields(&h.process("org-456", "").await.unwrap_err()),
        vec!["paymentId"]
    );
    assert!(h.events.is_empty(), "nothing invalid reaches the store");
}

#[tokio::test]
async fn the_tenant_and_user_come_from_the_context() {
    let h = Harness::new();
    let command = || CreatePayment {
        payment_id: "p".into(),
        amount: "1".parse().unwrap(),
        currency: "EUR".into(),
        description: String::new(),
        tags: vec![],
        metadata: Default::default(),
    };
    let anonymous = h.billing.command_bus.dispatch(command(), MessageContext::new()).await;
    assert!(matches!(anonymous, Err(ApplicationError::Forbidden(_))));
    let mut no_user = ctx("org-1");
    no_user.metadata.user_id = None;
    let refused = h.billing.command_bus.dispatch(command(), no_user).await;
    assert!(matches!(refused, Err(ApplicationError::Forbidden(_))));
}

#[tokio::test]
async fn events_carry_correlation_causation_and_metadata_from_the_envelope() {
    let h = Harness::new();
    let context = ctx("org-456").with_correlation_id("corr-789");
    let command = ProcessPayment { payment_id: "p".into() };
    h.create("org-456", "p", "100", "EUR", "x").await;
    h.billing.command_bus.dispatch(command, context.clone()).await.unwrap();
    let events = stream(&h, "p").await;
    let processed = &events[1];
    assert_eq!(processed.event_type, "PaymentProcessed");
    assert_eq!(processed.aggregate_type, "Payment");
    assert_eq!(processed.correlation_id, "corr-789");
    assert_eq!(processed.causation_id, context.message_id.to_string());
    assert_eq!(processed.metadata.organization_id.as_deref(), Some("org-456"));
    assert_eq!(processed.metadata.user_id.as_deref(), Some("user-123"));
    assert_eq!(processed.metadata.source.as_deref(), Some("api"));
    assert_eq!(processed.event_data["status"], "completed");
    assert_eq!(processed.event_data["amount"], "100.00");
}

#[tokio::test]
async fn the_same_command_id_is_answered_once() {
    let h = Harness::new();
    // An id the sender named (as the HTTP Idempotency-Key does) is remembered.
    let context = ctx("org-456").with_message_id(uuid::Uuid::now_v7());
    let command = CreatePayment {
        payment_id: "p".into(),
        amount: "1".parse().unwrap(),
        currency: "EUR".into(),
        description: String::new(),
        tags: vec![],
        metadata: Default::default(),
    };
    let first = h
        .billing
        .command_bus
        .dispatch(command.clone(), context.clone())
        .await
        .unwrap();
    let replay = h.billing.command_bus.dispatch(command, context).await.unwrap();
    assert_eq!(first, replay);
    assert_eq!(stream(&h, "p").await.len(), 1, "no second append");
}

#[tokio::test]
async fn every_command_answer_is_what_the_read_model_then_shows() {
    let h = Harness::new();
    let read = |id: &str| h.query("org-456", GetPaymentById { payment_id: id.into() });
    for (i, currency) in ["EUR", "JPY", "BHD"].into_iter().enumerate() {
        let id = format!("p{i}");
        let created = h
            .try_create("org-456", &id, "120", currency, "x", &["a"])
            .await
            .unwrap();
        assert_eq!(read(&id).await.unwrap(), created);
        h.advance(3);
        let processed = h.process("org-456", &id).await.unwrap();
        assert_eq!(read(&id).await.unwrap(), processed);
        for _ in 0..3 {
            h.advance(1);
            let refunded = h.refund("org-456", &id, "40").await.unwrap();
            assert_eq!(read(&id).await.unwrap(), refunded);
        }
        assert_eq!(read(&id).await.unwrap().status, PaymentStatus::Refunded);
    }
    h.create("org-456", "f", "1", "EUR", "").await;
    let failed = h.fail("org-456", "f", "timeout").await.unwrap();
    assert_eq!(read("f").await.unwrap(), failed);
}

#[tokio::test]
async fn commands_deserialise_amounts_from_strings_and_numbers() {
    let from_number: CreatePayment =
        serde_json::from_str(r#"{"paymentId":"p","amount":100.5,"currency":"EUR"}"#).unwrap();
    let from_string: CreatePayment =
        serde_json::from_str(r#"{"paymentId":"p","amount":"100.50","currency":"EUR"}"#).unwrap();
    assert_eq!(from_number.amount.value(), from_string.amount.value());
    let float =
        serde_json::from_str::<CreatePayment>(r#"{"paymentId":"p","amount":0.1000000000000001,"currency":"EUR"}"#)
            .unwrap();
    let h = Harness::new();
    let err = h.billing.command_bus.dispatch(float, ctx("o")).await.unwrap_err();
    assert_eq!(
        invalid_fields(&err),
        vec!["amount"],
        "a float more precise than EUR allows"
    );
    let err =
        serde_json::from_str::<CreatePayment>(r#"{"paymentId":"p","amount":"ten","currency":"EUR"}"#).unwrap_err();
    assert!(err.to_string().contains("not a decimal amount"), "{err}");
}
