//! Event analytics queries: statistics, trends and heatmap of the caller's organization, or of
//! every organization ([`AnalyticsScope::Platform`]).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hive_application::cache::{CachePolicy, Cacheable};
use hive_application::{ApplicationError, Handler, Message, MessageContext, Query};
use hive_domain::{
    AnalyticsFilter, Capability, EventAnalytics, EventStatistics, Heatmap, Interval, StoreCapabilities, TimeRange,
    TrendBucket,
};
use serde::{Deserialize, Serialize};

use crate::validate::Fields;

/// Whose events the analytics count.
///
/// Billing does not know roles: who may ask for [`AnalyticsScope::Platform`] is the driving
/// adapter's decision (hive-http lets only tokens with the `platform` role ask for it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnalyticsScope {
    /// The caller's organization (the default).
    #[default]
    Organization,
    /// Every organization (the seeds' platform-wide statistics: `byOrganization` lists each).
    Platform,
}

fn filter(
    event_type: &Option<String>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    scope: AnalyticsScope,
    context: &MessageContext,
) -> Result<AnalyticsFilter, ApplicationError> {
    let organization_id = match scope {
        AnalyticsScope::Organization => Some(context.organization()?.to_owned()),
        AnalyticsScope::Platform => None,
    };
    Ok(AnalyticsFilter {
        event_type: event_type.clone(),
        organization_id,
        time_range: TimeRange::between(from, to),
    })
}

/// Analytics of one event type of an organization depend on that organization's events of that
/// type only; platform analytics on every event of every organization.
fn analytics_policy(
    query: &impl Serialize,
    event_type: &Option<String>,
    scope: AnalyticsScope,
    context: &MessageContext,
) -> Option<CachePolicy> {
    let tag = match (scope, event_type) {
        (AnalyticsScope::Platform, _) => crate::cache::platform_events_tag(),
        (AnalyticsScope::Organization, event_type) => {
            let org = context.metadata.organization_id.as_deref()?;
            match event_type {
                Some(event_type) => crate::cache::event_type_tag(org, event_type),
                None => crate::cache::events_tag(org),
            }
        }
    };
    Some(CachePolicy::new(query)?.with_tag(tag))
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
            /// The caller's organization (default) or every organization.
            #[serde(default)]
            pub scope: AnalyticsScope,
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
        }

        impl Query for $name {}

        impl Cacheable for $name {
            fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
                analytics_policy(self, &self.event_type, self.scope, context)
            }
        }
    };
}

analytics_query!(
    /// Totals of the events recorded in `[from, to)` (the caller's organization's, or every
    /// organization's with [`AnalyticsScope::Platform`]): `total`, `byHour`, `byDay`,
    /// `byOrganization`, `byUser` (see [`EventStatistics`]).
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

/// Answers the analytics queries through the store's [`EventAnalytics`] capability, or
/// [`ApplicationError::Unsupported`] when the store lacks it.
#[derive(Clone)]
pub struct EventAnalyticsHandler {
    analytics: Option<Arc<dyn EventAnalytics>>,
}

impl std::fmt::Debug for EventAnalyticsHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventAnalyticsHandler").finish_non_exhaustive()
    }
}

impl EventAnalyticsHandler {
    /// A handler over the analytics of `capabilities`.
    pub fn new(capabilities: &StoreCapabilities) -> Self {
        Self {
            analytics: capabilities.analytics.clone(),
        }
    }

    /// The store's analytics capability, or `Unsupported`.
    fn analytics(&self) -> Result<&dyn EventAnalytics, ApplicationError> {
        self.analytics
            .as_deref()
            .ok_or(ApplicationError::unsupported(Capability::Analytics))
    }
}

impl Handler<GetEventStatistics> for EventAnalyticsHandler {
    async fn handle(
        &self,
        query: &GetEventStatistics,
        context: &MessageContext,
    ) -> Result<EventStatistics, ApplicationError> {
        let filter = filter(&query.event_type, query.from, query.to, query.scope, context)?;
        Ok(self.analytics()?.statistics(&filter).await?)
    }
}

impl Handler<GetEventTrends> for EventAnalyticsHandler {
    async fn handle(&self, query: &GetEventTrends, context: &MessageContext) -> Result<EventTrends, ApplicationError> {
        let filter = filter(&query.event_type, query.from, query.to, query.scope, context)?;
        Ok(EventTrends {
            interval: query.interval,
            items: self.analytics()?.trends(&filter, query.interval).await?,
        })
    }
}

impl Handler<GetEventHeatmap> for EventAnalyticsHandler {
    async fn handle(&self, query: &GetEventHeatmap, context: &MessageContext) -> Result<Heatmap, ApplicationError> {
        let filter = filter(&query.event_type, query.from, query.to, query.scope, context)?;
        Ok(self.analytics()?.heatmap(&filter).await?)
    }
}

#[cfg(test)]
mod tests {
    use hive_domain::Metadata;

    use super::*;

    fn as_org(org: &str) -> MessageContext {
        MessageContext::new().with_metadata(Metadata::default().with_organization(org))
    }

    fn statistics(scope: AnalyticsScope, event_type: Option<&str>) -> GetEventStatistics {
        GetEventStatistics {
            event_type: event_type.map(str::to_owned),
            from: DateTime::UNIX_EPOCH,
            to: Utc::now(),
            scope,
        }
    }

    #[test]
    fn the_platform_scope_filters_no_organization() {
        let query = statistics(AnalyticsScope::Platform, None);
        let platform = filter(&query.event_type, query.from, query.to, query.scope, &as_org("org-1")).unwrap();
        assert_eq!(platform.organization_id, None);
        let own = filter(
            &None,
            query.from,
            query.to,
            AnalyticsScope::Organization,
            &as_org("org-1"),
        )
        .unwrap();
        assert_eq!(own.organization_id.as_deref(), Some("org-1"));
        assert!(filter(
            &None,
            query.from,
            query.to,
            AnalyticsScope::Organization,
            &MessageContext::new()
        )
        .is_err());
    }

    #[test]
    fn platform_answers_hang_on_every_organizations_events() {
        let context = as_org("org-1");
        for event_type in [None, Some("PaymentCreated")] {
            let policy = statistics(AnalyticsScope::Platform, event_type)
                .cache_policy(&context)
                .unwrap();
            assert_eq!(policy.tags(), [crate::cache::platform_events_tag()]);
        }
        let own = statistics(AnalyticsScope::Organization, Some("PaymentCreated"))
            .cache_policy(&context)
            .unwrap();
        assert_eq!(own.tags(), ["org:org-1:events:PaymentCreated"]);
        let platform = statistics(AnalyticsScope::Platform, None)
            .cache_policy(&context)
            .unwrap();
        let organization = statistics(AnalyticsScope::Organization, None)
            .cache_policy(&context)
            .unwrap();
        assert_ne!(
            platform.material(),
            organization.material(),
            "one cache entry per scope"
        );
    }

    #[test]
    fn the_scope_defaults_to_the_organization() {
        let query: GetEventTrends = serde_json::from_str(
            r#"{"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "interval": "day"}"#,
        )
        .unwrap();
        assert_eq!(query.scope, AnalyticsScope::Organization);
        assert_eq!(serde_json::to_value(AnalyticsScope::Platform).unwrap(), "platform");
    }
}
