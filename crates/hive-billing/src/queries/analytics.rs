//! Event analytics queries: statistics, trends and heatmap of the caller's organization.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hive_application::cache::CachePolicy;
use hive_application::{ApplicationError, Handler, Message, MessageContext, Query};
use hive_domain::{AnalyticsFilter, EventAnalytics, EventStatistics, Heatmap, Interval, TimeRange, TrendBucket};
use serde::{Deserialize, Serialize};

use crate::validate::Fields;

fn filter(
    event_type: &Option<String>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    context: &MessageContext,
) -> Result<AnalyticsFilter, ApplicationError> {
    Ok(AnalyticsFilter {
        event_type: event_type.clone(),
        organization_id: Some(context.organization()?.to_owned()),
        time_range: TimeRange::between(from, to),
    })
}

/// Analytics of one event type depend on the events of that type only.
fn analytics_policy<O>(
    query: &impl Serialize,
    event_type: &Option<String>,
    context: &MessageContext,
) -> Option<CachePolicy>
where
    O: Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    let org = context.metadata.organization_id.as_deref()?;
    let tag = match event_type {
        Some(event_type) => crate::cache::event_type_tag(org, event_type),
        None => crate::cache::events_tag(org),
    };
    Some(CachePolicy::new::<O>(query)?.with_tag(tag))
}

fn check(event_type: &Option<String>, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), ApplicationError> {
    Fields::new()
        .check(
            event_type.as_deref().is_none_or(|t| !t.is_empty() && t.len() <= 128),
            "eventType",
            "must have 1 to 128 characters",
        )
        .range(from, to)
        .finish()
}

macro_rules! analytics_query {
    ($(#[$doc:meta])* $name:ident => $output:ty $(, $field:ident : $ty:ty = $doc_field:literal)*) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// Only this event type (all types when absent).
            #[serde(default)]
            pub event_type: Option<String>,
            /// Inclusive start.
            pub from: DateTime<Utc>,
            /// Exclusive end.
            pub to: DateTime<Utc>,
            $(
                #[doc = $doc_field]
                pub $field: $ty,
            )*
        }

        impl Message for $name {
            type Output = $output;

            fn name() -> &'static str {
                stringify!($name)
            }

            fn validate(&self) -> Result<(), ApplicationError> {
                check(&self.event_type, self.from, self.to)
            }

            fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
                analytics_policy::<$output>(self, &self.event_type, context)
            }
        }

        impl Query for $name {}
    };
}

analytics_query!(
    /// Totals of the caller's organization's events recorded in `[from, to)`: `total`,
    /// `byHour`, `byDay`, `byOrganization`, `byUser` (see [`EventStatistics`]).
    GetEventStatistics => EventStatistics
);

analytics_query!(
    /// Event counts per `interval` bucket (hour, day, ISO week, month; UTC), oldest first,
    /// empty buckets left out.
    GetEventTrends => EventTrends,
    interval: Interval = "The bucket width."
);

analytics_query!(
    /// Event counts by hour of day × ISO day of week, and by UTC day (see [`Heatmap`]).
    GetEventHeatmap => Heatmap
);

/// `{"interval", "items": [{"start", "count"}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTrends {
    /// The bucket width.
    pub interval: Interval,
    /// The non-empty buckets, oldest first.
    pub items: Vec<TrendBucket>,
}

/// Answers the analytics queries through the [`EventAnalytics`] port.
#[derive(Clone)]
pub struct EventAnalyticsHandler {
    analytics: Arc<dyn EventAnalytics>,
}

impl std::fmt::Debug for EventAnalyticsHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventAnalyticsHandler").finish_non_exhaustive()
    }
}

impl EventAnalyticsHandler {
    /// A handler over `analytics`.
    pub fn new(analytics: Arc<dyn EventAnalytics>) -> Self {
        Self { analytics }
    }
}

impl Handler<GetEventStatistics> for EventAnalyticsHandler {
    async fn handle(
        &self,
        query: &GetEventStatistics,
        context: &MessageContext,
    ) -> Result<EventStatistics, ApplicationError> {
        let filter = filter(&query.event_type, query.from, query.to, context)?;
        Ok(self.analytics.statistics(&filter).await?)
    }
}

impl Handler<GetEventTrends> for EventAnalyticsHandler {
    async fn handle(&self, query: &GetEventTrends, context: &MessageContext) -> Result<EventTrends, ApplicationError> {
        let filter = filter(&query.event_type, query.from, query.to, context)?;
        Ok(EventTrends {
            interval: query.interval,
            items: self.analytics.trends(&filter, query.interval).await?,
        })
    }
}

impl Handler<GetEventHeatmap> for EventAnalyticsHandler {
    async fn handle(&self, query: &GetEventHeatmap, context: &MessageContext) -> Result<Heatmap, ApplicationError> {
        let filter = filter(&query.event_type, query.from, query.to, context)?;
        Ok(self.analytics.heatmap(&filter).await?)
    }
}
