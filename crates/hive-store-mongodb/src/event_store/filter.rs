//! Look-ups: [`EventCriteria`] as a MongoDB filter, and one page of matches with their total.

use bson::{doc, Document};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use futures::TryStreamExt;
use hive_domain::{AnalyticsFilter, EventCriteria, EventPage, Page, SortOrder, StoreResult, TimeRange};

use super::codec::{date, decode, envelope_projection};
use super::terms::query_terms;
use super::MongoEventStore;
use crate::error::backend;

/// `t` rounded up to whole milliseconds: stored timestamps are whole milliseconds, so
/// `stored >= t` ⟺ `stored >= ceil_ms(t)` and `stored < t` ⟺ `stored < ceil_ms(t)`.
fn ceil_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = t.trunc_subsecs(3);
    if floor == t {
        t
    } else {
        floor + Duration::milliseconds(1)
    }
}

/// The half-open `[from, to)` condition on `timestamp`, if the range is bounded.
pub(crate) fn time_condition(range: &TimeRange) -> Option<Document> {
    let mut condition = Document::new();
    if let Some(from) = range.from {
        condition.insert("$gte", date(ceil_ms(from)));
    }
    if let Some(to) = range.to {
        condition.insert("$lt", date(ceil_ms(to)));
    }
    (!condition.is_empty()).then_some(condition)
}

/// The sort of a page: `{timestamp, _id}` (`_id` is the global position; stored timestamps
/// are whole milliseconds, so there is no sub-millisecond field to sort by), both descending
/// for [`SortOrder::Desc`].
pub(crate) fn page_sort(order: SortOrder) -> Document {
    let direction = match order {
        SortOrder::Asc => 1,
        SortOrder::Desc => -1,
    };
    doc! { "timestamp": direction, "_id": direction }
}

/// The filter selecting exactly the events [`EventCriteria::matches`] accepts.
pub(crate) fn criteria_filter(criteria: &EventCriteria) -> Document {
    let mut filter = Document::new();
    let mut eq = |field: &str, value: &Option<String>| {
        if let Some(value) = value {
            filter.insert(field, value.clone());
        }
    };
    eq("aggregateType", &criteria.aggregate_type);
    eq("aggregateId", &criteria.aggregate_id);
    eq("metadata.organizationId", &criteria.organization_id);
    eq("metadata.userId", &criteria.user_id);
    eq("correlationId", &criteria.correlation_id);
    if !criteria.event_types.is_empty() {
        filter.insert("eventType", doc! { "$in": criteria.event_types.clone() });
    }
    if let Some(condition) = time_condition(&criteria.time_range) {
        filter.insert("timestamp", condition);
    }
    let terms = query_terms(criteria);
    if !terms.is_empty() {
        filter.insert("searchTerms", doc! { "$all": terms });
    }
    filter
}

/// The filter selecting exactly the events [`AnalyticsFilter::matches`] accepts.
pub(crate) fn analytics_filter(filter: &AnalyticsFilter) -> Document {
    criteria_filter(&EventCriteria {
        event_types: filter.event_type.iter().cloned().collect(),
        organization_id: filter.organization_id.clone(),
        time_range: filter.time_range,
        ..EventCriteria::default()
    })
}

impl MongoEventStore {
    /// One page of the matches of `criteria` in the page's order — oldest first (timestamp,
    /// then global position: `hive_domain::event_order`, as positions are unique) or its exact
    /// reverse — and their total; the two queries run concurrently.
    pub(crate) async fn find_page(&self, criteria: &EventCriteria, page: Page) -> StoreResult<EventPage> {
        let filter = self.visible(criteria_filter(criteria)).await?;
        let events = self.events();
        let count = events.count_documents(filter.clone());
        let skip = page.offset;
        let limit = i64::try_from(page.limit_usize()).unwrap_or(i64::MAX);
        let items = async {
            events
                .find(filter.clone())
                .sort(page_sort(page.order))
                .projection(envelope_projection())
                .skip(skip)
                .limit(limit)
                .await?
                .try_collect::<Vec<Document>>()
                .await
        };
        let (total, docs) = tokio::join!(count, items);
        let total = total.map_err(backend("count the matches"))?;
        let docs = docs.map_err(backend("search events"))?;
        Ok(EventPage {
            items: docs.iter().map(decode).collect::<StoreResult<_>>()?,
            total,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bounds_round_up_to_milliseconds() {
        let t = DateTime::parse_from_rfc3339("2024-01-01T00:00:00.000500Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(ceil_ms(t).to_rfc3339(), "2024-01-01T00:00:00.001+00:00");
        let whole = t.trunc_subsecs(3);
        assert_eq!(ceil_ms(whole), whole);
    }

    #[test]
    fn descending_pages_reverse_every_sort_key() {
        assert_eq!(page_sort(SortOrder::Asc), doc! { "timestamp": 1, "_id": 1 });
        assert_eq!(page_sort(SortOrder::Desc), doc! { "timestamp": -1, "_id": -1 });
    }

    #[test]
    fn every_criterion_becomes_a_condition() {
        let criteria = EventCriteria {
            aggregate_type: Some("Payment".into()),
            event_types: vec!["A".into(), "B".into()],
            organization_id: Some("org".into()),
            text: Some("Card-Declined".into()),
            ..EventCriteria::default()
        };
        let filter = criteria_filter(&criteria);
        assert_eq!(filter.get_str("aggregateType").unwrap(), "Payment");
        assert_eq!(filter.get_str("metadata.organizationId").unwrap(), "org");
        assert_eq!(
            filter.get_document("searchTerms").unwrap(),
            &doc! { "$all": ["card", "declined"] }
        );
    }
}
