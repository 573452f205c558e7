//! Payment builders and helpers shared by the billing cases.

use std::fmt::Display;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hive_billing::{Amount, BillingResult, Currency, PaymentReadModel, PaymentSearchIndex, PaymentStatus, PaymentView};

use crate::Held;

/// The value of a port call, or a panic naming the call and the error.
pub(crate) fn ok<T>(result: BillingResult<T>, what: impl Display) -> T {
    result.unwrap_or_else(|e| panic!("{what} failed: {e} ({e:?})"))
}

/// 2024-03-04T00:00:00Z (a Monday) plus `hours`.
pub(crate) fn at(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 4, 0, 0, 0).single().unwrap_or_default() + Duration::hours(hours)
}

pub(crate) fn currency(code: &str) -> Currency {
    code.parse().unwrap_or_else(|e| panic!("test currency {code}: {e}"))
}

pub(crate) fn amount(value: &str) -> Amount {
    value.parse().unwrap_or_else(|e| panic!("test amount {value}: {e}"))
}

/// A pending payment of 10.00 EUR ("Cloud hosting", by `user-1`, no tags or metadata) created
/// and last updated `at`, at version 1: the base of adapter tests' own payments, which change
/// what they need with `PaymentView { status: …, ..pending_payment(…) }`.
pub fn pending_payment(organization: &str, id: &str, at: DateTime<Utc>) -> PaymentView {
    PaymentView {
        payment_id: id.to_owned(),
        organization_id: organization.to_owned(),
        user_id: "user-1".to_owned(),
        amount: amount("10.00"),
        currency: currency("EUR"),
        status: PaymentStatus::Pending,
        description: "Cloud hosting".to_owned(),
        tags: Vec::new(),
        metadata: Default::default(),
        created_at: at,
        processed_at: None,
        failed_at: None,
        error: None,
        refunded_at: None,
        refund_amount: None,
        updated_at: at,
        version: 1,
    }
}

/// `pay-1` of two fresh organizations: a completed EUR payment ("Ours") of the first and a
/// pending USD one ("Theirs") of the second.
pub(crate) fn same_id_in_two_organizations() -> (PaymentView, PaymentView) {
    let (a, b) = (crate::support::unique("org"), crate::support::unique("org"));
    let ours = payment(
        "pay-1",
        &a,
        PaymentStatus::Completed,
        "100.00",
        "EUR",
        0,
        Some(1),
        "Ours",
        &[],
    );
    let theirs = payment(
        "pay-1",
        &b,
        PaymentStatus::Pending,
        "7.00",
        "USD",
        2,
        None,
        "Theirs",
        &[],
    );
    (ours, theirs)
}

/// A payment view: created at `created` hours, processed at `processed` hours when given.
#[allow(clippy::too_many_arguments)]
pub(crate) fn payment(
    id: &str,
    organization: &str,
    status: PaymentStatus,
    value: &str,
    code: &str,
    created: i64,
    processed: Option<i64>,
    description: &str,
    tags: &[&str],
) -> PaymentView {
    let failed = status == PaymentStatus::Failed;
    let refunded = matches!(status, PaymentStatus::Refunded | PaymentStatus::PartiallyRefunded);
    PaymentView {
        payment_id: id.to_owned(),
        organization_id: organization.to_owned(),
        user_id: format!("{organization}-user"),
        amount: amount(value),
        currency: currency(code),
        status,
        description: description.to_owned(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        metadata: tags
            .first()
            .map(|t| {
                [
                    ("channel".to_owned(), format!("{t} portal")),
                    ("batch".to_owned(), format!("b{created}")),
                ]
            })
            .into_iter()
            .flatten()
            .collect(),
        created_at: at(created),
        processed_at: processed.map(at),
        failed_at: failed.then(|| at(created + 1)),
        error: failed.then(|| "card declined".to_owned()),
        refunded_at: refunded.then(|| at(created + 30)),
        refund_amount: refunded.then(|| amount(value)),
        updated_at: at(created + 30),
        version: 1 + u64::from(processed.is_some()) + u64::from(failed) + u64::from(refunded),
    }
}

/// Marker for the payment read-model port.
#[derive(Debug)]
pub enum PaymentReadModelPort {}
/// Marker for the payment search-index port.
#[derive(Debug)]
pub enum PaymentSearchIndexPort {}

/// What a billing conformance factory may produce for the port `P`: the store or a `Held`
/// store.
pub trait IntoHeldBilling<P> {
    /// The store type under test.
    type Store: ?Sized;
    /// Wraps the value into a [`Held`].
    fn into_held(self) -> Held<Self::Store>;
}

macro_rules! into_held_for_port {
    ($port:ty, $trait:path) => {
        impl<S: $trait> IntoHeldBilling<$port> for S {
            type Store = S;
            fn into_held(self) -> Held<S> {
                Held::new(self)
            }
        }

        impl<S: $trait + ?Sized> IntoHeldBilling<$port> for Held<S> {
            type Store = S;
            fn into_held(self) -> Held<S> {
                self
            }
        }
    };
}

into_held_for_port!(PaymentReadModelPort, PaymentReadModel);
into_held_for_port!(PaymentSearchIndexPort, PaymentSearchIndex);

/// Converts a factory output for the read-model suite.
pub fn hold_payment_read_model<T: IntoHeldBilling<PaymentReadModelPort>>(value: T) -> Held<T::Store> {
    value.into_held()
}

/// Converts a factory output for the search-index suite.
pub fn hold_payment_search_index<T: IntoHeldBilling<PaymentSearchIndexPort>>(value: T) -> Held<T::Store> {
    value.into_held()
}
