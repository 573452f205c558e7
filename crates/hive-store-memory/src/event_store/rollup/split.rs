//! How a query's time range splits over hour buckets: the whole hours inside it, read from the
//! rollups, and the parts of the partly covered hours at its ends, counted from the events.

use std::ops::Bound;

use chrono::{DateTime, Duration, Utc};
use hive_domain::{Interval, TimeRange};

/// A range of hour starts, as `BTreeMap::range` takes it.
pub(super) type Hours = (Bound<DateTime<Utc>>, Bound<DateTime<Utc>>);

/// A time range split into whole hours and the rest.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Split {
    /// The hours wholly inside the range, by their start; `None` when there is none.
    pub(super) whole: Option<Hours>,
    /// The rest of the range, disjoint from the whole hours: at most two sub-ranges.
    pub(super) edges: Vec<TimeRange>,
}

impl Split {
    /// `range` split at hour boundaries; empty for an empty or inverted range.
    pub(super) fn of(range: TimeRange) -> Self {
        if is_empty(range) {
            return Self::default();
        }
        let hour = |t: DateTime<Utc>| Interval::Hour.bucket_start(t);
        let first = match range.from {
            None => Bound::Unbounded,
            Some(from) if hour(from) == from => Bound::Included(from),
            Some(from) => match hour(from).checked_add_signed(Duration::hours(1)) {
                Some(next) => Bound::Included(next),
                None => return Self::events_only(range),
            },
        };
        let end = range.to.map_or(Bound::Unbounded, |to| Bound::Excluded(hour(to)));
        if let (Bound::Included(first), Bound::Excluded(end)) = (first, end) {
            if first >= end {
                return Self::events_only(range);
            }
        }
        let mut edges = Vec::new();
        if let (Some(from), Bound::Included(first)) = (range.from, first) {
            if from < first {
                edges.push(TimeRange::between(from, first));
            }
        }
        if let (Some(to), Bound::Excluded(end)) = (range.to, end) {
            if end < to {
                edges.push(TimeRange::between(end, to));
            }
        }
        Self {
            whole: Some((first, end)),
            edges,
        }
    }

    /// `range` counted from the events alone; empty for an empty or inverted range.
    pub(super) fn events_only(range: TimeRange) -> Self {
        Self {
            whole: None,
            edges: if is_empty(range) { Vec::new() } else { vec![range] },
        }
    }
}

/// True when no instant lies in `range`.
fn is_empty(range: TimeRange) -> bool {
    matches!((range.from, range.to), (Some(from), Some(to)) if from >= to)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 31, hour, minute, 0).unwrap()
    }

    fn range(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> TimeRange {
        TimeRange { from, to }
    }

    #[test]
    fn aligned_bounds_are_whole_hours_only() {
        let split = Split::of(TimeRange::between(at(10, 0), at(13, 0)));
        assert_eq!(
            split.whole,
            Some((Bound::Included(at(10, 0)), Bound::Excluded(at(13, 0))))
        );
        assert!(split.edges.is_empty());
        let all = Split::of(TimeRange::all());
        assert_eq!(all.whole, Some((Bound::Unbounded, Bound::Unbounded)));
        assert!(all.edges.is_empty());
    }

    #[test]
    fn unaligned_bounds_make_partial_edge_hours() {
        let split = Split::of(TimeRange::between(at(10, 30), at(13, 15)));
        assert_eq!(
            split.whole,
            Some((Bound::Included(at(11, 0)), Bound::Excluded(at(13, 0))))
        );
        assert_eq!(
            split.edges,
            [
                TimeRange::between(at(10, 30), at(11, 0)),
                TimeRange::between(at(13, 0), at(13, 15))
            ]
        );
        let open_end = Split::of(range(Some(at(10, 30)), None));
        assert_eq!(open_end.whole, Some((Bound::Included(at(11, 0)), Bound::Unbounded)));
        assert_eq!(open_end.edges, [TimeRange::between(at(10, 30), at(11, 0))]);
        let open_start = Split::of(range(None, Some(at(13, 15))));
        assert_eq!(open_start.whole, Some((Bound::Unbounded, Bound::Excluded(at(13, 0)))));
        assert_eq!(open_start.edges, [TimeRange::between(at(13, 0), at(13, 15))]);
    }

    #[test]
    fn a_range_without_a_whole_hour_is_counted_from_the_events() {
        for (from, to) in [
            (at(10, 15), at(10, 45)),
            (at(10, 30), at(11, 30)),
            (at(10, 30), at(11, 0)),
            (at(10, 0), at(10, 59)),
        ] {
            let split = Split::of(TimeRange::between(from, to));
            assert_eq!(split.whole, None, "{from} – {to}");
            assert_eq!(split.edges, [TimeRange::between(from, to)]);
        }
    }

    #[test]
    fn empty_and_inverted_ranges_count_nothing() {
        for (from, to) in [(at(10, 0), at(10, 0)), (at(10, 30), at(10, 30)), (at(12, 0), at(10, 0))] {
            assert_eq!(Split::of(TimeRange::between(from, to)), Split::default());
            assert_eq!(Split::events_only(TimeRange::between(from, to)), Split::default());
        }
        let last = DateTime::<Utc>::MAX_UTC;
        let split = Split::of(range(Some(last - Duration::minutes(1)), None));
        assert_eq!(split.whole, None, "no hour starts after the last representable one");
        assert_eq!(split.edges.len(), 1);
    }
}
