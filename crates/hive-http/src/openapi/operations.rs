//! The OpenAPI operation of each route of [`crate::ROUTES`] (its [`crate::Route::operation`]):
//! summary, parameters, request body and responses. The path, the method, `x-hive-role` and the
//! `403` response come from the route's entry.

use serde_json::{json, Value};

use super::paths::{
    command, integer, list, op, process, public, query, range, reference, scope, time, to_inclusive, with_params,
};

fn payment_id() -> Value {
    reference("parameters", "PaymentId")
}

fn correlation_id() -> Value {
    reference("parameters", "CorrelationIdPath")
}

fn page() -> Vec<Value> {
    vec![
        integer("page", 1, "Page number, from 1 (default 1)"),
        integer("size", 1, "Page size, 1–100 (default 20; larger is clamped to 100)"),
    ]
}

fn event_type() -> Value {
    query("eventType", "string", "Only this event type")
}

/// A payment query answering `200` with `ok`, `404` for an unknown payment.
fn payment_query(id: &str, summary: &str, ok: &str, params: Vec<Value>) -> Value {
    with_params(op(id, "payments", summary, "200", ok, &["403", "404"]), params)
}

/// An event query answering `200` with `ok`.
fn event_query(id: &str, summary: &str, ok: &str, params: Vec<Value>) -> Value {
    with_params(op(id, "events", summary, "200", ok, &["403"]), params)
}

/// An event analytics query: `params`, the time range and `scope`.
fn analytics(id: &str, summary: &str, ok: &str, mut params: Vec<Value>) -> Value {
    params.extend(range());
    params.push(scope());
    event_query(id, summary, ok, params)
}

/// `POST /payments`.
pub(crate) fn create_payment() -> Value {
    command(
        "createPayment",
        "Create a pending payment",
        "201",
        Some("CreatePaymentRequest"),
        vec![],
    )
}

/// `GET /payments`.
pub(crate) fn list_payments() -> Value {
    payment_query(
        "listPayments",
        "The organization's payments, newest processed first",
        "PaymentPage",
        vec![
            integer("limit", 1, "Page size, 1–100 (default 20; larger is clamped to 100)"),
            integer("offset", 0, "Payments to skip (default 0)"),
        ],
    )
}

/// `GET /payments/search`.
pub(crate) fn search_payments() -> Value {
    let mut params = vec![
        query(
            "q",
            "string",
            "Free text (fuzzy) over description, payment id, tags and metadata values",
        ),
        list("status", "Only these statuses (repeat or comma-separate)"),
        list("currency", "Only these ISO 4217 currencies (repeat or comma-separate)"),
        query("minAmount", "string", "Only amounts ≥ this"),
        query("maxAmount", "string", "Only amounts ≤ this"),
        time("from", "Only payments processed at or after this (RFC 3339)"),
        time(
            "to",
            "Only payments processed before this (RFC 3339, exclusive); not with `toInclusive`",
        ),
        to_inclusive(),
    ];
    params.extend(page());
    payment_query(
        "searchPayments",
        "Full-text and filtered search",
        "PaymentSearchPage",
        params,
    )
}

/// `GET /payments/suggestions`.
pub(crate) fn suggest_payments() -> Value {
    let prefix = json!({
        "name": "q", "in": "query", "required": true, "description": "The prefix typed so far (1–100 characters)",
        "schema": { "type": "string", "minLength": 1, "maxLength": 100 }
    });
    let size = integer("size", 1, "How many, 1–50 (default 10; larger is clamped to 50)");
    payment_query(
        "suggestPayments",
        "Completions of a description prefix",
        "Suggestions",
        vec![prefix, size],
    )
}

/// `GET /payments/statistics`.
pub(crate) fn payment_statistics() -> Value {
    let summary = "Counts and amounts by status and currency, and per day";
    payment_query("paymentStatistics", summary, "PaymentStatistics", range())
}

/// `GET /payments/trends`.
pub(crate) fn payment_trends() -> Value {
    let summary = "Counts and amounts per UTC day and currency";
    payment_query("paymentTrends", summary, "PaymentTrends", range())
}

/// `GET /payments/{id}`.
pub(crate) fn get_payment() -> Value {
    payment_query("getPayment", "One payment", "Payment", vec![payment_id()])
}

/// `POST /payments/{id}/process`.
pub(crate) fn process_payment() -> Value {
    process(payment_id())
}

/// `POST /payments/{id}/fail`.
pub(crate) fn fail_payment() -> Value {
    let summary = "Mark a pending payment failed";
    command(
        "failPayment",
        summary,
        "200",
        Some("FailPaymentRequest"),
        vec![payment_id()],
    )
}

/// `POST /payments/{id}/refund`.
pub(crate) fn refund_payment() -> Value {
    let summary = "Refund part or all of a processed payment";
    command(
        "refundPayment",
        summary,
        "200",
        Some("RefundPaymentRequest"),
        vec![payment_id()],
    )
}

/// `GET /payments/{id}/history`.
pub(crate) fn payment_history() -> Value {
    let from_version = integer(
        "fromVersion",
        1,
        "Only the events from this version on (default 1: every event; past the last version: none)",
    );
    let summary = "The events of a payment, in version order";
    payment_query(
        "paymentHistory",
        summary,
        "PaymentHistory",
        vec![payment_id(), from_version],
    )
}

/// `GET /payments/{id}/replay`.
pub(crate) fn replay_payment() -> Value {
    let params = vec![
        payment_id(),
        integer("version", 1, "Replay events 1..=version (not with `at`)"),
        time(
            "at",
            "Replay the events recorded at or before this instant (RFC 3339; not with `version`)",
        ),
    ];
    payment_query(
        "replayPayment",
        "A payment rebuilt from its events",
        "PaymentReplay",
        params,
    )
}

/// `GET /events/search`.
pub(crate) fn search_events() -> Value {
    let mut params = vec![
        query("q", "string", "Free text over event data and metadata"),
        event_type(),
    ];
    params.extend(range());
    params.push(json!({
        "name": "order", "in": "query", "required": false,
        "description": "`desc` (default): newest first, the seeds' `timestamp desc`; `asc`: oldest first",
        "schema": { "type": "string", "enum": ["asc", "desc"], "default": "desc" }
    }));
    params.extend(page());
    event_query(
        "searchEvents",
        "Payment events by type, text and time",
        "EventPage",
        params,
    )
}

/// `GET /events/{eventId}`.
pub(crate) fn get_event() -> Value {
    let event_id = json!({
        "name": "eventId", "in": "path", "required": true, "description": "The event id (a UUID; anything else is a `400`)",
        "schema": { "type": "string", "format": "uuid" }
    });
    let summary = "One event of the organization by its id";
    with_params(
        op("getEvent", "events", summary, "200", "Event", &["403", "404"]),
        vec![event_id],
    )
}

/// `GET /events/timeline/{correlationId}`.
pub(crate) fn event_timeline() -> Value {
    let summary = "Every event of one correlation id";
    event_query("eventTimeline", summary, "EventTimeline", vec![correlation_id()])
}

/// `GET /events/statistics`.
pub(crate) fn event_statistics() -> Value {
    let summary = "Event counts by hour, day, organization and user";
    analytics("eventStatistics", summary, "EventStatistics", vec![event_type()])
}

/// `GET /events/trends`.
pub(crate) fn event_trends() -> Value {
    let interval = json!({
        "name": "interval", "in": "query", "required": false,
        "description": "Bucket width (default day)",
        "schema": { "type": "string", "enum": ["hour", "day", "week", "month"] }
    });
    analytics(
        "eventTrends",
        "Event counts per interval",
        "EventTrends",
        vec![event_type(), interval],
    )
}

/// `GET /events/heatmap`.
pub(crate) fn event_heatmap() -> Value {
    let summary = "Event counts by hour of day × day of week";
    analytics("eventHeatmap", summary, "Heatmap", vec![event_type()])
}

/// `GET /events/correlations/{correlationId}`.
pub(crate) fn event_correlations() -> Value {
    let summary = "The events of one correlation id, short form";
    event_query(
        "eventCorrelations",
        summary,
        "EventCorrelations",
        vec![correlation_id()],
    )
}

/// `GET /healthz`.
pub(crate) fn healthz() -> Value {
    public("healthz", "The process is up", "Health", "application/json")
}

/// `GET /readyz`.
pub(crate) fn readyz() -> Value {
    json!({
        "operationId": "readyz", "tags": ["operations"], "summary": "Whether every backend answers", "security": [],
        "responses": {
            "200": { "description": "Ready or degraded", "content": { "application/json": { "schema": super::paths::schema("Readiness") } } },
            "503": { "description": "A backend is down", "content": { "application/problem+json": { "schema": super::paths::schema("NotReady") } } }
        }
    })
}

/// `GET /metrics`.
pub(crate) fn metrics() -> Value {
    public(
        "metrics",
        "Prometheus metrics (OpenMetrics text)",
        "MetricsText",
        "application/openmetrics-text",
    )
}

/// `GET /openapi.json`.
pub(crate) fn openapi() -> Value {
    public("openapi", "This document", "OpenApiDocument", "application/json")
}
