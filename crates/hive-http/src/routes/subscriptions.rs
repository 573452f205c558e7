//! `/subscriptions/{group}…`: the event feed of a consumer group (Server-Sent Events), its
//! checkpoint, acknowledgements, refusals and parked events. A token follows its
//! organization's events; with `scope=platform` (the `platform` role) every organization's,
//! under a group of its own.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::Json;
use chrono::{DateTime, Utc};
use hive_application::subscription::{GroupError, GroupFilter, JoinRequest};
use hive_billing::AnalyticsScope;
use hive_domain::DeadLetter;
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::extract::{JsonBody, Params, Segment};
use crate::subscriptions::{feed, group_feed, Subscriptions, INVALID_GROUP};
use crate::{ApiState, Problem};

/// The longest group name.
const MAX_GROUP_LEN: usize = 64;

/// A group's checkpoint (the position before which every event was handled; 0: none yet),
/// its connected consumers and parked events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GroupCheckpoint {
    group: String,
    position: u64,
    updated_at: Option<DateTime<Utc>>,
    consumers: Vec<String>,
    in_flight: usize,
    parked: usize,
}

/// `POST /subscriptions/{group}/ack`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Ack {
    position: u64,
    consumer: Option<String>,
}

/// `POST /subscriptions/{group}/nack`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Nack {
    position: u64,
    consumer: Option<String>,
    reason: Option<String>,
}

/// What refusing an event did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NackAnswer {
    position: u64,
    deliveries: u32,
    parked: bool,
}

/// `POST /subscriptions/{group}/parked/replay` and `…/skip`'s body: which parked events (all
/// when absent or empty).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ParkedSelection {
    #[serde(default)]
    positions: Vec<u64>,
}

/// A parked event.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ParkedEvent {
    position: u64,
    event_id: uuid::Uuid,
    event_type: String,
    reason: String,
    parked_at: DateTime<Utc>,
}

impl From<DeadLetter> for ParkedEvent {
    fn from(letter: DeadLetter) -> Self {
        Self {
            position: letter.position,
            event_id: letter.event_id,
            event_type: letter.event_type,
            reason: letter.error,
            parked_at: letter.recorded_at,
        }
    }
}

/// How many parked events a replay or skip touched.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ParkedCount {
    count: u64,
}

/// The `code` of the `409` for a consumer joining with another filter than its group's.
pub const FILTER_MISMATCH: &str = "subscription_filter_mismatch";

/// The `code` of the `409` for a refusal of an event no consumer holds.
pub const NOT_IN_FLIGHT: &str = "not_in_flight";

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

fn unavailable(error: hive_domain::EventStoreError) -> Problem {
    tracing::warn!(%error, "subscriptions: the store failed");
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "backend_unavailable",
        error.to_string(),
    )
}

fn group_problem(error: GroupError) -> Problem {
    match error {
        GroupError::Store(error) => unavailable(error),
        GroupError::FilterMismatch => Problem::new(StatusCode::CONFLICT, FILTER_MISMATCH, error.to_string()),
        GroupError::BeyondHead { head, .. } => {
            Problem::bad_request("position", format!("must be at most the log's head position, {head}"))
        }
        GroupError::NotHeld(_) => Problem::new(StatusCode::CONFLICT, NOT_IN_FLIGHT, error.to_string()),
        GroupError::Closed => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", error.to_string()),
    }
}

/// The filter of `GET …/events`' query.
fn filter(caller: &Caller, params: &Params) -> GroupFilter {
    GroupFilter {
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
    }
}

/// The longest consumer name.
const MAX_CONSUMER_LEN: usize = 128;

/// A consumer name of the query or a body: 1–128 printable characters.
fn consumer(name: Option<String>) -> Result<Option<String>, Problem> {
    match name {
        Some(name) if name.is_empty() || name.len() > MAX_CONSUMER_LEN || name.chars().any(char::is_control) => {
            Err(Problem::bad_request(
                "consumer",
                format!("must be 1 to {MAX_CONSUMER_LEN} printable characters"),
            ))
        }
        name => Ok(name),
    }
}

/// `GET /subscriptions/{group}/events?mode=&consumer=&from=&eventType=&aggregateType=&live=&scope=`.
///
/// `mode=group` (the default): the connection joins the group as consumer `consumer` (a
/// generated name when absent, answered in `Hive-Consumer`) and receives its share of the
/// streams; `from` positions a group nobody is connected to. `mode=catchup` (or `live=false`):
/// this connection alone reads the events after `from`, else after `Last-Event-ID`, else after
/// the group's checkpoint, else from the start; then (unless `live=false`) every event
/// committed later.
pub(super) async fn events(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    params: Params,
    headers: HeaderMap,
    segment: Segment,
) -> Result<axum::response::Response, Problem> {
    let group = group(segment)?;
    let subscriptions = subscriptions(&state)?;
    let name = checkpoint_name(&caller, &group);
    let filter = filter(&caller, &params);
    let live = params.parsed::<bool>("live", "true or false")?.unwrap_or(true);
    let catchup = match params.text("mode").as_deref() {
        None | Some("group") => !live,
        Some("catchup") => true,
        Some(_) => return Err(Problem::bad_request("mode", "must be `group` or `catchup`")),
    };
    let from = params.u64("from")?;
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
    if !catchup {
        let consumer = consumer(params.text("consumer"))?
            .unwrap_or_else(|| format!("consumer-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]));
        let request = JoinRequest {
            group: name,
            consumer: consumer.clone(),
            filter,
            start: from,
        };
        let membership = subscriptions.groups.join(request).await.map_err(group_problem)?;
        let mut response = Sse::new(group_feed(membership, subscriptions.closing.clone()))
            .keep_alive(KeepAlive::default())
            .into_response();
        if let Ok(value) = HeaderValue::from_str(&consumer) {
            response.headers_mut().insert("hive-consumer", value);
        }
        return Ok(response);
    }
    let after = match from.or(last_event_id) {
        Some(after) => after,
        None => subscriptions
            .groups
            .checkpoints()
            .load(&name)
            .await
            .map_err(unavailable)?
            .map_or(0, |c| c.position),
    };
    let until = match live {
        false => Some(
            subscriptions
                .groups
                .events()
                .head_position()
                .await
                .map_err(unavailable)?,
        ),
        true => None,
    };
    Ok(Sse::new(feed(subscriptions, after, until, filter))
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// `GET /subscriptions/{group}?scope=`: the group's checkpoint, consumers and parked events.
pub(super) async fn checkpoint(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    segment: Segment,
) -> Result<Json<GroupCheckpoint>, Problem> {
    let group = group(segment)?;
    let subscriptions = subscriptions(&state)?;
    let name = checkpoint_name(&caller, &group);
    let status = subscriptions.groups.status(&name).await.map_err(group_problem)?;
    let stored = subscriptions
        .groups
        .checkpoints()
        .load(&name)
        .await
        .map_err(unavailable)?;
    Ok(Json(GroupCheckpoint {
        group,
        position: status.checkpoint,
        updated_at: stored.map(|c| c.updated_at),
        consumers: status.consumers,
        in_flight: status.in_flight,
        parked: status.parked,
    }))
}

/// `POST /subscriptions/{group}/ack?scope=` with `{"position": n, "consumer": "…"}`:
/// acknowledges the events up to `n` the consumer holds (any consumer's when absent; with
/// nobody connected, moves the checkpoint to `n`); answers the group as `GET` does.
pub(super) async fn ack(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    segment: Segment,
    JsonBody(ack): JsonBody<Ack>,
) -> Result<Json<GroupCheckpoint>, Problem> {
    let group = group(segment)?;
    let subscriptions = subscriptions(&state)?;
    let consumer = consumer(ack.consumer)?;
    let name = checkpoint_name(&caller, &group);
    subscriptions
        .groups
        .ack(&name, consumer.as_deref(), ack.position)
        .await
        .map_err(group_problem)?;
    checkpoint(State(state), caller, Segment(group)).await
}

/// `POST /subscriptions/{group}/nack?scope=` with `{"position": n, "consumer": "…", "reason":
/// "…"}`: refuses the event at `n`; it is delivered again, or parked once delivered
/// `max_deliveries` times.
pub(super) async fn nack(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    segment: Segment,
    JsonBody(nack): JsonBody<Nack>,
) -> Result<Json<NackAnswer>, Problem> {
    let group = group(segment)?;
    let subscriptions = subscriptions(&state)?;
    let consumer = consumer(nack.consumer)?;
    let reason = nack.reason.unwrap_or_else(|| "refused by the consumer".to_owned());
    let refusal = subscriptions
        .groups
        .nack(
            &checkpoint_name(&caller, &group),
            consumer.as_deref(),
            nack.position,
            &reason,
        )
        .await
        .map_err(group_problem)?;
    Ok(Json(NackAnswer {
        position: nack.position,
        deliveries: refusal.deliveries,
        parked: refusal.parked,
    }))
}

/// `GET /subscriptions/{group}/parked?scope=`: the group's parked events, oldest first.
pub(super) async fn parked(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    segment: Segment,
) -> Result<Json<Vec<ParkedEvent>>, Problem> {
    let group = group(segment)?;
    let parked = subscriptions(&state)?
        .groups
        .parked(&checkpoint_name(&caller, &group))
        .await
        .map_err(group_problem)?;
    Ok(Json(parked.into_iter().map(ParkedEvent::from).collect()))
}

/// `POST /subscriptions/{group}/parked/replay?scope=` with `{"positions": […]}` (all when
/// empty): sends those parked events to the group again; each leaves the parked list once
/// acknowledged.
pub(super) async fn replay(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    segment: Segment,
    JsonBody(selection): JsonBody<ParkedSelection>,
) -> Result<Json<ParkedCount>, Problem> {
    let group = group(segment)?;
    let subscriptions = subscriptions(&state)?;
    let filter = GroupFilter {
        organization: (caller.scope == AnalyticsScope::Organization).then(|| caller.organization.clone()),
        ..GroupFilter::default()
    };
    let queued = subscriptions
        .groups
        .replay(&checkpoint_name(&caller, &group), &filter, &selection.positions)
        .await
        .map_err(group_problem)?;
    Ok(Json(ParkedCount { count: queued as u64 }))
}

/// `POST /subscriptions/{group}/parked/skip?scope=` with `{"positions": […]}` (all when
/// empty): removes those parked events without sending them.
pub(super) async fn skip(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    segment: Segment,
    JsonBody(selection): JsonBody<ParkedSelection>,
) -> Result<Json<ParkedCount>, Problem> {
    let group = group(segment)?;
    let count = subscriptions(&state)?
        .groups
        .skip(&checkpoint_name(&caller, &group), &selection.positions)
        .await
        .map_err(group_problem)?;
    Ok(Json(ParkedCount { count }))
}
