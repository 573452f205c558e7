//! The OpenAPI operations of `/subscriptions/…`: the event feed (Server-Sent Events) and the
//! consumer-group checkpoint.

use serde_json::{json, Value};

use super::paths::{integer, op, query, schema, scope, with_params};

fn group() -> Value {
    json!({
        "name": "group", "in": "path", "required": true,
        "description": "The consumer group: 1–64 of `A-Z a-z 0-9 . _ -` (else `400` `invalid_subscription_group`)",
        "schema": { "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9._-]+$" }
    })
}

/// `GET /subscriptions/{group}/events`.
pub(crate) fn subscription_events() -> Value {
    let summary = "Follow the organization's events: catch-up, then live (Server-Sent Events)";
    let mut operation = op("subscriptionEvents", "subscriptions", summary, "200", "Event", &["501"]);
    operation["responses"]["200"]["description"] = json!(
        "A `text/event-stream`: one SSE event per stored event, `id` its global position, `event` \
         its type, `data` the event as `GET /events/{eventId}` answers it; keep-alive comments \
         while idle. The stream starts after `from`, else after `Last-Event-ID`, else after the \
         group's checkpoint, else at the start; in global position order, none skipped or repeated."
    );
    operation["responses"]["200"]["content"] = json!({
        "text/event-stream": { "schema": { "type": "string" }, "x-sse-data": schema("Event") }
    });
    operation["responses"]["501"] = json!({ "description": "This service offers no subscription feed" });
    let last_event_id = json!({
        "name": "Last-Event-ID", "in": "header", "required": false,
        "description": "Resume after this global position (what an EventSource sends when it reconnects)",
        "schema": { "type": "integer", "format": "int64", "minimum": 0 }
    });
    let live = json!({
        "name": "live", "in": "query", "required": false,
        "description": "`false`: end the stream once caught up with the log's head at connection",
        "schema": { "type": "boolean", "default": true }
    });
    with_params(
        operation,
        vec![
            group(),
            integer(
                "from",
                0,
                "Start after this global position (exclusive); wins over `Last-Event-ID`",
            ),
            last_event_id,
            query("eventType", "string", "Only these event types, comma-separated"),
            query("aggregateType", "string", "Only this aggregate type"),
            live,
            scope(),
        ],
    )
}

/// `GET /subscriptions/{group}`.
pub(crate) fn subscription_checkpoint() -> Value {
    let summary = "The group's checkpoint: the last position it acknowledged (0: none)";
    let operation = op(
        "subscriptionCheckpoint",
        "subscriptions",
        summary,
        "200",
        "SubscriptionCheckpoint",
        &[],
    );
    with_params(operation, vec![group(), scope()])
}

/// `POST /subscriptions/{group}/ack`.
pub(crate) fn subscription_ack() -> Value {
    let summary =
        "Move the group's checkpoint forward (an older position changes nothing); answers the stored checkpoint";
    let mut operation = op(
        "subscriptionAck",
        "subscriptions",
        summary,
        "200",
        "SubscriptionCheckpoint",
        &["413", "415"],
    );
    operation.insert(
        "requestBody".into(),
        json!({ "required": true, "content": { "application/json": { "schema": schema("SubscriptionAck") } } }),
    );
    with_params(operation, vec![group(), scope()])
}
