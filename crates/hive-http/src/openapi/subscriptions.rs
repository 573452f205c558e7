//! The OpenAPI operations of `/subscriptions/…`: the event feed (Server-Sent Events), the
//! consumer group's checkpoint, acknowledgements, refusals and parked events.

use serde_json::{json, Value};

use super::paths::{integer, op, query, schema, scope, with_params};
use super::schemas::{nullable, object};

fn group() -> Value {
    json!({
        "name": "group", "in": "path", "required": true,
        "description": "The consumer group: 1–64 of `A-Z a-z 0-9 . _ -` (else `400` `invalid_subscription_group`)",
        "schema": { "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9._-]+$" }
    })
}

/// `GET /subscriptions/{group}/events`.
pub(crate) fn subscription_events() -> Value {
    let summary = "Follow the organization's events as a consumer of the group (or a catch-up reader): catch-up, then live (Server-Sent Events)";
    let mut operation = op(
        "subscriptionEvents",
        "subscriptions",
        summary,
        "200",
        "Event",
        &["409", "501"],
    );
    operation["responses"]["200"]["description"] = json!(
        "A `text/event-stream`: one SSE event per stored event, `id` its global position, `event` \
         its type, `data` the event as `GET /events/{eventId}` answers it; keep-alive comments \
         while idle. `mode=group` (default): the consumer's share of the group's streams (each \
         stream's events in order, to one consumer at a time), from the group's checkpoint (or \
         `from` when nobody is connected), at least once: an event not acknowledged is sent \
         again; a consumer closed by the group gets a last `reconnect` event saying why. \
         `mode=catchup`: every event after `from`, else after `Last-Event-ID`, else after the \
         group's checkpoint, else from the start; in global position order, none skipped or repeated."
    );
    operation["responses"]["200"]["content"] = json!({
        "text/event-stream": { "schema": { "type": "string" }, "x-sse-data": schema("Event") }
    });
    operation["responses"]["501"] = json!({ "description": "This service offers no subscription feed" });
    operation["responses"]["200"]["headers"]["Hive-Consumer"] = json!({
        "description": "`mode=group`: the consumer's name (the one given, or a generated one)",
        "schema": { "type": "string" }
    });
    let last_event_id = json!({
        "name": "Last-Event-ID", "in": "header", "required": false,
        "description": "Resume after this global position (what an EventSource sends when it reconnects)",
        "schema": { "type": "integer", "format": "int64", "minimum": 0 }
    });
    let live = json!({
        "name": "live", "in": "query", "required": false,
        "description": "`false`: a catch-up reading that ends once caught up with the log's head at connection",
        "schema": { "type": "boolean", "default": true }
    });
    let mode = json!({
        "name": "mode", "in": "query", "required": false,
        "description": "`group`: a consumer of the group; `catchup`: this connection reads alone",
        "schema": { "type": "string", "enum": ["group", "catchup"], "default": "group" }
    });
    let consumer = json!({
        "name": "consumer", "in": "query", "required": false,
        "description": "`mode=group`: the consumer's name (a new connection of the same name replaces the old one)",
        "schema": { "type": "string", "minLength": 1, "maxLength": 128 }
    });
    with_params(
        operation,
        vec![
            group(),
            mode,
            consumer,
            integer(
                "from",
                0,
                "Start after this global position (exclusive): a catch-up reading, or a group nobody is connected to; wins over `Last-Event-ID`",
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
    let summary = "The group's checkpoint, connected consumers and parked events";
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
    let summary = "Acknowledge the events up to a position (the checkpoint never moves back); answers the group";
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

/// A POST of `/subscriptions/{group}/…` taking a `body` schema.
fn post(id: &str, summary: &str, ok: &str, errors: &[&str], body: &str) -> Value {
    let mut operation = op(id, "subscriptions", summary, "200", ok, errors);
    operation.insert(
        "requestBody".into(),
        json!({ "required": true, "content": { "application/json": { "schema": schema(body) } } }),
    );
    with_params(operation, vec![group(), scope()])
}

/// `POST /subscriptions/{group}/nack`.
pub(crate) fn subscription_nack() -> Value {
    let summary = "Refuse an event a consumer holds: delivered again, or parked once delivered `max_deliveries` times";
    post(
        "subscriptionNack",
        summary,
        "SubscriptionRefusal",
        &["409", "413", "415"],
        "SubscriptionNack",
    )
}

/// `GET /subscriptions/{group}/parked`.
pub(crate) fn subscription_parked() -> Value {
    let summary = "The group's parked events, oldest first";
    with_params(
        op(
            "subscriptionParked",
            "subscriptions",
            summary,
            "200",
            "ParkedEvents",
            &[],
        ),
        vec![group(), scope()],
    )
}

/// `POST /subscriptions/{group}/parked/replay`.
pub(crate) fn subscription_replay() -> Value {
    let summary =
        "Send parked events to the group again, before anything else; each leaves the parked list once acknowledged";
    post(
        "subscriptionReplayParked",
        summary,
        "ParkedCount",
        &["413", "415"],
        "ParkedSelection",
    )
}

/// `POST /subscriptions/{group}/parked/skip`.
pub(crate) fn subscription_skip() -> Value {
    let summary = "Remove parked events without sending them";
    post(
        "subscriptionSkipParked",
        summary,
        "ParkedCount",
        &["413", "415"],
        "ParkedSelection",
    )
}

/// The schemas of the subscription operations' bodies and answers.
pub(crate) fn schemas() -> Value {
    let date_time = json!({ "type": "string", "format": "date-time" });
    json!({
        "SubscriptionCheckpoint": object(&["group", "position", "consumers", "inFlight", "parked"], json!({
            "group": { "type": "string" },
            "position": { "type": "integer", "format": "int64", "description": "The checkpoint: every event of the group up to this global position was handled (acknowledged or parked; 0: none)" },
            "updatedAt": nullable("string", Some("date-time")),
            "consumers": { "type": "array", "items": { "type": "string" }, "description": "The connected consumers, in the order they joined" },
            "inFlight": { "type": "integer", "description": "Events sent to the consumers and not yet acknowledged" },
            "parked": { "type": "integer", "description": "Parked events (see `GET /subscriptions/{group}/parked`)" }
        })),
        "SubscriptionAck": object(&["position"], json!({
            "position": { "type": "integer", "format": "int64", "minimum": 0, "description": "Acknowledge the events up to this global position" },
            "consumer": { "type": "string", "minLength": 1, "maxLength": 128, "description": "Only this consumer's events (default: any consumer's; with nobody connected the checkpoint moves to `position`)" }
        })),
        "SubscriptionNack": object(&["position"], json!({
            "position": { "type": "integer", "format": "int64", "minimum": 0, "description": "The global position of the event refused" },
            "consumer": { "type": "string", "minLength": 1, "maxLength": 128, "description": "The consumer holding it (default: whichever does)" },
            "reason": { "type": "string", "description": "Kept with the event if it is parked" }
        })),
        "SubscriptionRefusal": object(&["position", "deliveries", "parked"], json!({
            "position": { "type": "integer", "format": "int64" },
            "deliveries": { "type": "integer", "description": "How many times the event was delivered" },
            "parked": { "type": "boolean", "description": "Parked (else it will be delivered again)" }
        })),
        "ParkedEvent": object(&["position", "eventId", "eventType", "reason", "parkedAt"], json!({
            "position": { "type": "integer", "format": "int64" }, "eventId": { "type": "string", "format": "uuid" },
            "eventType": { "type": "string" }, "reason": { "type": "string" }, "parkedAt": date_time
        })),
        "ParkedEvents": { "type": "array", "items": schema("ParkedEvent") },
        "ParkedSelection": object(&[], json!({
            "positions": { "type": "array", "items": { "type": "integer", "format": "int64", "minimum": 0 }, "description": "The parked events' positions (all when absent or empty)" }
        })),
        "ParkedCount": object(&["count"], json!({
            "count": { "type": "integer", "description": "How many parked events were queued (replay) or removed (skip)" }
        }))
    })
}
