//! Rollups: event counts per UTC hour × event type × organization × user, kept up to date as
//! events are indexed, so that analytics read hour buckets instead of events.
//!
//! Each hour with events holds a sorted list of 16-byte cells (three interned ids and a count);
//! a query reads the whole hours of its range from them and asks for the events of the at most
//! two partly covered hours at its ends.

mod interner;
mod persist;
mod query;
mod split;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hive_domain::{AnalyticsFilter, Interval};

use interner::Interner;
use split::Hours;

/// The events of one hour that share an event type, an organization and a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cell {
    event_type: u32,
    /// [`interner::ABSENT`] for events without organization.
    organization: u32,
    /// [`interner::ABSENT`] for events without user.
    user: u32,
    count: u32,
}

const _: () = assert!(std::mem::size_of::<Cell>() == 16);

impl Cell {
    /// The order of the cells of an hour: event type, then organization, then user.
    fn key(&self) -> (u32, u32, u32) {
        (self.event_type, self.organization, self.user)
    }
}

/// The cells a filter selects, by interned id (`None`: any).
#[derive(Debug, Clone, Copy)]
struct Selection {
    event_type: Option<u32>,
    organization: Option<u32>,
}

/// Event counts per UTC hour × event type × organization × user.
#[derive(Debug, Default)]
pub(crate) struct Rollups {
    /// Start of an hour → its cells, sorted by [`Cell::key`], one per key.
    hours: BTreeMap<DateTime<Utc>, Vec<Cell>>,
    event_types: Interner,
    organizations: Interner,
    users: Interner,
    /// Set when an id or a count no longer fits in 32 bits: the buckets are dropped and queries
    /// count the events themselves from then on.
    overflowed: bool,
}

impl Rollups {
    /// Counts one event.
    pub(crate) fn add(
        &mut self,
        timestamp: DateTime<Utc>,
        event_type: &str,
        organization: Option<&str>,
        user: Option<&str>,
    ) {
        if self.overflowed {
            return;
        }
        let ids = (
            self.event_types.intern(event_type),
            self.organizations.intern_optional(organization),
            self.users.intern_optional(user),
        );
        let (Some(event_type), Some(organization), Some(user)) = ids else {
            return self.overflow();
        };
        let cells = self.hours.entry(Interval::Hour.bucket_start(timestamp)).or_default();
        let key = (event_type, organization, user);
        let at = cells.partition_point(|cell| cell.key() < key);
        match cells.get_mut(at) {
            Some(cell) if cell.key() == key => match cell.count.checked_add(1) {
                Some(count) => cell.count = count,
                None => self.overflow(),
            },
            _ => {
                // Grown by an eighth, not doubled: an hour keeps at most 1/8 of its cells spare.
                if cells.len() == cells.capacity() {
                    cells.reserve_exact((cells.len() / 8).max(1));
                }
                let cell = Cell {
                    event_type,
                    organization,
                    user,
                    count: 1,
                };
                cells.insert(at, cell);
            }
        }
    }

    /// Drops the buckets for good: from now on every query counts the events.
    fn overflow(&mut self) {
        tracing::warn!("analytics rollups overflowed 32-bit ids or counts: queries now count the events");
        *self = Self {
            overflowed: true,
            ..Self::default()
        };
    }

    /// The ids a filter selects; `None` when it names an event type or organization never seen.
    fn selection(&self, filter: &AnalyticsFilter) -> Option<Selection> {
        let event_type = match filter.event_type.as_deref() {
            Some(name) => Some(self.event_types.id(name)?),
            None => None,
        };
        let organization = match filter.organization_id.as_deref() {
            Some(name) => Some(self.organizations.id(name)?),
            None => None,
        };
        Some(Selection {
            event_type,
            organization,
        })
    }

    /// The selected cells of each hour in `hours`, oldest hour first.
    fn cells(
        &self,
        hours: Hours,
        selection: Selection,
    ) -> impl Iterator<Item = (DateTime<Utc>, impl Iterator<Item = &Cell> + '_)> + '_ {
        self.hours.range(hours).map(move |(hour, cells)| {
            let cells = narrow(cells, selection)
                .iter()
                .filter(move |cell| selection.organization.is_none_or(|o| cell.organization == o));
            (*hour, cells)
        })
    }
}

/// The cells of one hour a selection may match: the run of its event type, then of its
/// organization within it, found by binary search (an organization alone is not narrowed).
fn narrow(cells: &[Cell], selection: Selection) -> &[Cell] {
    let Some(event_type) = selection.event_type else {
        return cells;
    };
    let cells = run(cells, |cell| cell.event_type, event_type);
    match selection.organization {
        Some(organization) => run(cells, |cell| cell.organization, organization),
        None => cells,
    }
}

/// The cells whose `field` is `value`, in cells sorted by it.
fn run(cells: &[Cell], field: impl Fn(&Cell) -> u32, value: u32) -> &[Cell] {
    let start = cells.partition_point(|cell| field(cell) < value);
    let end = start + cells[start..].partition_point(|cell| field(cell) == value);
    &cells[start..end]
}

#[cfg(test)]
mod tests;
