//! [`EventAnalytics`] for the [`MemoryEventStore`], read from the rollups the store keeps as it
//! indexes events; the partly covered hours at the ends of a range are counted from their
//! events, looked up like a search.

use async_trait::async_trait;
use hive_domain::{
    AnalyticsFilter, EventAnalytics, EventCriteria, EventEnvelope, EventStatistics, Heatmap, Interval, Page,
    StoreResult, TrendBucket,
};

use super::index::State;
use super::MemoryEventStore;

/// Every stored event `filter` selects, read page by page through the indexed search.
fn selected(state: &State, filter: &AnalyticsFilter) -> StoreResult<Vec<EventEnvelope>> {
    let criteria = EventCriteria {
        event_types: filter.event_type.iter().cloned().collect(),
        organization_id: filter.organization_id.clone(),
        time_range: filter.time_range,
        ..EventCriteria::default()
    };
    let mut events = Vec::new();
    let mut read = 0u64;
    loop {
        let page = state.search(&criteria, Page::new(read, Page::MAX_LIMIT))?;
        let got = page.items.len() as u64;
        read += got;
        events.extend(page.items);
        if got == 0 || read >= page.total {
            return Ok(events);
        }
    }
}

#[async_trait]
impl EventAnalytics for MemoryEventStore {
    async fn statistics(&self, filter: &AnalyticsFilter) -> StoreResult<EventStatistics> {
        let state = self.inner.state.read();
        state.rollups.statistics(filter, |edge| selected(&state, edge))
    }

    async fn trends(&self, filter: &AnalyticsFilter, interval: Interval) -> StoreResult<Vec<TrendBucket>> {
        let state = self.inner.state.read();
        state.rollups.trends(filter, interval, |edge| selected(&state, edge))
    }

    async fn heatmap(&self, filter: &AnalyticsFilter) -> StoreResult<Heatmap> {
        let state = self.inner.state.read();
        state.rollups.heatmap(filter, |edge| selected(&state, edge))
    }
}
