//! `GET /payments…`: the payment queries of the caller's organization.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use hive_billing::validate::MAX_PAGE_SIZE;
use hive_billing::{
    Amount, GetPaymentById, GetPaymentHistory, GetPaymentStatistics, GetPaymentSuggestions, GetPaymentTrends,
    GetPaymentsByOrganization, PaymentHistory, PaymentPage, PaymentReplay, PaymentSearchPage, PaymentStatistics,
    PaymentStatus, PaymentTrends, PaymentView, ReplayPayment, SearchPayments, Suggestions,
};

use super::ask;
use crate::auth::Caller;
use crate::extract::{Params, Segment};
use crate::{ApiState, Problem};

/// Most suggestions billing returns at once (`GetPaymentSuggestions::size` is 1–50).
pub(crate) const MAX_SUGGESTIONS: u64 = 50;

/// A path `{id}` is billing's `paymentId`.
const ID: &[(&str, &str)] = &[("paymentId", "id")];

/// `GET /payments/{id}`.
pub(super) async fn by_id(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Segment(payment_id): Segment,
) -> Result<Json<PaymentView>, Problem> {
    ask(&state, caller, GetPaymentById { payment_id }, ID).await
}

/// `GET /payments?limit=&offset=` (`limit` clamped to 100).
pub(super) async fn list(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    params: Params,
) -> Result<Json<PaymentPage>, Problem> {
    let defaults = GetPaymentsByOrganization::default();
    let query = GetPaymentsByOrganization {
        limit: params.u64("limit")?.map_or(defaults.limit, |l| l.min(MAX_PAGE_SIZE)),
        offset: params.u64("offset")?.unwrap_or(defaults.offset),
    };
    ask(&state, caller, query, &[]).await
}

/// `GET /payments/search?q=&status=&currency=&minAmount=&maxAmount=&from=&to=|toInclusive=&page=&size=`.
pub(super) async fn search(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    params: Params,
) -> Result<Json<PaymentSearchPage>, Problem> {
    let statuses = params
        .list("status")
        .iter()
        .map(|s| s.parse::<PaymentStatus>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|message| Problem::bad_request("status", message))?;
    let amount = "must be a decimal amount, e.g. 100.00";
    let defaults = SearchPayments::new();
    let query = SearchPayments {
        text: params.text("q"),
        statuses,
        currencies: params.list("currency"),
        min_amount: params.parsed::<Amount>("minAmount", amount)?,
        max_amount: params.parsed::<Amount>("maxAmount", amount)?,
        from: params.time("from")?,
        to: params.end()?,
        page: params.u64("page")?.unwrap_or(defaults.page),
        size: params.u64("size")?.map_or(defaults.size, |s| s.min(MAX_PAGE_SIZE)),
    };
    ask(&state, caller, query, &[("text", "q"), ("currencies", "currency")]).await
}

/// `GET /payments/suggestions?q=&size=` (`size` clamped to 50).
pub(super) async fn suggestions(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    params: Params,
) -> Result<Json<Suggestions>, Problem> {
    let size = params.u64("size")?.map_or(10, |s| s.min(MAX_SUGGESTIONS));
    let query = GetPaymentSuggestions {
        prefix: params.text("q").unwrap_or_default(),
        size: usize::try_from(size).unwrap_or(10),
    };
    ask(&state, caller, query, &[("prefix", "q")]).await
}

/// `GET /payments/statistics?from=&to=` (default: the last 30 days).
pub(super) async fn statistics(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    params: Params,
) -> Result<Json<PaymentStatistics>, Problem> {
    let (from, to) = params.range_or_last_30_days()?;
    ask(&state, caller, GetPaymentStatistics { from, to }, &[]).await
}

/// `GET /payments/trends?from=&to=` (default: the last 30 days).
pub(super) async fn trends(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    params: Params,
) -> Result<Json<PaymentTrends>, Problem> {
    let (from, to) = params.range_or_last_30_days()?;
    ask(&state, caller, GetPaymentTrends { from, to }, &[]).await
}

/// `GET /payments/{id}/history?fromVersion=N` (default: every event).
pub(super) async fn history(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Segment(payment_id): Segment,
    params: Params,
) -> Result<Json<PaymentHistory>, Problem> {
    let query = GetPaymentHistory {
        payment_id,
        from_version: params.u64("fromVersion")?,
    };
    ask(&state, caller, query, ID).await
}

/// `GET /payments/{id}/replay?version=N` or `?at=<RFC 3339>` (latest when neither).
pub(super) async fn replay(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Segment(payment_id): Segment,
    params: Params,
) -> Result<Json<PaymentReplay>, Problem> {
    let query = ReplayPayment {
        payment_id,
        version: params.u64("version")?,
        as_of: params.time("at")?,
    };
    ask(&state, caller, query, &[("paymentId", "id"), ("asOf", "at")]).await
}
