//! The OpenAPI 3.0 document of the API (`GET /openapi.json`): its paths are built from the route
//! table, each route's operation written beside the others in [`operations`].

pub(crate) mod operations;
mod paths;
mod schemas;
pub(crate) mod subscriptions;

use std::sync::LazyLock;

use serde_json::{json, Value};

/// The OpenAPI 3.0.3 document: every route of [`crate::ROUTES`] with its parameters, request
/// body and responses, the problem schema and the bearer security scheme.
///
/// ```
/// let document = hive_http::openapi_document();
/// assert_eq!(document["openapi"], "3.0.3");
/// assert!(document["paths"]["/payments/{id}"]["get"].is_object());
/// ```
pub fn openapi_document() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Hive billing API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Payments of the caller's organization, their events and analytics. \
                Every error is an RFC 7807 problem (`application/problem+json`). Every response \
                echoes `X-Correlation-Id` (the request's, or a generated UUID v7). Amounts are \
                decimal strings in responses and strings or numbers in requests. Time parameters \
                are RFC 3339; `to` is exclusive, `toInclusive` (not with `to`) is the inclusive end; \
                missing `from`/`to` of the statistics, trends and event routes mean the last 30 days. \
                Each operation's `x-hive-role` is the role its token needs: `reader` (queries), \
                `writer` (also commands), `admin` (also operations); `platform` (apart) reads the \
                event analytics and follows the subscription feeds of every organization with `scope=platform`. POSTs accept `Idempotency-Key`: the same key from the same \
                organization replays the first answer (remembered in process, bounded)."
        },
        "tags": [
            { "name": "payments", "description": "Payment commands and queries" },
            { "name": "events", "description": "Payment events and analytics" },
            { "name": "subscriptions", "description": "Event feeds (Server-Sent Events) and consumer-group checkpoints" },
            { "name": "operations", "description": "Health, readiness, metrics, this document" }
        ],
        "security": [{ "bearer": [] }],
        "paths": paths::paths(),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token; it names the organization and user the request acts for, and its roles."
                }
            },
            "headers": {
                "CorrelationId": {
                    "description": "The request's correlation id, or the one generated for it",
                    "schema": { "type": "string" }
                }
            },
            "parameters": paths::shared_parameters(),
            "responses": paths::shared_responses(),
            "schemas": schemas::schemas()
        }
    })
}

static DOCUMENT: LazyLock<String> = LazyLock::new(|| openapi_document().to_string());

/// The document serialised once.
pub(crate) fn document_json() -> &'static str {
    &DOCUMENT
}
