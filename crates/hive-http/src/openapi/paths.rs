//! The `paths` of the OpenAPI document, built from the route table, the helpers the operations
//! ([`super::operations`]) are written with, and the parameters and responses they share.

use hive_billing::AnalyticsScope;
use serde_json::{json, Map, Value};

pub(super) fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

pub(super) fn reference(kind: &str, name: &str) -> Value {
    json!({ "$ref": format!("#/components/{kind}/{name}") })
}

pub(super) fn query(name: &str, kind: &str, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": kind } })
}

/// An integer query parameter of at least `minimum` (digits beyond `u64` are clamped like any
/// large value; a sign, a fraction or text is a `400`).
pub(super) fn integer(name: &str, minimum: u64, description: &str) -> Value {
    json!({
        "name": name, "in": "query", "required": false, "description": description,
        "schema": { "type": "integer", "minimum": minimum }
    })
}

pub(super) fn time(name: &str, description: &str) -> Value {
    json!({
        "name": name, "in": "query", "required": false, "description": description,
        "schema": { "type": "string", "format": "date-time" }
    })
}

pub(super) fn list(name: &str, description: &str) -> Value {
    json!({
        "name": name, "in": "query", "required": false, "description": description,
        "style": "form", "explode": true, "schema": { "type": "array", "items": { "type": "string" } }
    })
}

fn json_body(schema_name: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema(schema_name) } } })
}

/// An operation answering `ok_status` with `ok_schema`, and the shared `errors`.
pub(super) fn op(
    id: &str,
    tag: &str,
    summary: &str,
    ok_status: &str,
    ok_schema: &str,
    errors: &[&str],
) -> Map<String, Value> {
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

pub(super) fn with_params(mut operation: Map<String, Value>, params: Vec<Value>) -> Value {
    if let Some(Value::Array(list)) = operation.get_mut("parameters") {
        list.extend(params);
    }
    Value::Object(operation)
}

pub(super) fn command(id: &str, summary: &str, ok_status: &str, body: Option<&str>, params: Vec<Value>) -> Value {
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
pub(super) fn process(id: Value) -> Value {
    let mut operation = command("processPayment", "Process a pending payment", "200", None, vec![id]);
    operation["requestBody"] = json!({
        "required": false,
        "description": "None, or an empty object; any other body is a `400`",
        "content": { "application/json": { "schema": { "type": "object", "maxProperties": 0 } } }
    });
    operation
}

pub(super) fn public(id: &str, summary: &str, ok_schema: &str, content_type: &str) -> Value {
    json!({
        "operationId": id, "tags": ["operations"], "summary": summary, "security": [],
        "responses": {
            "200": { "description": summary, "content": { content_type: { "schema": schema(ok_schema) } } }
        }
    })
}

pub(super) fn range() -> Vec<Value> {
    vec![
        time("from", "Inclusive start (RFC 3339); default: the end minus 30 days"),
        time(
            "to",
            "Exclusive end (RFC 3339); default: the start of the next whole UTC hour. Not with `toInclusive`",
        ),
        to_inclusive(),
    ]
}

/// `toInclusive`: the seeds' inclusive end (`lte`), instead of `to`.
pub(super) fn to_inclusive() -> Value {
    time(
        "toInclusive",
        "Inclusive end (RFC 3339): events or payments at exactly this instant count; not with `to` (both: `400`)",
    )
}

/// `scope` of the event analytics.
pub(super) fn scope() -> Value {
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

/// The `paths` object: the [`crate::Route::operation`] of every route of [`crate::ROUTES`], under
/// its path and method, with the role its [`crate::Access`] needs as `x-hive-role` (and a `403`
/// response) unless it is public.
pub(super) fn paths() -> Value {
    let mut paths = Map::new();
    for route in crate::ROUTES {
        let Some(operation) = route.operation else {
            tracing::error!(method = %route.method, path = route.path, "a route of the API has no OpenAPI operation");
            continue;
        };
        let mut operation = operation();
        if let Some(role) = route.access.required_role(AnalyticsScope::Organization) {
            operation = needs(operation, role.as_str());
        }
        let item = paths.entry(route.path).or_insert_with(|| json!({}));
        item[route.method.as_str().to_ascii_lowercase()] = operation;
    }
    Value::Object(paths)
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
