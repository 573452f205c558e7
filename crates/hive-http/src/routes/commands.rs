//! `POST /payments…`: the payment commands. The organization and user come from the bearer
//! token, never from the body; `Idempotency-Key` fixes the command id.

use std::sync::Arc;

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hive_application::{Command, MessageContext};
use hive_billing::{Amount, CreatePayment, FailPayment, PaymentView, ProcessPayment, RefundPayment};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Caller;
use crate::extract::{JsonBody, NoBody, Segment};
use crate::idempotency::IdempotencyKey;
use crate::problem::rename_fields;
use crate::{ApiState, Problem};

/// `metadata` keys the token sets (in the events' metadata).
const RESERVED_METADATA: &[&str] = &["organizationId", "userId", "source"];

/// The body of `POST /payments`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CreatePaymentRequest {
    #[serde(default)]
    payment_id: Option<String>,
    amount: Amount,
    currency: String,
    description: String,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    organization_id: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
}

/// The body of `POST /payments/{id}/fail`.
#[derive(Debug, Deserialize)]
pub(super) struct FailPaymentRequest {
    error: String,
}

/// The body of `POST /payments/{id}/refund`.
#[derive(Debug, Deserialize)]
pub(super) struct RefundPaymentRequest {
    amount: Amount,
}

/// `POST /payments` → `201` with the payment and `Location: /payments/{id}`.
pub(super) async fn create(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<CreatePaymentRequest>,
) -> Result<Response, Problem> {
    same_identity(&caller, body.organization_id.as_deref(), body.user_id.as_deref())?;
    let mut context = caller.command_context(key.as_deref());
    let metadata = body.metadata.unwrap_or_default();
    add_metadata(&mut context, &metadata)?;
    let command = CreatePayment {
        payment_id: body.payment_id.unwrap_or_else(|| Uuid::now_v7().to_string()),
        amount: body.amount,
        currency: body.currency,
        description: body.description,
        tags: body.tags.unwrap_or_default(),
        metadata,
    };
    let view = send(&state, command, context, &[]).await?;
    let mut response = (StatusCode::CREATED, Json(&view)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/payments/{}", view.payment_id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `POST /payments/{id}/process` (no body, or `{}`).
pub(super) async fn process(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    key: IdempotencyKey,
    Segment(payment_id): Segment,
    _: NoBody,
) -> Result<Json<PaymentView>, Problem> {
    let context = caller.command_context(key.as_deref());
    send(&state, ProcessPayment { payment_id }, context, &[("paymentId", "id")])
        .await
        .map(Json)
}

/// `POST /payments/{id}/fail` with `{"error"}`.
pub(super) async fn fail(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    key: IdempotencyKey,
    Segment(payment_id): Segment,
    JsonBody(body): JsonBody<FailPaymentRequest>,
) -> Result<Json<PaymentView>, Problem> {
    let context = caller.command_context(key.as_deref());
    let command = FailPayment {
        payment_id,
        error: body.error,
    };
    send(&state, command, context, &[("paymentId", "id")]).await.map(Json)
}

/// `POST /payments/{id}/refund` with `{"amount"}`.
pub(super) async fn refund(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    key: IdempotencyKey,
    Segment(payment_id): Segment,
    JsonBody(body): JsonBody<RefundPaymentRequest>,
) -> Result<Json<PaymentView>, Problem> {
    let context = caller.command_context(key.as_deref());
    let command = RefundPayment {
        payment_id,
        refund_amount: body.amount,
    };
    let renames = [("paymentId", "id"), ("refundAmount", "amount")];
    send(&state, command, context, &renames).await.map(Json)
}

/// Sends `command`, counting it by type and outcome.
async fn send<C>(
    state: &ApiState,
    command: C,
    context: MessageContext,
    renames: &[(&str, &str)],
) -> Result<PaymentView, Problem>
where
    C: Command<Output = PaymentView>,
{
    let outcome = state.commands.dispatch(command, context).await;
    let outcome = outcome.map_err(|error| Problem::from(rename_fields(error, renames)));
    let label = outcome.as_ref().map_or_else(|problem| problem.code.as_str(), |_| "ok");
    state.metrics.record_command(C::name(), label);
    outcome
}

/// `403` when the body names an organization or user other than the token's.
fn same_identity(caller: &Caller, organization: Option<&str>, user: Option<&str>) -> Result<(), Problem> {
    if organization.is_some_and(|o| o != caller.organization) {
        return Err(Problem::forbidden(
            "the bearer token acts for another organization: a request cannot act for another tenant",
        ));
    }
    if user.is_some_and(|u| u != caller.user) {
        return Err(Problem::forbidden(
            "the bearer token acts as another user: a request cannot act as someone else",
        ));
    }
    Ok(())
}

/// Adds the request's `metadata` to the context's extra metadata too, so every event of the
/// request carries it as before payments had metadata of their own. Its bounds are the
/// command's (`400 validation_failed` naming `metadata`); the keys the token sets are refused.
fn add_metadata(context: &mut MessageContext, metadata: &BTreeMap<String, String>) -> Result<(), Problem> {
    for (key, value) in metadata {
        if RESERVED_METADATA.contains(&key.as_str()) {
            return Err(Problem::bad_request(
                &format!("metadata.{key}"),
                "reserved: the organization, user and source come from the bearer token",
            ));
        }
        context
            .metadata
            .extra
            .insert(key.clone(), serde_json::Value::String(value.clone()));
    }
    Ok(())
}
