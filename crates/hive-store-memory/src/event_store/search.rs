//! Criteria look-ups answered from the most selective index.

use std::cmp::Ordering;
use std::ops::Bound;

use hive_domain::{EventCriteria, EventPage, Page};

use super::index::{key_of, HashIndex, State};

/// Where the candidates of a look-up come from.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Candidates<'s> {
    /// No criterion has an index: every event is a candidate.
    Everything,
    /// The union of these disjoint posting lists (empty: nothing can match).
    Lists(Vec<&'s [usize]>),
}

/// The candidates of `key` in `index`, when the criterion is set (empty when the key is unknown).
fn single<'s>(index: &'s HashIndex, key: &Option<String>) -> Option<Vec<&'s [usize]>> {
    key.as_deref()
        .map(|k| index.get(&key_of(k)).map(|p| vec![p.as_slice()]).unwrap_or_default())
}

impl State {
    /// The events matching `criteria`, sorted by timestamp then global position (reversed for
    /// [`hive_domain::SortOrder::Desc`]), one page of them, and the number of all matches.
    pub(crate) fn search(&self, criteria: &EventCriteria, page: Page) -> EventPage {
        let matches: Vec<usize> = match self.candidates(criteria) {
            Candidates::Everything => (0..self.log.len())
                .filter(|&at| criteria.matches(&self.log[at]))
                .collect(),
            Candidates::Lists(lists) => lists
                .into_iter()
                .flatten()
                .copied()
                .filter(|&at| criteria.matches(&self.log[at]))
                .collect(),
        };
        let total = matches.len() as u64;
        EventPage {
            items: self.page_of(matches, page),
            total,
        }
    }

    /// Picks the smallest candidate set among the indexes the criteria can use.
    pub(crate) fn candidates(&self, criteria: &EventCriteria) -> Candidates<'_> {
        let mut options: Vec<Vec<&[usize]>> = Vec::new();
        if let Some(stream) = criteria.aggregate_id.as_deref() {
            options.push(self.streams.get(stream).map(|p| vec![p.as_slice()]).unwrap_or_default());
        }
        options.extend(single(&self.by_correlation, &criteria.correlation_id));
        options.extend(single(&self.by_organization, &criteria.organization_id));
        options.extend(single(&self.by_aggregate_type, &criteria.aggregate_type));
        if !criteria.event_types.is_empty() {
            let mut keys: Vec<u64> = criteria.event_types.iter().map(|t| key_of(t)).collect();
            keys.sort_unstable();
            keys.dedup();
            options.push(
                keys.iter()
                    .filter_map(|k| self.by_type.get(k))
                    .map(|p| p.as_slice())
                    .collect(),
            );
        }
        let range = criteria.time_range;
        if range.from.is_some() || range.to.is_some() {
            let from = range.from.map_or(Bound::Unbounded, |f| Bound::Included(f.date_naive()));
            let to = range.to.map_or(Bound::Unbounded, |t| Bound::Included(t.date_naive()));
            if range.from.zip(range.to).is_none_or(|(f, t)| f < t) {
                options.push(self.by_day.range((from, to)).map(|(_, p)| p.as_slice()).collect());
            } else {
                options.push(Vec::new());
            }
        }
        options
            .into_iter()
            .min_by_key(|lists| lists.iter().map(|l| l.len()).sum::<usize>())
            .map_or(Candidates::Everything, Candidates::Lists)
    }

    /// Sorts just enough of `matches` to cut the page out of it, in the page's order.
    ///
    /// Ascending is [`hive_domain::event_order`]: timestamp, then global position (the log
    /// index is unique, so the event id never decides); descending is its exact reverse. Only
    /// the first `offset + limit` matches in that order are selected (`select_nth_unstable_by`)
    /// and sorted, whichever the direction.
    fn page_of(&self, mut matches: Vec<usize>, page: Page) -> Vec<hive_domain::EventEnvelope> {
        let offset = page.offset_usize();
        if offset >= matches.len() {
            return Vec::new();
        }
        let end = offset.saturating_add(page.limit_usize()).min(matches.len());
        let direction = page.order;
        let order = |a: &usize, b: &usize| -> Ordering {
            direction.apply(self.log[*a].timestamp.cmp(&self.log[*b].timestamp).then(a.cmp(b)))
        };
        if end < matches.len() {
            matches.select_nth_unstable_by(end, order);
            matches.truncate(end);
        }
        matches.sort_unstable_by(order);
        matches[offset..end]
            .iter()
            .map(|&at| hive_domain::EventEnvelope::clone(&self.log[at]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use hive_domain::{event_order, EventEnvelope, Metadata, SortOrder, TimeRange};
    use serde_json::json;

    use super::*;

    fn state() -> State {
        let mut state = State::default();
        let day = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        for i in 0..30u64 {
            let event = EventEnvelope::new(
                format!("s{}", i % 3),
                "Payment",
                format!("E{}", i % 5),
                json!({}),
                i / 3 + 1,
            )
            .with_timestamp(day + Duration::hours(i as i64 * 5) - Duration::minutes(i as i64 % 2 * 600))
            .with_correlation_id(format!("c{}", i % 10))
            .with_metadata(Metadata::default().with_organization(format!("o{}", i % 2)));
            state.commit(vec![event]);
        }
        state
    }

    fn size(c: Candidates<'_>) -> Option<usize> {
        match c {
            Candidates::Everything => None,
            Candidates::Lists(l) => Some(l.iter().map(|l| l.len()).sum()),
        }
    }

    #[test]
    fn the_most_selective_index_is_used() {
        let state = state();
        let mut c = EventCriteria {
            organization_id: Some("o1".into()),
            ..Default::default()
        };
        assert_eq!(size(state.candidates(&c)), Some(15));
        c.aggregate_id = Some("s0".into());
        assert_eq!(size(state.candidates(&c)), Some(10));
        c.correlation_id = Some("c3".into());
        assert_eq!(size(state.candidates(&c)), Some(3));
        c.event_types = vec!["nope".into()];
        assert_eq!(size(state.candidates(&c)), Some(0));
        let c = EventCriteria {
            user_id: Some("u".into()),
            ..Default::default()
        };
        assert_eq!(state.candidates(&c), Candidates::Everything);
    }

    #[test]
    fn results_equal_the_reference_scan() {
        let state = state();
        let start = Utc.with_ymd_and_hms(2024, 5, 2, 3, 0, 0).unwrap();
        let criteria = [
            EventCriteria::default(),
            EventCriteria {
                event_types: vec!["E1".into(), "E2".into(), "E1".into()],
                ..Default::default()
            },
            EventCriteria {
                time_range: TimeRange::between(start, start + Duration::hours(40)),
                organization_id: Some("o0".into()),
                ..Default::default()
            },
            EventCriteria {
                time_range: TimeRange {
                    from: Some(start),
                    to: None,
                },
                ..Default::default()
            },
            EventCriteria {
                time_range: TimeRange::between(start, start),
                ..Default::default()
            },
        ];
        for c in &criteria {
            let mut want: Vec<&EventEnvelope> = state.log.iter().map(|e| &**e).filter(|e| c.matches(e)).collect();
            for order in [SortOrder::Asc, SortOrder::Desc] {
                want.sort_by(|a, b| order.apply(event_order(a, b)));
                for (offset, limit) in [(0, 100), (0, 4), (3, 5), (29, 10), (40, 1)] {
                    let got = state.search(c, Page::new(offset, limit).in_order(order));
                    assert_eq!(got.total, want.len() as u64);
                    let expected: Vec<EventEnvelope> = want
                        .iter()
                        .skip(offset as usize)
                        .take(limit as usize)
                        .map(|e| (*e).clone())
                        .collect();
                    assert_eq!(got.items, expected, "{c:?} {order:?} {offset} {limit}");
                }
            }
        }
    }

    /// Many events share a timestamp: descending pages are the exact reverse of the ascending
    /// order (ties newest position first), cut after ordering.
    #[test]
    fn descending_pages_reverse_the_ascending_order_ties_included() {
        let mut state = State::default();
        let at = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        for i in 0..40i64 {
            // Four distinct instants, committed out of timestamp order.
            let event = EventEnvelope::new(format!("s{i}"), "Payment", "E", json!({}), 1)
                .with_timestamp(at + Duration::seconds((i * 7) % 4));
            state.commit(vec![event]);
        }
        let criteria = EventCriteria {
            event_types: vec!["E".into()],
            ..Default::default()
        };
        let ascending = state.search(&criteria, Page::new(0, 100)).items;
        let mut reversed = ascending.clone();
        reversed.reverse();
        let descending = state.search(&criteria, Page::new(0, 100).newest_first());
        assert_eq!(descending.total, 40);
        assert_eq!(descending.items, reversed);
        assert_eq!(
            descending.items[..2]
                .iter()
                .map(|e| e.global_position)
                .collect::<Vec<_>>(),
            [Some(38), Some(34)],
            "the latest instant first, its greatest position first"
        );
        let mut paged = Vec::new();
        for offset in (0..45).step_by(6) {
            let page = state.search(&criteria, Page::new(offset, 6).newest_first());
            assert_eq!(page.total, 40, "the total does not depend on the page");
            paged.extend(page.items);
        }
        assert_eq!(paged, reversed);
    }
}
