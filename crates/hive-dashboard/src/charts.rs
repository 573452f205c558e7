//! `GET /dashboard/charts/{trends,statistics,heatmap}.svg?from=&to=`: the charts of the caller's
//! organization, authenticated like the API (bearer token; `401` problem without one).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use hive_application::Query;
use hive_billing::{AnalyticsScope, Currency, GetEventHeatmap, GetPaymentStatistics, GetPaymentTrends};

use hive_http::{ApiState, Caller, Params, Problem};

use crate::render::{self, ChartError, TrendsChart};

/// The longest period a chart draws.
pub(crate) const MAX_CHART_DAYS: i64 = 366;
/// The content type of a chart.
pub(crate) const SVG: &str = "image/svg+xml; charset=utf-8";

/// `GET /dashboard/charts/trends.svg?from=&to=&currency=`: payments and amount per day.
pub(crate) async fn trends(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    params: Params,
) -> Result<Response, Problem> {
    let (from, to) = range(&params)?;
    let currency = params.parsed::<Currency>("currency", "must be an ISO 4217 currency code, e.g. EUR")?;
    let trends = ask(&state, &caller, GetPaymentTrends { from, to }).await?;
    let code = currency.as_ref().map(Currency::code);
    let chart = TrendsChart {
        trends: &trends,
        from,
        to,
        currency: code,
    };
    svg(render::trends(&chart))
}

/// `GET /dashboard/charts/statistics.svg?from=&to=`: payments by status × currency.
pub(crate) async fn statistics(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    params: Params,
) -> Result<Response, Problem> {
    let (from, to) = range(&params)?;
    let statistics = ask(&state, &caller, GetPaymentStatistics { from, to }).await?;
    svg(render::statistics(&statistics, &period(from, to)))
}

/// `GET /dashboard/charts/heatmap.svg?eventType=&from=&to=`: events by hour × weekday.
pub(crate) async fn heatmap(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    params: Params,
) -> Result<Response, Problem> {
    let (from, to) = range(&params)?;
    let query = GetEventHeatmap {
        event_type: params.text("eventType"),
        from,
        to,
        scope: AnalyticsScope::Organization,
    };
    let heatmap = ask(&state, &caller, query).await?;
    svg(render::heatmap(&heatmap, &period(from, to)))
}

/// `from`/`to` as the API reads them (default: the last 30 days), at most [`MAX_CHART_DAYS`].
fn range(params: &Params) -> Result<(DateTime<Utc>, DateTime<Utc>), Problem> {
    let (from, to) = params.range_or_last_30_days()?;
    if to - from > Duration::days(MAX_CHART_DAYS) {
        return Err(Problem::bad_request(
            "to",
            format!("a chart spans at most {MAX_CHART_DAYS} days"),
        ));
    }
    Ok((from, to))
}

/// The UTC days of `[from, to)`, for titles.
fn period(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let last = (to - Duration::nanoseconds(1)).date_naive().max(from.date_naive());
    format!("{} – {}", from.date_naive(), last)
}

/// Sends `query` as `caller` (validation errors keep the query's field names, which are the
/// parameter names here: `from`, `to`, `eventType`).
async fn ask<Q: Query>(state: &ApiState, caller: &Caller, query: Q) -> Result<Q::Output, Problem> {
    state
        .queries
        .dispatch(query, caller.context())
        .await
        .map_err(Problem::from)
}

/// A chart as an `image/svg+xml` response that is never cached (it is one tenant's data).
fn svg(chart: Result<String, ChartError>) -> Result<Response, Problem> {
    let body = chart.map_err(|ChartError(error)| {
        tracing::error!(%error, "a dashboard chart could not be drawn");
        Problem::internal()
    })?;
    let headers = [
        (header::CONTENT_TYPE, SVG),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'"),
    ];
    Ok((headers, body).into_response())
}
