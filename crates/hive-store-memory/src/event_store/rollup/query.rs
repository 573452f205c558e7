//! Analytics answers from the rollups, equal to [`hive_domain::EventAnalyticsReport`]'s over
//! the selected events: whole hours come from the buckets, the partly covered hours at the
//! ends of the range from the events themselves.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use foldhash::fast::FixedState;
use hive_domain::{
    day_key, hour_key, AnalyticsFilter, EventEnvelope, EventStatistics, Heatmap, Interval, StoreResult, TrendBucket,
};

use super::split::{Hours, Split};
use super::{Cell, Rollups, Selection};

/// The key of a missing organization or user, as the reference counts it.
const UNKNOWN: &str = "unknown";

/// Counts of the selected events by hour start and, for statistics, by organization and user.
#[derive(Debug, Default)]
struct Tally {
    hours: BTreeMap<DateTime<Utc>, u64>,
    people: Option<People>,
}

/// Counts by organization and by user, keyed as the reference keys them.
#[derive(Debug, Default)]
struct People {
    organizations: BTreeMap<String, u64>,
    users: BTreeMap<String, u64>,
}

impl Rollups {
    /// The statistics of the events `filter` selects. `edges` answers the stored events a
    /// filter selects; it is asked only for the partly covered hours at the ends of the range.
    pub(crate) fn statistics(
        &self,
        filter: &AnalyticsFilter,
        edges: impl FnMut(&AnalyticsFilter) -> StoreResult<Vec<EventEnvelope>>,
    ) -> StoreResult<EventStatistics> {
        let tally = self.tally(filter, true, edges)?;
        let mut statistics = EventStatistics {
            total: tally.hours.values().sum(),
            ..EventStatistics::default()
        };
        for (&hour, &count) in &tally.hours {
            statistics.by_hour.insert(hour_key(hour), count);
            *statistics.by_day.entry(day_key(hour)).or_default() += count;
        }
        if let Some(people) = tally.people {
            statistics.by_organization = people.organizations;
            statistics.by_user = people.users;
        }
        Ok(statistics)
    }

    /// The trend of the events `filter` selects by `interval` (`edges` as for
    /// [`Rollups::statistics`]).
    pub(crate) fn trends(
        &self,
        filter: &AnalyticsFilter,
        interval: Interval,
        edges: impl FnMut(&AnalyticsFilter) -> StoreResult<Vec<EventEnvelope>>,
    ) -> StoreResult<Vec<TrendBucket>> {
        let mut buckets: BTreeMap<DateTime<Utc>, u64> = BTreeMap::new();
        for (hour, count) in self.tally(filter, false, edges)?.hours {
            *buckets.entry(interval.bucket_start(hour)).or_default() += count;
        }
        Ok(buckets
            .into_iter()
            .map(|(start, count)| TrendBucket { start, count })
            .collect())
    }

    /// The heatmap of the events `filter` selects (`edges` as for [`Rollups::statistics`]).
    pub(crate) fn heatmap(
        &self,
        filter: &AnalyticsFilter,
        edges: impl FnMut(&AnalyticsFilter) -> StoreResult<Vec<EventEnvelope>>,
    ) -> StoreResult<Heatmap> {
        Ok(Heatmap::from_counts(self.tally(filter, false, edges)?.hours))
    }

    /// Counts the selected events: whole hours from the cells, the rest from `edges`.
    fn tally(
        &self,
        filter: &AnalyticsFilter,
        with_people: bool,
        mut edges: impl FnMut(&AnalyticsFilter) -> StoreResult<Vec<EventEnvelope>>,
    ) -> StoreResult<Tally> {
        let mut tally = Tally {
            hours: BTreeMap::new(),
            people: with_people.then(People::default),
        };
        let split = if self.overflowed {
            Split::events_only(filter.time_range)
        } else {
            Split::of(filter.time_range)
        };
        if let (Some(hours), Some(selection)) = (split.whole, self.selection(filter)) {
            self.tally_cells(hours, selection, &mut tally);
        }
        for range in split.edges {
            let edge = AnalyticsFilter {
                time_range: range,
                ..filter.clone()
            };
            for event in edges(&edge)?.iter().filter(|event| edge.matches(event)) {
                tally.add_event(event);
            }
        }
        Ok(tally)
    }

    /// Adds the selected cells of `hours` to `tally`.
    fn tally_cells(&self, hours: Hours, selection: Selection, tally: &mut Tally) {
        let mut organizations: HashMap<u32, u64, FixedState> = HashMap::default();
        let mut users: HashMap<u32, u64, FixedState> = HashMap::default();
        for (hour, cells) in self.cells(hours, selection) {
            let mut total = 0;
            for &Cell {
                organization,
                user,
                count,
                ..
            } in cells
            {
                let count = u64::from(count);
                total += count;
                if tally.people.is_some() {
                    *organizations.entry(organization).or_default() += count;
                    *users.entry(user).or_default() += count;
                }
            }
            if total > 0 {
                *tally.hours.entry(hour).or_default() += total;
            }
        }
        if let Some(people) = &mut tally.people {
            for (id, count) in organizations {
                bump(&mut people.organizations, self.organizations.name(id), count);
            }
            for (id, count) in users {
                bump(&mut people.users, self.users.name(id), count);
            }
        }
    }
}

impl Tally {
    /// Counts one event of a partly covered hour.
    fn add_event(&mut self, event: &EventEnvelope) {
        *self
            .hours
            .entry(Interval::Hour.bucket_start(event.timestamp))
            .or_default() += 1;
        if let Some(people) = &mut self.people {
            bump(&mut people.organizations, event.metadata.organization_id.as_deref(), 1);
            bump(&mut people.users, event.metadata.user_id.as_deref(), 1);
        }
    }
}

/// Adds `count` under `name`, or under `unknown` when there is none.
fn bump(counts: &mut BTreeMap<String, u64>, name: Option<&str>, count: u64) {
    let name = name.unwrap_or(UNKNOWN);
    match counts.get_mut(name) {
        Some(total) => *total += count,
        None => {
            counts.insert(name.to_owned(), count);
        }
    }
}
