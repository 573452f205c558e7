//! `components.schemas` of the OpenAPI document.

use serde_json::{json, Value};

pub(super) fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

pub(super) fn nullable(kind: &str, format: Option<&str>) -> Value {
    let mut value = json!({ "type": kind, "nullable": true });
    if let Some(format) = format {
        value["format"] = json!(format);
    }
    value
}

pub(super) fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties })
}

fn counts() -> Value {
    json!({ "type": "object", "additionalProperties": { "type": "integer", "format": "int64" } })
}

fn page_of(item: &str) -> Value {
    object(
        &["items", "total", "page", "size", "totalPages"],
        json!({
            "items": { "type": "array", "items": schema(item) },
            "total": { "type": "integer", "format": "int64" },
            "page": { "type": "integer", "format": "int64" },
            "size": { "type": "integer", "format": "int64" },
            "totalPages": { "type": "integer", "format": "int64" }
        }),
    )
}

fn events_of(item: &str) -> Value {
    object(
        &["correlationId", "items"],
        json!({ "correlationId": { "type": "string" }, "items": { "type": "array", "items": schema(item) } }),
    )
}

/// Every schema the operations refer to.
pub(super) fn schemas() -> Value {
    let date_time = json!({ "type": "string", "format": "date-time" });
    let int = json!({ "type": "integer", "format": "int64" });
    let mut schemas = json!({
        "Problem": {
            "type": "object",
            "description": "RFC 7807 problem details",
            "required": ["type", "title", "status", "detail", "code"],
            "properties": {
                "type": { "type": "string" },
                "title": { "type": "string" },
                "status": { "type": "integer" },
                "detail": { "type": "string" },
                "code": { "type": "string", "description": "Stable machine-readable code" },
                "errors": { "type": "array", "items": object(&["field", "message"], json!({
                    "field": { "type": "string" }, "message": { "type": "string" }
                })) },
                "expected": int, "actual": int
            }
        },
        "Amount": {
            "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$", "example": "100.00",
            "description": "An exact decimal amount at the currency's scale"
        },
        "AmountInput": {
            "description": "An amount as a decimal string or a JSON number",
            "oneOf": [{ "type": "string", "example": "100.00" }, { "type": "number", "example": 100 }]
        },
        "Currency": { "type": "string", "example": "EUR", "description": "ISO 4217 code" },
        "PaymentStatus": {
            "type": "string", "enum": ["pending", "completed", "failed", "refunded", "partially_refunded"]
        },
        "Payment": object(
            &["paymentId", "organizationId", "userId", "amount", "currency", "status", "description", "tags",
              "createdAt", "updatedAt", "version"],
            json!({
                "paymentId": { "type": "string" },
                "organizationId": { "type": "string" },
                "userId": { "type": "string" },
                "amount": schema("Amount"),
                "currency": schema("Currency"),
                "status": schema("PaymentStatus"),
                "description": { "type": "string" },
                "tags": { "type": "array", "items": { "type": "string" } },
                "metadata": {
                    "type": "object", "additionalProperties": { "type": "string" },
                    "description": "Free-form pairs given at creation (`{}` when none); searched like the tags"
                },
                "createdAt": date_time,
                "processedAt": nullable("string", Some("date-time")),
                "failedAt": nullable("string", Some("date-time")),
                "error": nullable("string", None),
                "refundedAt": nullable("string", Some("date-time")),
                "refundAmount": nullable("string", None),
                "updatedAt": date_time,
                "version": int
            }),
        ),
        "ScoredPayment": { "allOf": [schema("Payment"), object(&["score"], json!({ "score": { "type": "number" } }))] },
        "PaymentPage": object(&["items", "total", "limit", "offset"], json!({
            "items": { "type": "array", "items": schema("Payment") },
            "total": int, "limit": int, "offset": int
        })),
        "PaymentSearchPage": page_of("ScoredPayment"),
        "Suggestions": object(&["items"], json!({
            "items": { "type": "array", "items": object(&["text", "score"], json!({
                "text": { "type": "string" }, "score": { "type": "number" }
            })) }
        })),
        "CurrencyStatistics": object(&["count", "totalAmount", "averageAmount"], json!({
            "count": int, "totalAmount": schema("Amount"), "averageAmount": schema("Amount")
        })),
        "DailyBucket": object(&["date", "currency", "count", "totalAmount"], json!({
            "date": { "type": "string", "format": "date" }, "currency": schema("Currency"),
            "count": int, "totalAmount": schema("Amount")
        })),
        "PaymentStatistics": object(&["byStatus", "daily"], json!({
            "byStatus": {
                "type": "object", "description": "status → currency → figures",
                "additionalProperties": { "type": "object", "additionalProperties": schema("CurrencyStatistics") }
            },
            "daily": { "type": "array", "items": schema("DailyBucket") }
        })),
        "PaymentTrends": object(&["daily"], json!({ "daily": { "type": "array", "items": schema("DailyBucket") } })),
        "Event": object(
            &["eventId", "aggregateId", "aggregateType", "eventType", "version", "timestamp", "correlationId",
              "causationId", "data", "metadata"],
            json!({
                "eventId": { "type": "string", "format": "uuid" },
                "aggregateId": { "type": "string", "description": "For a payment event: the payment id" },
                "streamId": {
                    "type": "string",
                    "description": "The stream the event is stored in: `{organizationId}/{paymentId}` (or the payment id alone for a payment written before ids were per organization)"
                },
                "aggregateType": { "type": "string" },
                "eventType": { "type": "string" },
                "version": int,
                "timestamp": date_time,
                "correlationId": { "type": "string" },
                "causationId": { "type": "string" },
                "data": { "type": "object" },
                "metadata": { "type": "object", "additionalProperties": true, "properties": {
                    "userId": { "type": "string" }, "organizationId": { "type": "string" }, "source": { "type": "string" }
                } },
                "globalPosition": nullable("integer", Some("int64"))
            }),
        ),
        "PaymentHistory": object(&["paymentId", "items"], json!({
            "paymentId": { "type": "string" }, "items": { "type": "array", "items": schema("Event") }
        })),
        "PaymentReplay": object(&["payment", "eventsApplied", "latestVersion"], json!({
            "payment": schema("Payment"), "eventsApplied": int, "latestVersion": int
        })),
        "EventPage": page_of("Event"),
        "EventTimeline": events_of("Event"),
        "CorrelatedEvent": object(&["eventType", "aggregateId", "timestamp", "data"], json!({
            "eventType": { "type": "string" }, "aggregateId": { "type": "string" },
            "timestamp": date_time, "data": { "type": "object" }
        })),
        "EventCorrelations": events_of("CorrelatedEvent"),
        "EventStatistics": object(&["total", "byHour", "byDay", "byOrganization", "byUser"], json!({
            "total": int, "byHour": counts(), "byDay": counts(), "byOrganization": counts(), "byUser": counts()
        })),
        "EventTrends": object(&["interval", "items"], json!({
            "interval": { "type": "string", "enum": ["hour", "day", "week", "month"] },
            "items": { "type": "array", "items": object(&["start", "count"], json!({ "start": date_time, "count": int })) }
        })),
        "Heatmap": object(&["cells", "byDay"], json!({
            "cells": { "type": "array", "items": object(&["dayOfWeek", "hour", "count"], json!({
                "dayOfWeek": { "type": "integer", "minimum": 1, "maximum": 7 },
                "hour": { "type": "integer", "minimum": 0, "maximum": 23 },
                "count": int
            })) },
            "byDay": counts()
        })),
        "CreatePaymentRequest": object(&["amount", "currency", "description"], json!({
            "paymentId": { "type": "string", "maxLength": 128, "description": "Generated (UUID v7) when absent" },
            "amount": schema("AmountInput"),
            "currency": schema("Currency"),
            "description": { "type": "string", "maxLength": 1000 },
            "tags": { "type": "array", "maxItems": 20, "items": { "type": "string", "maxLength": 64 } },
            "metadata": {
                "type": "object", "maxProperties": 20, "additionalProperties": { "type": "string", "maxLength": 256 },
                "description": "Free-form pairs kept with the payment (returned by every query, searchable like tags) \
                    and stored in the events' metadata; keys of 1–64 characters; `organizationId`, `userId` and \
                    `source` are reserved"
            },
            "organizationId": { "type": "string", "description": "Optional; must be the token's (else 403)" },
            "userId": { "type": "string", "description": "Optional; must be the token's (else 403)" }
        })),
        "FailPaymentRequest": object(&["error"], json!({ "error": { "type": "string", "maxLength": 1000 } })),
        "RefundPaymentRequest": object(&["amount"], json!({ "amount": schema("AmountInput") })),
        "Health": object(&["status"], json!({ "status": { "type": "string", "enum": ["ok"] } })),
        "Check": object(&["status"], json!({
            "status": { "type": "string", "enum": ["up", "degraded", "down"] },
            "detail": nullable("string", None),
            "backend": { "type": "string", "description": "What answers, where the check knows it (e.g. `opensearch 2.19.6`)" }
        })),
        "Readiness": object(&["status", "checks"], json!({
            "status": { "type": "string", "enum": ["ready", "degraded"] },
            "checks": { "type": "object", "additionalProperties": schema("Check") }
        })),
        "NotReady": { "allOf": [schema("Problem"), object(&["checks"], json!({
            "checks": { "type": "object", "additionalProperties": schema("Check") }
        }))] },
        "MetricsText": { "type": "string" },
        "OpenApiDocument": { "type": "object" }
    });
    if let (Some(all), Value::Object(subscriptions)) = (schemas.as_object_mut(), super::subscriptions::schemas()) {
        all.extend(subscriptions);
    }
    schemas
}
