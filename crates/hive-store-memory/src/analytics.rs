//! [`EventAnalytics`] for the [`MemoryEventStore`]: the matching events are looked up through
//! the store's index (type, organization and time decided on its columns), then counted by
//! [`EventAnalyticsReport`], the reference computation.

use async_trait::async_trait;
use hive_domain::{
    AnalyticsFilter, EventAnalytics, EventAnalyticsReport, EventCriteria, EventEnvelope, EventSearch, EventStatistics,
    Heatmap, Interval, Page, StoreResult, TrendBucket,
};

use crate::MemoryEventStore;

impl MemoryEventStore {
    /// Every stored event `filter` counts, read page by page through the indexed look-up.
    async fn analysed(&self, filter: &AnalyticsFilter) -> StoreResult<Vec<EventEnvelope>> {
        let criteria = EventCriteria {
            event_types: filter.event_type.iter().cloned().collect(),
            organization_id: filter.organization_id.clone(),
            time_range: filter.time_range,
            ..EventCriteria::default()
        };
        let mut events = Vec::new();
        let mut read = 0u64;
        loop {
            let page = self.search(&criteria, Page::new(read, Page::MAX_LIMIT)).await?;
            let got = page.items.len() as u64;
            read += got;
            events.extend(page.items.into_iter().filter(|e| filter.matches(e)));
            if got == 0 || read >= page.total {
                return Ok(events);
            }
        }
    }
}

#[async_trait]
impl EventAnalytics for MemoryEventStore {
    async fn statistics(&self, filter: &AnalyticsFilter) -> StoreResult<EventStatistics> {
        Ok(EventAnalyticsReport::statistics(&self.analysed(filter).await?))
    }

    async fn trends(&self, filter: &AnalyticsFilter, interval: Interval) -> StoreResult<Vec<TrendBucket>> {
        Ok(EventAnalyticsReport::trends(&self.analysed(filter).await?, interval))
    }

    async fn heatmap(&self, filter: &AnalyticsFilter) -> StoreResult<Heatmap> {
        Ok(EventAnalyticsReport::heatmap(&self.analysed(filter).await?))
    }
}
