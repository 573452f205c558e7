//! `/subscriptions/{group}…`: the event feed of a consumer group (Server-Sent Events) and the
//! group's checkpoint. A token follows its organization's events; with `scope=platform` (the
//! `platform` role) every organization's, under a group checkpoint of its own.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::Json;
use chrono::{DateTime, Utc};
use hive_billing::AnalyticsScope;
use hive_domain::Checkpoint;
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::extract::{JsonBody, Params, Segment};
use crate::subscriptions::{feed, FeedFilter, Subscriptions, INVALID_GROUP};
use crate::{ApiState, Problem};

/// The longest group name.
const MAX_GROUP_LEN: usize = 64;

/// A group's checkpoint: the last position it acknowledged (0: none yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GroupCheckpoint {
    group: String,
    position: u64,
    updated_at: Option<DateTime<Utc>>,
}

/// `POST /subscriptions/{group}/ack`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Ack {
    position: u64,
}

/// The group of the path, validated.
fn group(Segment(group): Segment) -> Result<String, Problem> {
    let valid = (1..=MAX_GROUP_LEN).contains(&group.len())
        && group
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !valid {
        return Err(Problem::bad_request(
            "group",
            format!("must be 1 to {MAX_GROUP_LEN} of A-Z, a-z, 0-9, `.`, `_`, `-`"),
        )
        .with_code(INVALID_GROUP));
    }
    Ok(group)
}

/// The checkpoint name of `caller`'s `group`: never a projection's, never another
/// organization's (a group name holds no `:`, so the organization ends at the last one).
fn checkpoint_name(caller: &Caller, group: &str) -> String {
    match caller.scope {
        AnalyticsScope::Organization => format!("subscription:{}:{group}", caller.organization),
        AnalyticsScope::Platform => format!("subscription-platform:{group}"),
    }
}

fn subscriptions(state: &ApiState) -> Result<&Subscriptions, Problem> {
    state.subscriptions.as_ref().ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_IMPLEMENTED,
            "subscriptions_unsupported",
            "this service offers no subscription feed",
        )
    })
}

async fn load(subscriptions: &Subscriptions, name: &str) -> Result<Option<Checkpoint>, Problem> {
    subscriptions.checkpoints.load(name).await.map_err(unavailable)
}

fn unavailable(error: hive_domain::EventStoreError) -> Problem {
    tracing::warn!(%error, "subscriptions: the store failed");
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "backend_unavailable",
        error.to_string(),
    )
}

fn answer(group: String, checkpoint: Option<Checkpoint>) -> Json<GroupCheckpoint> {
    Json(GroupCheckpoint {
        group,
        position: checkpoint.as_ref().map_or(0, |c| c.position),
        updated_at: checkpoint.map(|c| c.updated_at),
    })
}

/// `GET /subscriptions/{group}/events?from=&eventType=&aggregateType=&live=&scope=`: the events
/// after `from`, else after `Last-Event-ID`, else after the group's checkpoint, else from the
/// start; then (unless `live=false`) every event committed later.
pub(super) async fn events(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    params: Params,
    headers: HeaderMap,
    segment: Segment,
) -> Result<impl IntoResponse, Problem> {
    let group = group(segment)?;
    let subscriptions = subscriptions(&state)?;
    let last_event_id = match headers.get("last-event-id") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| Problem::bad_request("Last-Event-ID", "must be a global position (an integer)"))?,
        ),
    };
    let after = match params.u64("from")?.or(last_event_id) {
        Some(after) => after,
        None => load(subscriptions, &checkpoint_name(&caller, &group))
            .await?
            .map_or(0, |c| c.position),
    };
    let until = match params.parsed::<bool>("live", "true or false")? {
        Some(false) => Some(subscriptions.events.head_position().await.map_err(unavailable)?),
        _ => None,
    };
    let filter = FeedFilter {
        organization: (caller.scope == AnalyticsScope::Organization).then(|| caller.organization.clone()),
        event_types: params
            .list("eventType")
            .iter()
            .flat_map(|types| types.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        aggregate_type: params.text("aggregateType"),
    };
    Ok(Sse::new(feed(subscriptions, after, until, filter)).keep_alive(KeepAlive::default()))
}

/// `GET /subscriptions/{group}?scope=`: the group's checkpoint.
pub(super) async fn checkpoint(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    segment: Segment,
) -> Result<Json<GroupCheckpoint>, Problem> {
    let group = group(segment)?;
    let stored = load(subscriptions(&state)?, &checkpoint_name(&caller, &group)).await?;
    Ok(answer(group, stored))
}

/// `POST /subscriptions/{group}/ack?scope=` with `{"position": n}`: moves the group's checkpoint
/// forward to `n` (an older position changes nothing); answers the stored checkpoint.
pub(super) async fn ack(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    segment: Segment,
    JsonBody(ack): JsonBody<Ack>,
) -> Result<Json<GroupCheckpoint>, Problem> {
    let group = group(segment)?;
    let subscriptions = subscriptions(&state)?;
    let name = checkpoint_name(&caller, &group);
    let stored = load(subscriptions, &name).await?;
    if stored.as_ref().is_some_and(|c| c.position >= ack.position) {
        return Ok(answer(group, stored));
    }
    let head = subscriptions.events.head_position().await.map_err(unavailable)?;
    if ack.position > head {
        return Err(Problem::bad_request(
            "position",
            format!("must be at most the log's head position, {head}"),
        ));
    }
    let checkpoint = Checkpoint::new(name, ack.position, None);
    subscriptions
        .checkpoints
        .save(checkpoint.clone())
        .await
        .map_err(unavailable)?;
    Ok(answer(group, Some(checkpoint)))
}
