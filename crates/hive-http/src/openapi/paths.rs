//! The operations of the OpenAPI document, and the parameters and responses they share.

use serde_json::{json, Map, Value};

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn reference(kind: &str, name: &str) -> Value {
    json!({ "$ref": format!("#/components/{kind}/{name}") })
}

fn query(name: &str, kind: &str, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": kind } })
}

/// An integer query parameter of at least `minimum` (digits beyond `u64` are clamped like any
/// large value; a sign, a fraction or text is a `400`).
fn integer(name: &str, minimum: u64, description: &str) -> Value {
    json!({
        "name": name, "in": "query", "required": false, "description": description,
        "schema": { "type": "integer", "minimum": minimum }
    })
}

fn time(name: &str, description: &str) -> Value {
    json!({
        "name": name, "in": "query", "required": false, "description": description,
        "schema": { "type": "string", "format": "date-time" }
    })
}

fn list(name: &str, description: &str) -> Value {
    json!({
        "name": name, "in": "query", "required": false, "description": description,
        "style": "form", "explode": true, "schema": { "type": "array", "items": { "type": "string" } }
    })
}

fn json_body(schema_name: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema(schema_name) } } })
}

/// An operation answering `ok_status` with `ok_schema`, and the shared `errors`.
fn op(id: &str, tag: &str, summary: &str, ok_status: &str, ok_schema: &str, errors: &[&str]) -> Map<String, Value> {
    let mut responses = Map::new();
    let mut ok = json!({
        "description": summary,
        "headers": { "X-Correlation-Id": reference("headers", "CorrelationId") },
        "content": { "application/json": { "schema": schema(ok_schema) } }
    });
    if ok_status == "201" {
        ok["headers"]["Location"] = json!({ "description": "The new payment", "schema": { "type": "string" } });
    }
    responses.insert(ok_status.to_owned(), ok);
    for status in errors.iter().chain(&["400", "401", "500", "503"]) {
        responses.insert((*status).to_owned(), reference("responses", status));
    }
    let mut operation = Map::new();
    operation.insert("operationId".into(), json!(id));
    operation.insert("tags".into(), json!([tag]));
    operation.insert("summary".into(), json!(summary));
    operation.insert("parameters".into(), json!([reference("parameters", "CorrelationId")]));
    operation.insert("responses".into(), Value::Object(responses));
    operation
}

fn with_params(mut operation: Map<String, Value>, params: Vec<Value>) -> Value {
    if let Some(Value::Array(list)) = operation.get_mut("parameters") {
        list.extend(params);
    }
    Value::Object(operation)
}

fn command(id: &str, summary: &str, ok_status: &str, body: Option<&str>, params: Vec<Value>) -> Value {
    let mut operation = op(
        id,
        "payments",
        summary,
        ok_status,
        "Payment",
        &["403", "404", "409", "413", "415", "422"],
    );
    if let Some(body) = body {
        operation.insert("requestBody".into(), json_body(body));
    }
    let mut params = params;
    params.push(reference("parameters", "IdempotencyKey"));
    with_params(operation, params)
}

/// `POST /payments/{id}/process`: no body, or `{}` (the body is read, so the limit applies).
fn process(id: Value) -> Value {
    let mut operation = command("processPayment", "Process a pending payment", "200", None, vec![id]);
    operation["requestBody"] = json!({
        "required": false,
        "description": "None, or an empty object; any other body is a `400`",
        "content": { "application/json": { "schema": { "type": "object", "maxProperties": 0 } } }
    });
    operation
}

fn public(id: &str, summary: &str, ok_schema: &str, content_type: &str) -> Value {
    json!({
        "operationId": id, "tags": ["operations"], "summary": summary, "security": [],
        "responses": {
            "200": { "description": summary, "content": { content_type: { "schema": schema(ok_schema) } } }
        }
    })
}

fn range() -> Vec<Value> {
    vec![
        time("from", "Inclusive start (RFC 3339); default: the end minus 30 days"),
        time("to", "Exclusive end (RFC 3339); default: now. Not with `toInclusive`"),
        to_inclusive(),
    ]
}

/// `toInclusive`: the seeds' inclusive end (`lte`), instead of `to`.
fn to_inclusive() -> Value {
    time(
        "toInclusive",
        "Inclusive end (RFC 3339): events or payments at exactly this instant count; not with `to` (both: `400`)",
    )
}

/// `scope` of the event analytics.
fn scope() -> Value {
    json!({
        "name": "scope", "in": "query", "required": false,
        "description": "`organization` (default): the token's organization; `platform`: every organization \
            (`byOrganization` lists each), which needs the `platform` role (else `403` `insufficient_role`)",
        "schema": { "type": "string", "enum": ["organization", "platform"], "default": "organization" }
    })
}

/// An operation's `x-hive-role`: the role a request needs (`reader`, `writer`, `admin`;
/// `platform` for `scope=platform`), and its `403` response.
fn needs(mut operation: Value, role: &str) -> Value {
    operation["x-hive-role"] = json!(role);
    operation["responses"]["403"] = reference("responses", "403");
    operation
}

/// The `paths` object: one entry per route of [`crate::ROUTES`].
pub(super) fn paths() -> Value {
    let id = reference("parameters", "PaymentId");
    let correlation = reference("parameters", "CorrelationIdPath");
    let page = || {
        vec![
            integer("page", 1, "Page number, from 1 (default 1)"),
            integer("size", 1, "Page size, 1–100 (default 20; larger is clamped to 100)"),
        ]
    };
    let event_type = || query("eventType", "string", "Only this event type");
    let pay_get = |op_id: &str, summary: &str, ok: &str| op(op_id, "payments", summary, "200", ok, &["403", "404"]);
    let ev_get = |op_id: &str, summary: &str, ok: &str| op(op_id, "events", summary, "200", ok, &["403"]);
    let analytics = |op_id: &str, summary: &str, ok: &str, mut params: Vec<Value>| {
        params.extend(range());
        params.push(scope());
        needs(with_params(ev_get(op_id, summary, ok), params), "reader")
    };
    json!({
        "/payments": {
            "post": needs(command("createPayment", "Create a pending payment", "201", Some("CreatePaymentRequest"), vec![]), "writer"),
            "get": needs(with_params(pay_get("listPayments", "The organization's payments, newest processed first", "PaymentPage"), vec![
                integer("limit", 1, "Page size, 1–100 (default 20; larger is clamped to 100)"),
                integer("offset", 0, "Payments to skip (default 0)"),
            ]), "reader"),
        },
        "/payments/search": {
            "get": needs(with_params(pay_get("searchPayments", "Full-text and filtered search", "PaymentSearchPage"), {
                let mut params = vec![
                    query("q", "string", "Free text (fuzzy) over description, payment id, tags and metadata values"),
                    list("status", "Only these statuses (repeat or comma-separate)"),
                    list("currency", "Only these ISO 4217 currencies (repeat or comma-separate)"),
                    query("minAmount", "string", "Only amounts ≥ this"),
                    query("maxAmount", "string", "Only amounts ≤ this"),
                    time("from", "Only payments processed at or after this (RFC 3339)"),
                    time("to", "Only payments processed before this (RFC 3339, exclusive); not with `toInclusive`"),
                    to_inclusive(),
                ];
                params.extend(page());
                params
            }), "reader"),
        },
        "/payments/suggestions": {
            "get": needs(with_params(pay_get("suggestPayments", "Completions of a description prefix", "Suggestions"), vec![
                json!({
                    "name": "q", "in": "query", "required": true, "description": "The prefix typed so far (1–100 characters)",
                    "schema": { "type": "string", "minLength": 1, "maxLength": 100 }
                }),
                integer("size", 1, "How many, 1–50 (default 10; larger is clamped to 50)"),
            ]), "reader"),
        },
        "/payments/statistics": {
            "get": needs(with_params(pay_get("paymentStatistics", "Counts and amounts by status and currency, and per day", "PaymentStatistics"), range()), "reader"),
        },
        "/payments/trends": {
            "get": needs(with_params(pay_get("paymentTrends", "Counts and amounts per UTC day and currency", "PaymentTrends"), range()), "reader"),
        },
        "/payments/{id}": {
            "get": needs(with_params(pay_get("getPayment", "One payment", "Payment"), vec![id.clone()]), "reader"),
        },
        "/payments/{id}/process": {
            "post": needs(process(id.clone()), "writer"),
        },
        "/payments/{id}/fail": {
            "post": needs(command("failPayment", "Mark a pending payment failed", "200", Some("FailPaymentRequest"), vec![id.clone()]), "writer"),
        },
        "/payments/{id}/refund": {
            "post": needs(command("refundPayment", "Refund part or all of a processed payment", "200", Some("RefundPaymentRequest"), vec![id.clone()]), "writer"),
        },
        "/payments/{id}/history": {
            "get": needs(with_params(pay_get("paymentHistory", "The events of a payment, in version order", "PaymentHistory"), vec![
                id.clone(),
                integer("fromVersion", 1, "Only the events from this version on (default 1: every event; past the last version: none)"),
            ]), "reader"),
        },
        "/payments/{id}/replay": {
            "get": needs(with_params(pay_get("replayPayment", "A payment rebuilt from its events", "PaymentReplay"), vec![
                id,
                integer("version", 1, "Replay events 1..=version (not with `at`)"),
                time("at", "Replay the events recorded at or before this instant (RFC 3339; not with `version`)"),
            ]), "reader"),
        },
        "/events/search": {
            "get": needs(with_params(ev_get("searchEvents", "Payment events by type, text and time", "EventPage"), {
                let mut params = vec![query("q", "string", "Free text over event data and metadata"), event_type()];
                params.extend(range());
                params.push(json!({
                    "name": "order", "in": "query", "required": false,
                    "description": "`desc` (default): newest first, the seeds' `timestamp desc`; `asc`: oldest first",
                    "schema": { "type": "string", "enum": ["asc", "desc"], "default": "desc" }
                }));
                params.extend(page());
                params
            }), "reader"),
        },
        "/events/{eventId}": {
            "get": needs(with_params(op("getEvent", "events", "One event of the organization by its id", "200", "Event", &["403", "404"]), vec![
                json!({
                    "name": "eventId", "in": "path", "required": true, "description": "The event id (a UUID; anything else is a `400`)",
                    "schema": { "type": "string", "format": "uuid" }
                }),
            ]), "reader"),
        },
        "/events/timeline/{correlationId}": {
            "get": needs(with_params(ev_get("eventTimeline", "Every event of one correlation id", "EventTimeline"), vec![correlation.clone()]), "reader"),
        },
        "/events/statistics": {
            "get": analytics("eventStatistics", "Event counts by hour, day, organization and user", "EventStatistics", vec![event_type()]),
        },
        "/events/trends": {
            "get": analytics("eventTrends", "Event counts per interval", "EventTrends", vec![event_type(), json!({
                "name": "interval", "in": "query", "required": false,
                "description": "Bucket width (default day)",
                "schema": { "type": "string", "enum": ["hour", "day", "week", "month"] }
            })]),
        },
        "/events/heatmap": {
            "get": analytics("eventHeatmap", "Event counts by hour of day × day of week", "Heatmap", vec![event_type()]),
        },
        "/events/correlations/{correlationId}": {
            "get": needs(with_params(ev_get("eventCorrelations", "The events of one correlation id, short form", "EventCorrelations"), vec![correlation]), "reader"),
        },
        "/healthz": { "get": public("healthz", "The process is up", "Health", "application/json") },
        "/readyz": { "get": {
            "operationId": "readyz", "tags": ["operations"], "summary": "Whether every backend answers", "security": [],
            "responses": {
                "200": { "description": "Ready or degraded", "content": { "application/json": { "schema": schema("Readiness") } } },
                "503": { "description": "A backend is down", "content": { "application/problem+json": { "schema": schema("NotReady") } } }
            }
        } },
        "/metrics": { "get": public("metrics", "Prometheus metrics (OpenMetrics text)", "MetricsText", "application/openmetrics-text") },
        "/openapi.json": { "get": public("openapi", "This document", "OpenApiDocument", "application/json") },
    })
}

/// `components.parameters`.
pub(super) fn shared_parameters() -> Value {
    json!({
        "PaymentId": {
            "name": "id", "in": "path", "required": true, "description": "The payment id",
            "schema": { "type": "string", "maxLength": 128, "pattern": "^[A-Za-z0-9._:-]+$" }
        },
        "CorrelationIdPath": {
            "name": "correlationId", "in": "path", "required": true, "description": "A correlation id",
            "schema": { "type": "string" }
        },
        "CorrelationId": {
            "name": "X-Correlation-Id", "in": "header", "required": false,
            "description": "Correlation id of the request (≤ 128 printable ASCII characters); generated when absent",
            "schema": { "type": "string", "maxLength": 128, "pattern": "^[ -~]*$" }
        },
        "IdempotencyKey": {
            "name": "Idempotency-Key", "in": "header", "required": false,
            "description": "The same key from the same organization is the same command: its first answer is replayed",
            "schema": { "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$" }
        }
    })
}

/// `components.responses`: the problems.
pub(super) fn shared_responses() -> Value {
    let problem = |description: &str| {
        json!({
            "description": description,
            "headers": { "X-Correlation-Id": reference("headers", "CorrelationId") },
            "content": { "application/problem+json": { "schema": schema("Problem") } }
        })
    };
    let mut unauthorized = problem("Missing or invalid bearer token");
    unauthorized["headers"]["WWW-Authenticate"] = json!({ "schema": { "type": "string", "example": "Bearer" } });
    json!({
        "400": problem("Malformed JSON, parameter or field (named in `errors`)"),
        "401": unauthorized,
        "403": problem("The token lacks the role the request needs (code `insufficient_role`, `requiredRole`), or the body names another organization or user than the token's (code `forbidden`)"),
        "404": problem("Unknown payment or event (or one of another organization)"),
        "409": problem("The payment id is taken in the token's organization (`payment_already_exists`), or a concurrency conflict left after retries"),
        "413": problem("Request body over the limit"),
        "415": problem("Request body is not JSON"),
        "422": problem("A payment invariant refused the command (see `code`)"),
        "500": problem("A bug"),
        "503": problem("A backend is unreachable, or the request timed out (code `timeout`)"),
    })
}
