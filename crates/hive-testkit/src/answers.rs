//! [`StoreAnswers`]: everything an event store answers about what it holds, asked through its
//! ports, so that a test can check that two stores hold the same — one store reopened two
//! ways, say, or a copy.

use std::collections::BTreeMap;

use chrono::Duration;
use futures::TryStreamExt;
use hive_domain::{
    AnalyticsFilter, EventAnalytics, EventCriteria, EventEnvelope, EventLookup, EventPage, EventSearch,
    EventStatistics, EventStore, Heatmap, Interval, Page, StoreResult, TimeRange, TrendBucket,
};
use uuid::Uuid;

/// One stream as the store answers it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamAnswers {
    /// Its version.
    pub version: u64,
    /// Its events, read from version 1.
    pub events: Vec<EventEnvelope>,
    /// Its events read from its last version.
    pub last: Vec<EventEnvelope>,
}

/// One analytics filter as the store answers it.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticsAnswers {
    /// The statistics of the filtered events.
    pub statistics: EventStatistics,
    /// Their hourly trend.
    pub hourly: Vec<TrendBucket>,
    /// Their daily trend.
    pub daily: Vec<TrendBucket>,
    /// Their heatmap.
    pub heatmap: Heatmap,
}

/// What a store answered; two stores holding the same events give equal answers.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreAnswers {
    /// The head position.
    pub head: u64,
    /// The global log, read in pages.
    pub events: Vec<EventEnvelope>,
    /// Every stream, by id.
    pub streams: BTreeMap<String, StreamAnswers>,
    /// The global position `event_by_id` finds for each event (in log order), then for an
    /// unknown id.
    pub by_id: Vec<Option<u64>>,
    /// First pages (oldest and newest first) of searches by organization, user, event type,
    /// aggregate type, correlation id, time range and text, taken from the events held.
    pub searches: Vec<(String, EventPage)>,
    /// Analytics of all events, of one organization, of one event type, and of a range whose
    /// ends fall inside hours.
    pub analytics: Vec<(String, AnalyticsAnswers)>,
}

impl StoreAnswers {
    /// Asks `store` everything above.
    pub async fn of<S>(store: &S) -> StoreResult<Self>
    where
        S: EventStore + EventLookup + EventSearch + EventAnalytics,
    {
        let head = store.head_position().await?;
        let mut events = Vec::new();
        loop {
            let page = store.read_all(events.len() as u64, 1_000).await?;
            if page.is_empty() {
                break;
            }
            events.extend(page);
        }
        let mut streams = BTreeMap::new();
        for event in &events {
            if streams.contains_key(&event.aggregate_id) {
                continue;
            }
            let id = event.aggregate_id.as_str();
            let version = store.stream_version(id).await?;
            let answers = StreamAnswers {
                version,
                events: store.read_stream(id, 1).try_collect().await?,
                last: store.read_stream(id, version).try_collect().await?,
            };
            streams.insert(id.to_owned(), answers);
        }
        let mut by_id = Vec::with_capacity(events.len() + 1);
        for id in events.iter().map(|e| e.event_id).chain([Uuid::new_v4()]) {
            by_id.push(store.event_by_id(id).await?.and_then(|e| e.global_position));
        }
        let mut searches = Vec::new();
        for (what, criteria) in criteria_over(&events) {
            for page in [Page::first(25), Page::first(25).newest_first()] {
                searches.push((what.clone(), store.search(&criteria, page).await?));
            }
        }
        let mut analytics = Vec::new();
        for (what, filter) in filters_over(&events) {
            let answers = AnalyticsAnswers {
                statistics: store.statistics(&filter).await?,
                hourly: store.trends(&filter, Interval::Hour).await?,
                daily: store.trends(&filter, Interval::Day).await?,
                heatmap: store.heatmap(&filter).await?,
            };
            analytics.push((what, answers));
        }
        Ok(Self {
            head,
            events,
            streams,
            by_id,
            searches,
            analytics,
        })
    }
}

/// Searches over what `events` hold, each named.
fn criteria_over(events: &[EventEnvelope]) -> Vec<(String, EventCriteria)> {
    let Some(middle) = events.get(events.len() / 2) else {
        return Vec::new();
    };
    let third = |n: usize| events[(events.len() * n / 3).min(events.len() - 1)].timestamp;
    let all = EventCriteria::default;
    vec![
        ("everything".into(), all()),
        (
            "organization".into(),
            EventCriteria {
                organization_id: middle.metadata.organization_id.clone(),
                ..all()
            },
        ),
        (
            "user".into(),
            EventCriteria {
                user_id: middle.metadata.user_id.clone(),
                ..all()
            },
        ),
        (
            "event type".into(),
            EventCriteria {
                event_types: vec![middle.event_type.clone()],
                ..all()
            },
        ),
        (
            "aggregate type".into(),
            EventCriteria {
                aggregate_type: Some(middle.aggregate_type.clone()),
                ..all()
            },
        ),
        (
            "correlation id".into(),
            EventCriteria {
                correlation_id: Some(middle.correlation_id.clone()),
                ..all()
            },
        ),
        (
            "middle third".into(),
            EventCriteria {
                time_range: TimeRange::between(third(1), third(2)),
                ..all()
            },
        ),
        (
            "text".into(),
            EventCriteria {
                text: Some(middle.event_type.to_lowercase()),
                ..all()
            },
        ),
    ]
}

/// Analytics filters over what `events` hold, each named.
fn filters_over(events: &[EventEnvelope]) -> Vec<(String, AnalyticsFilter)> {
    let (Some(first), Some(middle), Some(last)) = (events.first(), events.get(events.len() / 2), events.last()) else {
        return Vec::new();
    };
    let all = AnalyticsFilter::default;
    vec![
        ("everything".into(), all()),
        (
            "organization".into(),
            AnalyticsFilter {
                organization_id: middle.metadata.organization_id.clone(),
                ..all()
            },
        ),
        (
            "event type".into(),
            AnalyticsFilter {
                event_type: Some(middle.event_type.clone()),
                ..all()
            },
        ),
        (
            "partial hours".into(),
            AnalyticsFilter {
                time_range: TimeRange::between(
                    first.timestamp + Duration::minutes(30),
                    last.timestamp - Duration::minutes(30),
                ),
                ..all()
            },
        ),
    ]
}
