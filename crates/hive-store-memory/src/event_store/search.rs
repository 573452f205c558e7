//! Criteria look-ups answered from the columns: a stream's events by walking its links, any
//! other look-up by scanning the columns (skipping the chunks outside a time range). Bodies are read only to confirm what the columns
//! cannot decide (text, correlation id hash matches, strings past an interner's limit) and
//! for the page returned.

use std::cmp::Ordering;

use hive_domain::{EventCriteria, EventEnvelope, EventPage, Page, StoreResult};

use super::columns::CHUNK;
use super::index::{correlation_hash, nanos, State};
use super::intern::{Interner, Verdict};

/// The criteria in terms of the columns.
struct Filter {
    aggregate_type: Option<Vec<u32>>,
    event_types: Option<Vec<u32>>,
    organization: Option<Vec<u32>>,
    user: Option<Vec<u32>>,
    correlation: Option<u32>,
    from: Option<i64>,
    to: Option<i64>,
    text: bool,
}

/// The ids of the wanted strings the interner knows (none known: only overflow entries can
/// match).
fn wanted<'a>(interner: &Interner, names: impl IntoIterator<Item = &'a String>) -> Vec<u32> {
    names.into_iter().filter_map(|n| interner.find(n)).collect()
}

/// Folds one more verdict into the event's verdict so far.
fn and(verdict: Verdict, next: Verdict) -> Verdict {
    match (verdict, next) {
        (Verdict::No, _) | (_, Verdict::No) => Verdict::No,
        (Verdict::Check, _) | (_, Verdict::Check) => Verdict::Check,
        (Verdict::Yes, Verdict::Yes) => Verdict::Yes,
    }
}

impl Filter {
    fn new(state: &State, criteria: &EventCriteria) -> Self {
        let one = |interner: &Interner, name: &Option<String>| name.as_ref().map(|n| wanted(interner, [n]));
        Self {
            aggregate_type: one(&state.aggregate_types, &criteria.aggregate_type),
            event_types: (!criteria.event_types.is_empty()).then(|| wanted(&state.event_types, &criteria.event_types)),
            organization: one(&state.organizations, &criteria.organization_id),
            user: one(&state.users, &criteria.user_id),
            correlation: criteria.correlation_id.as_deref().map(correlation_hash),
            from: criteria.time_range.from.map(nanos),
            to: criteria.time_range.to.map(nanos),
            text: !criteria.text_terms().is_empty(),
        }
    }

    /// Whether the event at `at` matches, as far as the columns tell.
    fn judge(&self, state: &State, at: usize) -> Verdict {
        let columns = &state.columns;
        let mut verdict = if self.text { Verdict::Check } else { Verdict::Yes };
        if let Some(wanted) = &self.event_types {
            let id = u32::from(columns.event_type[at]);
            verdict = and(verdict, state.event_types.judge(id, wanted));
        }
        if let Some(wanted) = &self.aggregate_type {
            let id = u32::from(columns.aggregate_type[at]);
            verdict = and(verdict, state.aggregate_types.judge(id, wanted));
        }
        if let Some(wanted) = &self.organization {
            verdict = and(verdict, state.organizations.judge(columns.organization[at], wanted));
        }
        if let Some(wanted) = &self.user {
            verdict = and(verdict, state.users.judge(columns.user[at], wanted));
        }
        if let Some(hash) = self.correlation {
            let found = if columns.correlation[at] == hash {
                Verdict::Check
            } else {
                Verdict::No
            };
            verdict = and(verdict, found);
        }
        if self.from.is_some() || self.to.is_some() {
            let at = columns.timestamp[at];
            let inside = if at == i64::MIN || at == i64::MAX {
                Verdict::Check // saturated: only the body knows the instant
            } else if self.from.is_none_or(|from| at >= from) && self.to.is_none_or(|to| at < to) {
                Verdict::Yes
            } else {
                Verdict::No
            };
            verdict = and(verdict, inside);
        }
        verdict
    }
}

impl State {
    /// The events matching `criteria`, sorted by timestamp then global position (reversed for
    /// [`hive_domain::SortOrder::Desc`]), one page of them, and the number of all matches.
    pub(crate) fn search(&self, criteria: &EventCriteria, page: Page) -> StoreResult<EventPage> {
        let filter = Filter::new(self, criteria);
        let mut matches: Vec<u32> = Vec::new();
        let mut consider = |at: u32| -> StoreResult<()> {
            let keep = match filter.judge(self, at as usize) {
                Verdict::No => false,
                Verdict::Yes => true,
                Verdict::Check => criteria.matches(&*self.bodies.get(at as usize)?),
            };
            if keep {
                matches.push(at);
            }
            Ok(())
        };
        match criteria.aggregate_id.as_deref() {
            Some(stream) => self
                .stream_positions(stream, 1, usize::MAX)
                .into_iter()
                .try_for_each(&mut consider)?,
            None => {
                for (chunk, &(earliest, latest)) in self.columns.chunk_times.iter().enumerate() {
                    if filter.from.is_some_and(|from| latest < from) || filter.to.is_some_and(|to| earliest >= to) {
                        continue; // the whole chunk lies outside the time range
                    }
                    let first = (chunk * CHUNK) as u32;
                    let end = self.head().min(u64::from(first) + CHUNK as u64) as u32;
                    (first..end).try_for_each(&mut consider)?;
                }
            }
        }
        let total = matches.len() as u64;
        Ok(EventPage {
            items: self.page_of(matches, page)?,
            total,
        })
    }

    /// Sorts just enough of `matches` to cut the page out of it, in the page's order, and
    /// reads the page's bodies.
    ///
    /// Ascending is [`hive_domain::event_order`]: timestamp, then global position (the log
    /// index is unique, so the event id never decides); descending is its exact reverse. Only
    /// the first `offset + limit` matches in that order are selected (`select_nth_unstable_by`)
    /// and sorted, whichever the direction.
    fn page_of(&self, mut matches: Vec<u32>, page: Page) -> StoreResult<Vec<EventEnvelope>> {
        let offset = page.offset_usize();
        if offset >= matches.len() {
            return Ok(Vec::new());
        }
        let end = offset.saturating_add(page.limit_usize()).min(matches.len());
        let direction = page.order;
        let timestamps = &self.columns.timestamp;
        let order = |a: &u32, b: &u32| -> Ordering {
            let key = |at: &u32| (timestamps[*at as usize], *at);
            direction.apply(key(a).cmp(&key(b)))
        };
        if end < matches.len() {
            matches.select_nth_unstable_by(end, order);
            matches.truncate(end);
        }
        matches.sort_unstable_by(order);
        Ok(self
            .bodies_at(&matches[offset..end])?
            .iter()
            .map(|e| EventEnvelope::clone(e))
            .collect())
    }
}

#[cfg(test)]
mod tests;
