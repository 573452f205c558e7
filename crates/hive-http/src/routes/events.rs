//! `GET /events…`: the payment events of the caller's organization, and the event analytics
//! (of every organization with `scope=platform`, which the caller extractor lets through only
//! for the `platform` role).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use hive_billing::validate::MAX_PAGE_SIZE;
use hive_billing::{
    EventCorrelations, EventPageView, EventTimeline, EventTrends, EventView, GetEventById, GetEventCorrelations,
    GetEventHeatmap, GetEventStatistics, GetEventTimeline, GetEventTrends, SearchPaymentEvents,
};
use hive_domain::{EventStatistics, Heatmap, Interval};
use uuid::Uuid;

use super::ask;
use crate::auth::Caller;
use crate::extract::{Params, Segment};
use crate::{ApiState, Problem};

/// `GET /events/search?q=&eventType=&from=&to=|toInclusive=&order=&page=&size=` (default range:
/// the last 30 days; default order `desc`, newest first).
pub(super) async fn search(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    params: Params,
) -> Result<Json<EventPageView>, Problem> {
    let (from, to) = params.range_or_last_30_days()?;
    let defaults = SearchPaymentEvents::default();
    let query = SearchPaymentEvents {
        event_type: params.text("eventType"),
        text: params.text("q"),
        from: Some(from),
        to: Some(to),
        page: params.u64("page")?.unwrap_or(defaults.page),
        size: params.u64("size")?.map_or(defaults.size, |s| s.min(MAX_PAGE_SIZE)),
        order: params.order(defaults.order)?,
    };
    ask(&state, caller, query, &[("text", "q")]).await
}

/// `GET /events/{eventId}`: one event of the caller's organization (`400` for an id that is
/// not a UUID, `404` for an unknown one or another organization's).
pub(super) async fn by_id(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Segment(event_id): Segment,
) -> Result<Json<EventView>, Problem> {
    let event_id = Uuid::parse_str(&event_id)
        .map_err(|_| Problem::bad_request("eventId", "must be a UUID, e.g. 01a206d7-1b23-721f-93d4-d0eea2d35293"))?;
    ask(&state, caller, GetEventById { event_id }, &[]).await
}

/// `GET /events/timeline/{correlationId}`.
pub(super) async fn timeline(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Segment(correlation_id): Segment,
) -> Result<Json<EventTimeline>, Problem> {
    ask(&state, caller, GetEventTimeline { correlation_id }, &[]).await
}

/// `GET /events/correlations/{correlationId}`.
pub(super) async fn correlations(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Segment(correlation_id): Segment,
) -> Result<Json<EventCorrelations>, Problem> {
    ask(&state, caller, GetEventCorrelations { correlation_id }, &[]).await
}

/// `GET /events/statistics?eventType=&from=&to=&scope=`.
pub(super) async fn statistics(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    params: Params,
) -> Result<Json<EventStatistics>, Problem> {
    let (from, to) = params.range_or_last_30_days()?;
    let query = GetEventStatistics {
        event_type: params.text("eventType"),
        from,
        to,
        scope: caller.scope,
    };
    ask(&state, caller, query, &[]).await
}

/// `GET /events/trends?eventType=&interval=hour|day|week|month&from=&to=&scope=` (default `day`).
pub(super) async fn trends(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    params: Params,
) -> Result<Json<EventTrends>, Problem> {
    let (from, to) = params.range_or_last_30_days()?;
    let interval = match params.text("interval") {
        None => Interval::Day,
        Some(name) => serde_json::from_value(serde_json::Value::String(name))
            .map_err(|_| Problem::bad_request("interval", "must be hour, day, week or month"))?,
    };
    let query = GetEventTrends {
        event_type: params.text("eventType"),
        from,
        to,
        interval,
        scope: caller.scope,
    };
    ask(&state, caller, query, &[]).await
}

/// `GET /events/heatmap?eventType=&from=&to=&scope=`.
pub(super) async fn heatmap(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    params: Params,
) -> Result<Json<Heatmap>, Problem> {
    let (from, to) = params.range_or_last_30_days()?;
    let query = GetEventHeatmap {
        event_type: params.text("eventType"),
        from,
        to,
        scope: caller.scope,
    };
    ask(&state, caller, query, &[]).await
}
